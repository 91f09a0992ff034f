"""How long a large Ofsted file takes to import (a measurement, not a test).

Builds a history file of N rows (default 5,000: about 1,700 homes with three inspections
each) in a fresh SQLite database under a temporary folder, imports it, then imports it again
(nothing to change), and prints the times. Run: .venv/bin/python bench/ofsted_import.py [ROWS]
"""

import csv
import io
import os
import sys
import tempfile
import time
from datetime import date, timedelta

JUDGEMENTS = ["Outstanding", "Good", "Good", "Good", "Requires improvement to be good", "Inadequate"]
HEADER = [
    "URN",
    "Provision type",
    "Setting name",
    "Organisation which owns the provider",
    "Local authority",
    "Places",
    "Registration status",
    "Inspection event type",
    "Inspection date",
    "Overall experiences and progress of children and young people",
]


def ofsted_file(rows: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for n in range(rows):
        home, visit = divmod(n, 3)
        day = date(2021, 4, 1) + timedelta(days=365 * visit + home % 300)
        writer.writerow(
            [
                f"SC{800000 + home:06d}",
                "Children's home",
                f"Home {home}",
                f"Provider {home % 400} Ltd",
                f"Area {home % 150}",
                1 + home % 6,
                "Active",
                "Full inspection",
                day.strftime("%d/%m/%Y"),
                JUDGEMENTS[(home * 7 + visit) % len(JUDGEMENTS)],
            ]
        )
    return out.getvalue().encode()


def main(rows: int) -> None:
    folder = tempfile.mkdtemp()
    os.environ["INSTANCE_PATH"] = folder
    os.environ["DATABASE_URL"] = os.environ.get("DATABASE_URL") or f"sqlite:///{folder}/bench.db"
    from flask_migrate import upgrade

    from consortium.app import create_app
    from consortium.core.extensions import db
    from consortium.core.tabular import read_table
    from providers import ofsted

    app = create_app({"LOG_LEVEL": "WARNING"})
    data = ofsted_file(rows)
    with app.app_context():
        upgrade()
        for attempt in ("first import", "same file again"):
            started = time.perf_counter()
            result = ofsted.import_file(read_table(data, "bench.csv", **ofsted.COLUMNS))
            db.session.commit()
            seconds = time.perf_counter() - started
            print(f"{attempt}: {rows:,} rows in {seconds:.2f} s ({result.summary()}; {result.details})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
