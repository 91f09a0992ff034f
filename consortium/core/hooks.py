"""Work a higher layer does when a lower layer changes something, in the same transaction.

A return is submitted in `contracts`, but the flag saying it is overdue belongs to `audits`,
which contracts may not import. So the lower layer names what happened
(`hooks.run("return_submitted", monitoring_return=...)`) and the higher layer says, when the app
is built, what follows from it (`hooks.add(app, "return_submitted", resolve_overdue)`).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app, has_app_context


def add(app: Flask, name: str, action: Callable[..., None]) -> None:
    app.extensions.setdefault("hooks", {}).setdefault(name, []).append(action)


def run(name: str, **details) -> None:
    if has_app_context():
        for action in current_app.extensions.get("hooks", {}).get(name, []):
            action(**details)
