"""The service's menu for each role: few enough items to sit on one line, one of them current
(the service's name in the header is the way home).

Each item names the endpoints (or their prefixes) it stands for; the current item is the one
whose name matches the page's endpoint most closely, so a page is never under two items.
"""

from __future__ import annotations

CONSORTIUM = (
    "core.consortia",
    "core.consortium",
    "core.add_member",
    "core.end_member",
    "core.membership_request",
    "core.decide_membership_request",
)
PLACEMENTS = (
    "contracts.placement",
    "contracts.new_placement",
    "contracts.end_placement",
    "contracts.change_fee",
    "contracts.review_placement",
    "contracts.export_placements",
    "cofunding.new_contribution",
    "cofunding.end_contribution",
)
PROVIDERS = ("providers.", "contracts.homes_in_use")
FLAGS = ("audits.flag", "audits.act", "audits.export_flags")

MENUS: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {
    "admin": [
        ("Consortia", "core.consortia", CONSORTIUM),
        (
            "Users",
            "core.users",
            ("core.user", "core.new_user", "core.reset_password", "core.deactivate_user", "core.reactivate_user"),
        ),
        ("Authorities", "core.authorities", ("core.authorit",)),
        ("Providers", "providers.providers", PROVIDERS),
        ("Flags", "audits.flags", FLAGS),
        ("Audit log", "audits.audit_log", ("audits.audit_log", "audits.export_audit_log")),
        ("Jobs", "audits.job_runs", ("audits.job_runs",)),
    ],
    "lead": [
        ("Dashboard", "dashboards.dashboard", ("dashboards.",)),
        ("Referrals", "referrals.referrals", ("referrals.",)),
        ("Sufficiency", "sufficiency.sufficiency", ("sufficiency.",)),
        ("Placements", "contracts.placements", PLACEMENTS),
        ("Contracts", "contracts.contracts", ("contracts.", "cofunding.funding_shares")),
        ("Returns", "returns.schedule", ("returns.",)),
        ("Providers", "providers.providers", PROVIDERS),
        ("Flags", "audits.flags", FLAGS),
        ("Recharges", "recharges.pools", ("recharges.", "core.cofunder")),
        (
            "Consortium",
            "core.consortia",
            CONSORTIUM + ("audits.audit_log", "audits.export_audit_log", "audits.job_runs"),
        ),
    ],
    "partner": [
        ("Dashboard", "dashboards.dashboard", ("dashboards.",)),
        ("Referrals", "referrals.referrals", ("referrals.",)),
        ("Sufficiency", "sufficiency.sufficiency", ("sufficiency.",)),
        ("Placements", "contracts.placements", PLACEMENTS),
        ("Contracts", "contracts.contracts", ("contracts.",)),
        ("Returns", "returns.schedule", ("returns.",)),
        ("Providers", "providers.providers", PROVIDERS),
        ("Flags", "audits.flags", FLAGS),
        ("Usage and recharges", "recharges.partner_usage", ("recharges.",)),
        ("Consortia", "core.consortia", CONSORTIUM),
    ],
    "provider": [
        ("Dashboard", "dashboards.dashboard", ("dashboards.",)),
        ("Referrals", "referrals.invitations", ("referrals.",)),
        ("Contracts", "contracts.contracts", ("contracts.",)),
        ("Returns", "returns.schedule", ("returns.",)),
        ("Providers", "providers.providers", PROVIDERS),
        ("Flags", "audits.flags", FLAGS),
    ],
    "cofunder": [
        ("What you fund", "recharges.funding", ("recharges.",)),
    ],
}


def navigation(role: str, endpoint: str | None) -> list[tuple[str, str, bool]]:
    """(text, endpoint, current) for each item of the role's menu."""
    items = MENUS.get(role, [])
    endpoint = endpoint or ""
    matches = [
        (len(prefix), n)
        for n, (_, _, prefixes) in enumerate(items)
        for prefix in prefixes
        if endpoint.startswith(prefix)
    ]
    current = max(matches)[1] if matches else None
    return [(text, target, n == current) for n, (text, target, _) in enumerate(items)]
