"""`make load`: simulated users of every role browsing the service under gunicorn on PostgreSQL
(a measurement, not a test).

It creates a PostgreSQL database of its own (dropped at the end unless --keep), builds it with
`flask db upgrade` and `flask demo seed`, starts gunicorn on 127.0.0.1 with the production
settings, and starts the users one by one over the ramp-up. Each signs in through the real form
(its CSRF token and session cookie, as a browser would) with a demo account of its role, then
browses until the time is up (after an unmeasured warm-up in which each worker process renders
each page once): a page from the navigation, or a link on the page it is looking at
(lists, filters, contracts, homes, providers, flags, placements, statements; downloads left out),
waiting 1 to 3 seconds between pages as a person reading would. Many users share each demo
account; none signs out (that would end the account's sessions on every device).

A request is an error if it fails or answers other than expected (a page: 200; the sign-in: a
redirect home). Prints requests, errors and p50/p95/max against the budget (no errors, p95 of all
requests under 500 ms), exits 1 if it is not met, and writes bench/load-results.json.

    .venv/bin/python bench/load.py [--users 50] [--duration 60] [--ramp 10] [--workers 5]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
PASSWORD = "demo-password"
# Of every ten users: four leads, three partners, two provider staff, one administrator.
ROLES = ["lead", "lead", "partner", "provider", "lead", "partner", "provider", "lead", "partner", "admin"]
ACCOUNTS = {
    "lead": "lead@demo.test",
    "partner": "partner@demo.test",
    "provider": "provider@demo.test",
    "admin": "admin@demo.test",
}
BUDGET = {"errors": 0, "p95_ms": 500}
NAVIGATION = re.compile(r'class="govuk-service-navigation__link" href="([^"]+)"')
LINK = re.compile(r'href="(/[^"#]*)"')
NOT_BROWSED = re.compile(r"export|\.csv|\.xlsx|\.pdf|/static/|sign-out|^/account")


@dataclass
class Sample:
    label: str
    role: str
    ms: float
    ok: bool
    status: int
    at: float


@dataclass
class Results:
    samples: list[Sample] = field(default_factory=list)
    problems: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, sample: Sample, problem: str | None = None) -> None:
        with self.lock:
            self.samples.append(sample)
            if problem:
                self.problems[problem] += 1


class Browser:
    """One simulated person: a cookie jar and plain HTTP/1.1 to the server (a new connection per
    request, as gunicorn's sync workers close each one). Cookies marked Secure are sent back over
    plain HTTP here, as a proxy ending TLS in front of the service would pass them on."""

    def __init__(self, port: int, role: str, results: Results):
        self.port, self.role, self.results = port, role, results
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, label: str, expect: int, body: dict | None = None
    ) -> tuple[int, str, str]:
        headers = {"Host": f"127.0.0.1:{self.port}", "User-Agent": "placements-load/1", "Accept": "text/html"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            data = urlencode(body).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        status, text, location, problem = 0, "", "", None
        try:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            try:
                connection.request(method, path, body=data, headers=headers)
                response = connection.getresponse()
                text = response.read().decode("utf-8", errors="replace")
                status, location = response.status, response.getheader("Location") or ""
                for header in response.headers.get_all("Set-Cookie") or []:
                    for name, morsel in SimpleCookie(header).items():
                        if morsel.value == "" or "1970" in morsel["expires"]:
                            self.cookies.pop(name, None)
                        else:
                            self.cookies[name] = morsel.value
            finally:
                connection.close()
        except (OSError, http.client.HTTPException) as error:
            problem = f"{label}: {type(error).__name__}"
        ms = (time.perf_counter() - started) * 1000
        if problem is None and status != expect:
            problem = f"{label}: {status}" + (f" to {urlsplit(location).path}" if location else "")
        self.results.add(Sample(label, self.role, ms, problem is None, status, time.time()), problem)
        return status, text, location

    def sign_in(self, email: str) -> bool:
        _status, page, _ = self.request("GET", "/sign-in", "GET /sign-in", 200)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
            r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', page
        )
        if token is None:
            self.results.add(
                Sample("POST /sign-in", self.role, 0, False, 0, time.time()), "sign-in form without a CSRF token"
            )
            return False
        status, _, location = self.request(
            "POST",
            "/sign-in",
            "POST /sign-in",
            302,
            {"csrf_token": token.group(1), "email": email, "password": PASSWORD},
        )
        return status == 302 and urlsplit(location).path == "/"


def label_of(path: str) -> str:
    """/contracts/12 -> /contracts/N; /homes/SC910001 -> /homes/URN; queries kept by name only."""
    parts = urlsplit(path)
    label = re.sub(r"/SC\d+", "/URN", parts.path)
    label = re.sub(r"/E\d{8}", "/CODE", label)
    label = re.sub(r"/\d{4}-Q\d", "/QUARTER", label)
    label = re.sub(r"/\d+", "/N", label)
    if parts.query:
        label += "?" + "&".join(sorted(q.split("=")[0] for q in parts.query.split("&")))
    return label


def user(number: int, port: int, start_at: float, end_at: float, results: Results) -> None:
    role = ROLES[number % len(ROLES)]
    rng = random.Random(number)
    time.sleep(max(0.0, start_at - time.time()))
    browser = Browser(port, role, results)
    if not browser.sign_in(ACCOUNTS[role]):
        return
    _status, page, _ = browser.request("GET", "/", "GET /", 200)
    navigation = [p for p in dict.fromkeys(NAVIGATION.findall(page)) if not NOT_BROWSED.search(p)] or ["/"]
    while time.time() < end_at:
        time.sleep(rng.uniform(1.0, 3.0))
        if time.time() >= end_at:
            break
        links = [p for p in dict.fromkeys(LINK.findall(page)) if not NOT_BROWSED.search(p)]
        path = rng.choice(links) if links and rng.random() < 0.6 else rng.choice(navigation)
        path = path.replace("&amp;", "&")
        status, body, _ = browser.request("GET", path, "GET " + label_of(path), 200)
        if status == 200:
            page = body


def warm_up(port: int, workers: int) -> int:
    """Every worker process renders every page once before the measurement (Jinja compiles a
    template the first time a process uses it): one sign-in per role, then `workers` browsers
    at once fetch each navigation page. Returns how many of these requests failed."""
    results = Results()
    for role, email in ACCOUNTS.items():
        first = Browser(port, role, results)
        if not first.sign_in(email):
            continue
        _status, page, _ = first.request("GET", "/", "warm-up", 200)
        navigation = [p for p in dict.fromkeys(NAVIGATION.findall(page)) if not NOT_BROWSED.search(p)]

        def fetch_all(cookies=dict(first.cookies), role=role, navigation=navigation):
            browser = Browser(port, role, results)
            browser.cookies = dict(cookies)
            for path in navigation:
                browser.request("GET", path, "warm-up", 200)

        threads = [threading.Thread(target=fetch_all) for _ in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return sum(not s.ok for s in results.samples)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))] if ordered else 0.0


def summary(samples: list[Sample]) -> dict:
    ms = [s.ms for s in samples]
    return {
        "requests": len(samples),
        "errors": sum(not s.ok for s in samples),
        "p50_ms": round(percentile(ms, 50), 1),
        "p95_ms": round(percentile(ms, 95), 1),
        "max_ms": round(max(ms), 1) if ms else 0.0,
        "mean_ms": round(statistics.fmean(ms), 1) if ms else 0.0,
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run(command: list[str], env: dict) -> None:
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")


def psql(admin_url: str, sql: str) -> None:
    run(
        [
            shutil.which("psql") or "psql",
            "--no-psqlrc",
            "--quiet",
            "--set=ON_ERROR_STOP=1",
            f"--dbname={admin_url}",
            f"--command={sql}",
        ],
        dict(os.environ),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=int, default=60, help="seconds of browsing once every user has started")
    parser.add_argument("--ramp", type=int, default=10, help="seconds over which the users start")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1, help="gunicorn sync workers")
    parser.add_argument(
        "--admin-url",
        default=os.environ.get("LOAD_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL database to connect to while creating and dropping the load database",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--output", default=str(HERE / "load-results.json"))
    args = parser.parse_args()
    args.load_at_start = os.getloadavg()  # other work on the machine shows in the figures

    name = f"mpc_load_{uuid.uuid4().hex[:8]}"
    database = urlsplit(args.admin_url)._replace(path=f"/{name}").geturl()
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "APP_ENV": "production",
        "SECRET_KEY": secrets.token_hex(32),
        "LOG_LEVEL": "WARNING",
    }
    env.pop("TEST_DATABASE_URL", None)
    port = free_port()
    log = HERE / "load-gunicorn.log"
    server = None
    psql(args.admin_url, f"CREATE DATABASE {name}")
    try:
        started = time.perf_counter()
        run([str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"], env)
        run([str(BIN / "flask"), "--app", "wsgi", "demo", "seed"], env)
        print(f"database {name}: migrated and seeded in {time.perf_counter() - started:.1f} s")
        with log.open("w") as log_file:
            server = subprocess.Popen(
                [
                    str(BIN / "gunicorn"),
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    str(args.workers),
                    "--worker-class",
                    "sync",
                    "--timeout",
                    "60",
                    "--error-logfile",
                    "-",
                    "wsgi:app",
                ],
                cwd=ROOT,
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.time() + 60
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", "/sign-in")
                if connection.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.time() > deadline or server.poll() is not None:
                raise SystemExit(f"gunicorn did not start; see {log}")
            time.sleep(0.2)
        failed = warm_up(port, args.workers)
        print("warm-up: every page once per worker, not counted" + (f" ({failed} requests failed)" if failed else ""))
        print(
            f"gunicorn on 127.0.0.1:{port} with {args.workers} sync workers; "
            f"{args.users} users over {args.ramp} s, then {args.duration} s of browsing"
        )

        results = Results()
        begin = time.time() + 0.5
        end_at = begin + args.ramp + args.duration
        threads = [
            threading.Thread(
                target=user, args=(n, port, begin + n * args.ramp / args.users, end_at, results), daemon=True
            )
            for n in range(args.users)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=args.ramp + args.duration + 120)
        elapsed = time.time() - begin
    finally:
        if server is not None and server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        if not args.keep:
            psql(args.admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    report(results, args, elapsed, name if args.keep else None)


def report(results: Results, args, elapsed: float, kept: str | None) -> None:
    samples = results.samples
    pages = [s for s in samples if "sign-in" not in s.label]
    overall = summary(samples)
    by_role = {role: summary([s for s in pages if s.role == role]) for role in ACCOUNTS}
    by_page = defaultdict(list)
    for sample in samples:
        by_page[sample.label].append(sample)
    per_page = {label: summary(group) for label, group in by_page.items()}
    output = {
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_at_start": args.load_at_start,
            "load_average_at_end": os.getloadavg(),
        },
        "settings": {"users": args.users, "ramp_s": args.ramp, "duration_s": args.duration, "workers": args.workers},
        "elapsed_s": round(elapsed, 1),
        "requests_per_s": round(len(samples) / elapsed, 1) if elapsed else 0,
        "all": overall,
        "sign_in": summary([s for s in samples if "sign-in" in s.label]),
        "pages": summary(pages),
        "by_role": by_role,
        "by_page": per_page,
        "problems": dict(results.problems),
        "budget": BUDGET,
    }
    Path(args.output).write_text(json.dumps(output, indent=2) + "\n")

    print(f"\n{len(samples)} requests in {elapsed:.0f} s ({output['requests_per_s']}/s), {overall['errors']} errors")
    print(f"{'':28} {'requests':>8} {'errors':>6} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7}")
    rows = [("all", overall), ("pages", output["pages"]), ("sign-in (GET and POST)", output["sign_in"])]
    rows += [(f"pages as {role}", figures) for role, figures in by_role.items()]
    for title, figures in rows:
        print(
            f"{title:28} {figures['requests']:>8} {figures['errors']:>6} "
            f"{figures['p50_ms']:>7} {figures['p95_ms']:>7} {figures['max_ms']:>7}"
        )
    print("\nslowest pages by p95 (at least 10 requests):")
    common = sorted(
        ((label, f) for label, f in per_page.items() if f["requests"] >= 10), key=lambda item: -item[1]["p95_ms"]
    )
    for label, figures in common[:8]:
        print(
            f"  {label:40} {figures['requests']:>6} "
            f"{figures['p50_ms']:>7} {figures['p95_ms']:>7} {figures['max_ms']:>7}"
        )
    for problem, count in sorted(results.problems.items(), key=lambda item: -item[1]):
        print(f"  error x{count}: {problem}")
    met = overall["errors"] <= BUDGET["errors"] and overall["p95_ms"] < BUDGET["p95_ms"]
    print(
        f"\nbudget: no errors and p95 under {BUDGET['p95_ms']} ms: {'met' if met else 'NOT MET'}"
        + (f"; database {kept} kept" if kept else "")
        + f"; figures in {args.output}"
    )
    if not met:
        sys.exit(1)


if __name__ == "__main__":
    main()
