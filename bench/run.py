"""`make bench`: pages and jobs measured against a national-scale database (a measurement, not a test).

Uses the database in DATABASE_URL if set (PostgreSQL, say), else a SQLite file in
bench/national.db; either is filled with `flask demo seed --scale national` if empty. Pages are
requested in-process with a signed-in client: 30 times each after a warm-up, server time p50 and
p95, SQL statements per request, and the ratio to the floor (a page that signs in, runs one
indexed query and renders a small page in the service's layout). Jobs are run twice: the first,
rolled back, gives peak Python memory (tracemalloc); the second, kept, gives the seconds. Writes
bench/results.json and prints a table with the budgets.
"""

from __future__ import annotations

import csv
import gc
import io
import json
import os
import statistics
import sys
import time
import tracemalloc
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("DATABASE_URL", f"sqlite:///{HERE / 'national.db'}")
os.environ.setdefault("LOG_LEVEL", "WARNING")

from flask import Blueprint, render_template  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import event, func, select  # noqa: E402

from audits import checks  # noqa: E402
from audits.jobs import referrals_work  # noqa: E402
from consortium.app import create_app  # noqa: E402
from consortium.core.access import allowed, scoped  # noqa: E402
from consortium.core.extensions import db  # noqa: E402
from consortium.core.models import Authority, Consortium, User  # noqa: E402
from consortium.core.tabular import read_table  # noqa: E402
from consortium.dashboards.report import report_pdf  # noqa: E402
from consortium.recharges import services as recharges  # noqa: E402
from consortium.recharges.models import CostPool, Statement  # noqa: E402
from consortium.recharges.pdf import statement_pdf  # noqa: E402
from consortium.sufficiency import forecast as fc  # noqa: E402
from consortium.sufficiency import snapshots  # noqa: E402
from contracts import imports  # noqa: E402
from contracts.models import Contract, Placement  # noqa: E402
from contracts.referrals.models import Offer, Referral, ReferralInvitation  # noqa: E402
from providers import ofsted  # noqa: E402
from providers.models import Home, Provider  # noqa: E402

REQUESTS = 30
BUDGET = {
    "p95_ms": 150,
    "x_floor": 10,
    "queries": 20,
    "checks": 10,
    "recharge previews": 2,
    "ofsted import": 5,
    "placements import": 60,
    "placements import MB": 400,
    "referrals_job": 0.5,
    "forecast": 1,
    "sufficiency_nightly": 60,
    "pdf": 0.5,
}


class Counter:
    def __init__(self):
        self.count = 0

    def __call__(self, *args, **kwargs):
        self.count += 1


def build_app():
    # As a production server runs: debug off and templates read once (with debug on, every
    # render asks the disk whether each template changed).
    app = create_app(
        {"WTF_CSRF_ENABLED": False, "LOG_LEVEL": "WARNING", "DEBUG": False, "TEMPLATES_AUTO_RELOAD": False}
    )
    # The floor is a page like every other: the service's layout around almost nothing, from a
    # template file compiled once (a template string is compiled anew at every request).
    bench = Blueprint("bench", __name__, template_folder=str(HERE / "templates"))

    @bench.get("/bench/floor")
    @allowed("lead", "partner", "provider", "admin")
    def floor():
        authority = scoped(Authority).get_or_404("E09100000")
        return render_template("bench/floor.html", a=authority)

    app.register_blueprint(bench)
    return app


def signed_in(app, email):
    client = app.test_client()
    with app.app_context():
        token = db.session.scalar(select(User.session_token).where(User.email == email))
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"] = token, True
    return client


def measure(app, client, url, counter):
    client.get(url)  # warm-up
    times, queries = [], []
    for _ in range(REQUESTS):
        counter.count = 0
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        queries.append(counter.count)
        assert response.status_code == 200, f"{url}: {response.status_code}"
    times.sort()
    return {
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[int(0.95 * len(times)) - 1], 1),
        "queries": max(queries),
    }


def timed(function):
    """Peak Python memory from a first run that is rolled back (tracemalloc slows allocation-heavy
    code several times over), then the seconds of a second run without it, which is kept."""
    tracemalloc.start()
    savepoint = db.session.begin_nested()
    function()
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    savepoint.rollback()
    db.session.expire_all()
    started = time.perf_counter()
    result = function()
    db.session.commit()
    return result, {"seconds": round(time.perf_counter() - started, 2), "peak_mb": round(peak, 1)}


