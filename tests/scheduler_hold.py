"""The app with one more check, for tests that kill a scheduler in the middle of a job.

`flask --app tests.scheduler_hold scheduler once checks ...` runs the real job with this check
registered last. When HOLD_FILE is set, the check (by then every real check has written its
flags into the run's transaction) writes how many flags that transaction holds into the file
and waits to be killed. Without HOLD_FILE it does nothing. Nothing outside the tests imports it.
"""

import os
import time
from pathlib import Path

from sqlalchemy import func, select

from audits import checks
from audits.models import Flag
from consortium.core.extensions import db
from wsgi import app  # noqa: F401  (the app `flask --app` finds here)


@checks.check("zz_hold_for_test")
def hold(_as_of):
    path = os.environ.get("HOLD_FILE")
    if not path:
        return
    db.session.flush()
    written = db.session.scalar(select(func.count()).select_from(Flag))
    partial = Path(path + ".partial")
    partial.write_text(str(written))
    partial.rename(path)  # the test sees the whole number or nothing
    while True:
        time.sleep(1)