def main():
    app = build_app()
    counter = Counter()
    with app.app_context():
        upgrade()
        if not db.session.scalar(select(func.count()).select_from(Placement)):
            from consortium import national

            print("Seeding national-scale data ...", flush=True)
            started = time.perf_counter()
            national.seed(date.today())
            db.session.commit()
            print(f"seeded in {time.perf_counter() - started:.0f} s", flush=True)
        vacuum()
        event.listen(db.engine, "before_cursor_execute", counter)
        today = date.today()
        jobs = {}
        _, jobs["checks"] = timed(lambda: checks.run(today))
        year = date(today.year - (1 if today.month >= 4 else 2), 4, 1)
        consortia = db.session.scalars(select(Consortium)).all()
        _, jobs["recharge previews"] = timed(
            lambda: [
                recharges.preview(c, year, date(year.year + 1, 3, 31), 20_000_000, "placements", 50) for c in consortia
            ]
        )
        lead = db.session.scalar(select(User).where(User.role == "lead").order_by(User.id))
        partner = db.session.scalar(select(User).where(User.role == "partner").order_by(User.id))
        provider = db.session.scalar(select(User).where(User.role == "provider").order_by(User.id))
        block = db.session.scalar(
            select(Contract)
            .where(
                Contract.kind == "block",
                Contract.consortium_id == lead.consortium_id,
                Contract.start_date < today - timedelta(days=400),
            )
            .order_by(Contract.id)
        )
        home = db.session.scalar(select(Home).order_by(Home.id))
        provider_row = db.session.scalar(select(Provider).where(Provider.id == block.provider_id))
        pool = db.session.scalar(
            select(CostPool).where(CostPool.consortium_id == lead.consortium_id).order_by(CostPool.id)
        )
        statement = db.session.scalar(select(Statement).where(Statement.pool_id == pool.id))
        pages_count = db.session.scalar(
            select(func.count()).where(
                Placement.contract_id.in_(select(Contract.id).where(Contract.consortium_id == lead.consortium_id))
            )
        )
        _, jobs["statement pdf"] = timed(lambda: statement_pdf(statement))
        _, jobs["monitoring report pdf"] = timed(lambda: report_pdf(block, "2024-Q1", lead))
        ofsted_rows = [
            [
                "URN",
                "Provision type",
                "Setting name",
                "Organisation which owns the provider",
                "Local authority",
                "Places",
                "Registration status",
                "Inspection date",
                "Overall experiences and progress of children and young people",
            ]
        ]
        ofsted_rows += [
            [
                f"SC{800000 + n:06d}",
                "Children's home",
                f"New home {n}",
                f"Provider {n % 2500 + 1:04d} Ltd",
                "Shire 001",
                3,
                "Active",
                (today - timedelta(days=n % 700)).isoformat(),
                "Good",
            ]
            for n in range(4000)
        ]
        _, jobs["ofsted import"] = timed(
            lambda: ofsted.import_file(read_table(_csv(ofsted_rows), "bench.csv", **ofsted.COLUMNS))
        )
        codes = db.session.scalars(select(Authority.code).order_by(Authority.code)).all()
        placement_rows = [
            [
                "authority_code",
                "child_ref",
                "contract_ref",
                "home_urn",
                "start_date",
                "end_date",
                "weekly_fee",
                "placement_type",
                "distance_miles",
            ]
        ]
        placement_rows += [
            [
                codes[n % len(codes)],
                f"BENCH-{n:06d}",
                "",
                f"SC{500000 + n % 4000:06d}",
                (today - timedelta(days=n % 900)).isoformat(),
                "",
                "5200.00",
                "residential",
                "12.5",
            ]
            for n in range(100_000)
        ]
        data = _csv(placement_rows)
        _, jobs["placements import"] = timed(
            lambda: imports.import_placements(read_table(data, "bench.csv", **imports.PLACEMENT_COLUMNS))
        )
        # The imports rewrote the usage summary (a delete and an insert per authority touched).
        vacuum()
        # A web worker holds no 100,000-row files: without this, collecting them slowed every page.
        ofsted_rows = placement_rows = data = None
        gc.collect()
        # The 5-minute job at a slot of its own: deadlines passed, offers lapsed, the next tiers invited.
        _, jobs["referrals_job"] = timed(lambda: referrals_work(datetime.now(timezone.utc)))
        _, jobs["sufficiency_nightly"] = timed(lambda: snapshots.refresh(today))
        scope = fc.consortium_scope(db.session.get(Consortium, lead.consortium_id), today)
        _, jobs["forecast"] = timed(lambda: fc.forecast(scope, "residential", today))
        offered = (
            select(Offer.referral_id)
            .join(Referral, Referral.id == Offer.referral_id)
            .where(Offer.status == "standing", Referral.consortium_id == lead.consortium_id)
            .group_by(Offer.referral_id)
            .order_by(func.count().desc(), Offer.referral_id)
            .limit(1)
        )
        ranked_referral = db.session.scalar(offered)
        referrer = db.session.scalar(
            select(User).where(
                User.role == "partner", User.authority_code == Referral.authority_code, Referral.id == ranked_referral
            )
        )
        invited = db.session.scalar(
            select(User)
            .join(ReferralInvitation, ReferralInvitation.provider_id == User.provider_id)
            .where(User.role == "provider")
            .group_by(User.id)
            .order_by(func.count().desc(), User.id)
            .limit(1)
        )
        last_page = max(1, -(-pages_count // app.config["PAGE_SIZE"]))
        urls = {
            "floor": ("/bench/floor", lead.email),
            "lead dashboard": ("/dashboard", lead.email),
            "partner dashboard": ("/dashboard", partner.email),
            "provider dashboard": ("/dashboard", provider.email),
            "flags list": ("/flags", lead.email),
            "placements first page": ("/placements", lead.email),
            "placements last page": (f"/placements?page={last_page}", lead.email),
            "block contract": (f"/contracts/{block.id}", lead.email),
            "home page": (f"/homes/{home.urn}", lead.email),
            "provider page": (f"/providers/{provider_row.id}", lead.email),
            "statements list": (f"/recharges/{pool.id}", lead.email),
            "returns of a contract": (f"/contracts/{block.id}/returns", lead.email),
            "referrals list": ("/referrals", referrer.email),
            "referral with offers": (f"/referrals/{ranked_referral}", referrer.email),
            "provider invitations": ("/invitations", invited.email),
            "vacancy board": ("/vacancies", referrer.email),
            "sufficiency": ("/sufficiency", lead.email),
        }
    pages = {}
    for name, (url, email) in urls.items():
        pages[name] = measure(app, signed_in(app, email), url, counter)
    floor = pages["floor"]["p50_ms"] or 1
    for result in pages.values():
        result["x_floor"] = round(result["p50_ms"] / floor, 1)
    results = {"database": app.config["SQLALCHEMY_DATABASE_URI"].split(":")[0], "pages": pages, "jobs": jobs}
    (HERE / "results.json").write_text(json.dumps(results, indent=2))
    print(f"\n{'page':28} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8} {'x floor':>8}")
    for name, r in pages.items():
        ok = r["p95_ms"] <= BUDGET["p95_ms"] and r["x_floor"] <= BUDGET["x_floor"] and r["queries"] <= BUDGET["queries"]
        print(
            f"{name:28} {r['p50_ms']:8} {r['p95_ms']:8} {r['queries']:8} {r['x_floor']:8}  "
            f"{'ok' if ok else 'OVER BUDGET'}"
        )
    print(f"\n{'job':28} {'seconds':>8} {'peak MB':>8}")
    for name, r in jobs.items():
        limit = BUDGET["pdf"] if "pdf" in name else BUDGET.get(name)
        ok = r["seconds"] <= limit and (name != "placements import" or r["peak_mb"] <= BUDGET["placements import MB"])
        print(f"{name:28} {r['seconds']:8} {r['peak_mb']:8}  {'ok' if ok else 'OVER BUDGET'}")


def vacuum():
    """On PostgreSQL, planner statistics and the visibility map as autovacuum leaves them on a live
    database (this machine's server runs with autovacuum off): dead rows left by a large rewrite
    make planning the dashboard's queries slow (docs/performance.md)."""
    if db.engine.dialect.name == "postgresql":
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")


def _csv(rows) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


if __name__ == "__main__":
    main()
