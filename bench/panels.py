#!/usr/bin/env python
"""How fast the panels answer on a district's data: p50/p95 per view, against a gunicorn server.

The data set comes from `manage.py generate_district` (about 20,000 pupils, 5,000 cases, 100,000
plan follow-ups across 30 units). Its manifest names the district's platform (its private key lies
beside it) and who to launch as. This script plays that platform: for each person it makes a real
LTI 1.3 launch over HTTP, as a browser would, with a fresh cookie jar —

    POST /lti/login/      the platform's login initiation (the tool stores the state, redirects)
         (platform)       sign an RS256 id_token with the tool's nonce, Moodle-shaped claims
    POST /lti/launch/     the tool verifies it and starts the session
    GET  /app/<launch>/   the landing page

— and then times GETs of each panel in that session:

    course panel   a teacher launching from a course (its roster: about 26 pupils)
    case panel     the special teacher of the first unit, over that unit's cases (the heaviest first)
    caseload       the area principal (about 1,000 cases in reach): unfiltered, and with filters
    my tasks       the teacher, the special teacher and the principal

Targets on this machine at concurrency 1: every panel p95 < 30 ms, the caseload p95 < 60 ms.

    python bench/panels.py --setup --start               # fresh database, generate, start gunicorn, measure
    python bench/panels.py --start                       # the database is generated already
    python bench/panels.py --url http://127.0.0.1:8000   # a server you started
    python bench/panels.py --queries                     # in this process: queries and SQL time per view
    python bench/panels.py --profile --only "my tasks"   # in this process, under cProfile

The database is the one the environment names (SQLITE_PATH, or DATABASE_URL for PostgreSQL), as for
manage.py; see bench/README.md. Needs only `requests` and PyJWT (both dependencies of the tool).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit, urlunsplit

import jwt
import requests

REPO = Path(__file__).resolve().parent.parent
CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
PANEL_TARGET_MS = 30.0
CASELOAD_TARGET_MS = 60.0


class BenchFailed(Exception):
    pass


# -- the district's platform ------------------------------------------------------------------------


@dataclass
class Platform:
    """The generated district's LMS: its issuer, client id, deployment and signing key (from the manifest)."""

    issuer: str
    client_id: str
    deployment_id: str
    kid: str
    private_pem: str

    @classmethod
    def from_manifest(cls, manifest: dict[str, Any], directory: Path) -> Platform:
        data = manifest["platform"]
        return cls(issuer=data["issuer"], client_id=data["client_id"], deployment_id=data["deployment_id"],
                   kid=data["kid"], private_pem=(directory / data["key_file"]).read_text())

    def id_token(self, *, tool: str, nonce: str, person: dict[str, Any]) -> str:
        """An id_token shaped as Moodle 4.5 shapes it (shared/fixtures/moodle), for a resource link."""
        now = int(time.time())
        course = person["course"]
        given, _, family = person["name"].partition(" ")
        claims = {
            "nonce": nonce, "iat": now, "exp": now + 60, "iss": self.issuer, "aud": self.client_id,
            "sub": person["sub"], "given_name": given, "family_name": family, "name": person["name"],
            CLAIM + "deployment_id": self.deployment_id,
            CLAIM + "target_link_uri": tool + "/lti/launch/",
            CLAIM + "message_type": "LtiResourceLinkRequest",
            CLAIM + "version": "1.3.0",
            CLAIM + "roles": [INSTRUCTOR],
            CLAIM + "context": {"id": course["id"], "label": course["label"], "title": course["title"],
                                "type": ["CourseSection"]},
            CLAIM + "resource_link": {"id": f"elevstod-{course['id']}", "title": "Elevstöd", "description": ""},
            CLAIM + "launch_presentation": {"locale": "sv", "document_target": "iframe"},
            CLAIM + "tool_platform": {"product_family_code": "moodle", "name": "Norrviks lärplattform"},
        }
        return jwt.encode(claims, self.private_pem, algorithm="RS256", headers={"kid": self.kid, "typ": "JWT"})

    def launch(self, browser: Any, tool: str, person: dict[str, Any]) -> str:
        """One real launch in `browser` (a requests.Session, or the in-process client); the launch id."""
        login = browser.post(tool + "/lti/login/", data={
            "iss": self.issuer, "login_hint": person["sub"], "target_link_uri": tool + "/lti/launch/",
            "client_id": self.client_id, "lti_deployment_id": self.deployment_id,
            "lti_message_hint": json.dumps({"cmid": 1, "launchid": secrets.token_hex(6)})}, allow_redirects=False)
        if login.status_code != 302:
            raise BenchFailed(f"login initiation for {person['sub']}: HTTP {login.status_code}")
        query = parse_qs(urlsplit(login.headers["Location"]).query)
        state, nonce, redirect_uri = query["state"][0], query["nonce"][0], query["redirect_uri"][0]
        token = self.id_token(tool=tool, nonce=nonce, person=person)
        launched = browser.post(redirect_uri, data={"id_token": token, "state": state}, allow_redirects=False)
        if launched.status_code != 302:
            raise BenchFailed(f"launch for {person['sub']}: HTTP {launched.status_code} {launched.text[:300]}")
        landing_url = urljoin(tool + "/", launched.headers["Location"])
        landing = browser.get(landing_url, allow_redirects=False)
        if landing.status_code != 200:
            raise BenchFailed(f"landing page for {person['sub']}: HTTP {landing.status_code}")
        return urlsplit(landing_url).path.rstrip("/").split("/")[-1]


# -- what is measured -------------------------------------------------------------------------------


@dataclass
class Probe:
    """One row of the output: a view, as whom, over which URLs (cycled), against which target."""

    label: str
    view: str  # the URL name, frontend:<view>
    who: str
    paths: list[str]
    target_ms: float
    samples: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    missing: str = ""  # the view is not there (yet): e.g. "HTTP 404"


CASELOAD_FILTERS = ("?level=special_support", "?due=overdue", "?due=soon", "?q=Alva", "?sort=name", "?page=3",
                    "?unit={unit}", "?level=extra_adaptations&sort=due")


def probes(manifest: dict[str, Any], launches: dict[str, str]) -> list[Probe]:
    people = manifest["people"]
    teacher, special, principal = launches["teacher"], launches["special_teacher"], launches["principal"]
    cases = manifest["cases"]
    unit = manifest.get("first_unit", "")
    reach = people["principal"]["cases_in_reach"]
    return [
        Probe(f"course panel (teacher, {people['teacher']['roster']} pupils)", "course", "teacher",
              [f"/app/{teacher}/course/"], PANEL_TARGET_MS),
        Probe(f"case panel (special teacher, {len(cases)} cases)", "case", "special_teacher",
              [f"/app/{special}/cases/{case}/" for case in cases], PANEL_TARGET_MS),
        Probe(f"case panel (principal, {len(cases)} cases)", "case", "principal",
              [f"/app/{principal}/cases/{case}/" for case in cases], PANEL_TARGET_MS),
        Probe(f"caseload (principal, {reach} cases)", "cases", "principal", [f"/app/{principal}/cases/"],
              CASELOAD_TARGET_MS),
        Probe("caseload, filtered/sorted/paged (principal)", "cases", "principal",
              [f"/app/{principal}/cases/{f.format(unit=unit)}" for f in CASELOAD_FILTERS], CASELOAD_TARGET_MS),
        Probe(f"caseload (special teacher, {people['special_teacher']['cases_in_reach']} cases)", "cases",
              "special_teacher", [f"/app/{special}/cases/"], CASELOAD_TARGET_MS),
        Probe("my tasks (teacher)", "tasks", "teacher", [f"/app/{teacher}/tasks/"], PANEL_TARGET_MS),
        Probe("my tasks (special teacher)", "tasks", "special_teacher", [f"/app/{special}/tasks/"], PANEL_TARGET_MS),
        Probe(f"my tasks (principal, {reach} cases)", "tasks", "principal", [f"/app/{principal}/tasks/"],
              PANEL_TARGET_MS),
        Probe("landing page (principal)", "home", "principal", [f"/app/{principal}/"], PANEL_TARGET_MS),
    ]


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (as bench/launches.py)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def measure(probe: Probe, browser: requests.Session, base: str, count: int, warmup: int, budget: float) -> None:
    """`warmup` untimed then `count` timed GETs, cycling the probe's URLs; stops early after `budget` seconds
    (a view taking seconds would otherwise hold the run up for an hour): the output shows n."""
    first = browser.get(base + probe.paths[0], allow_redirects=False)
    if first.status_code in (404, 405):
        probe.missing = f"HTTP {first.status_code}"
        return
    deadline = time.perf_counter() + budget
    for i in range(warmup + count):
        if time.perf_counter() > deadline and len(probe.samples) >= 5:
            break
        path = probe.paths[i % len(probe.paths)]
        started = time.perf_counter()
        try:
            response = browser.get(base + path, allow_redirects=False)
        except requests.RequestException as error:
            probe.failures.append(f"{path}: {error}")
            continue
        took = time.perf_counter() - started
        if response.status_code != 200:
            probe.failures.append(f"{path}: HTTP {response.status_code}")
        elif i >= warmup:
            probe.samples.append(took)


def report(probes_: list[Probe], header: str) -> bool:
    print(header)
    print(f"{'latency in ms':<52}{'n':>6}{'p50':>9}{'p95':>9}{'p99':>9}{'target':>9}  verdict")
    all_met = True
    for probe in probes_:
        if probe.missing:
            print(f"{probe.label:<52}{'':>6}{'—':>9}{'—':>9}{'—':>9}{probe.target_ms:>9.0f}  "
                  f"not measured: frontend:{probe.view} answers {probe.missing}")
            continue
        if len(probe.samples) < 5:
            print(f"{probe.label:<52}{len(probe.samples):>6}  FAILED: {probe.failures[0] if probe.failures else 'no samples'}")
            all_met = False
            continue
        p50, p95, p99 = (percentile(probe.samples, pct) * 1000 for pct in (50, 95, 99))
        met = p95 < probe.target_ms and not probe.failures
        all_met &= met
        verdict = "met" if met else "MISSED"
        if probe.failures:
            verdict += f" ({len(probe.failures)} failed, e.g. {probe.failures[0]})"
        print(f"{probe.label:<52}{len(probe.samples):>6}{p50:>9.1f}{p95:>9.1f}{p99:>9.1f}{probe.target_ms:>9.0f}  "
              f"{verdict}")
    return all_met


# -- the server and its database ----------------------------------------------------------------------


def _database() -> str:
    url = os.environ.get("DATABASE_URL", "")
    # As deployed, REDIS_URL holds the sessions and the cache; without it both are in the database.
    redis = ", sessions and cache in Redis" if os.environ.get("REDIS_URL") else ""
    if url.startswith(("postgres://", "postgresql://")):
        return "PostgreSQL " + urlsplit(url).path.lstrip("/") + redis
    path = os.environ.get("SQLITE_PATH") or str(Path(os.environ.get("ELEVSTOD_DATA_DIR", REPO / "var"))
                                                  / "elevstod.sqlite3")
    return "SQLite " + path + redis


def _manage(*args: str) -> str:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, check=True, capture_output=True,
                          text=True)
    return done.stdout


def fresh_database() -> None:
    """Drop and create the benchmark's database (only one whose name says it is a benchmark's)."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        import psycopg

        parts = urlsplit(url)
        name = parts.path.lstrip("/")
        if "bench" not in name:
            raise BenchFailed(f"--setup drops the database: use one whose name says so (e.g. elevstod_bench), "
                              f"not {name!r}")
        admin = urlunsplit(parts._replace(path="/postgres"))
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        return
    path = Path(_database().removeprefix("SQLite "))
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)


def setup(generate_args: list[str], manifest_dir: Path) -> None:
    print(f"Setting up {_database()} ...", flush=True)
    fresh_database()
    _manage("migrate", "-v0")
    _manage("setup_embedded")
    started = time.perf_counter()
    out = _manage("generate_district", "--out", str(manifest_dir), *generate_args)
    print(out.rstrip())
    print(f"generate_district took {time.perf_counter() - started:.1f} s (wall clock, with Django's start)",
          flush=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(workers: int) -> Iterator[str]:
    """The tool under gunicorn on a free port, with this environment's database; stopped afterwards."""
    port = _free_port()
    env = {**os.environ, "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"), "PYTHONUNBUFFERED": "1"}
    command = [str(Path(sys.executable).parent / "gunicorn"), "lti_plugin.wsgi", "-w", str(workers),
               "-b", f"127.0.0.1:{port}", "--log-level", "warning"]
    process = subprocess.Popen(command, cwd=REPO, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if requests.get(base + "/lti/jwks/", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if process.poll() is not None:
                raise BenchFailed(f"gunicorn exited with {process.returncode}")
            time.sleep(0.1)
        else:
            raise BenchFailed("gunicorn did not answer within 20 s")
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


# -- in process: queries and SQL time per view -----------------------------------------------------------


class QueryLog:
    """Every query a request makes (connection.execute_wrapper: no 9,000-query cap), timed, by shape."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0
        self.shapes: dict[str, list[float]] = {}

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            took = time.perf_counter() - started
            self.count += 1
            self.seconds += took
            shape = " ".join(sql.split())[:110]
            self.shapes.setdefault(shape, []).append(took)

    def top(self, n: int = 3) -> str:
        ranked = sorted(self.shapes.items(), key=lambda item: -sum(item[1]))[:n]
        return "\n".join(f"{'':>8}{len(times):>6}× {sum(times) * 1000:>7.1f} ms  {shape}" for shape, times in ranked)


def _in_process(manifest: dict[str, Any], platform: Platform, base: str) -> tuple[dict[str, Any], list[Probe]]:
    sys.path.insert(0, str(REPO))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lti_plugin.settings")
    import django

    django.setup()
    from launches import InProcessBrowser  # the same flow without sockets (bench/launches.py)

    browsers = {who: InProcessBrowser(base) for who in manifest["people"]}
    launched = {who: platform.launch(browser, base, manifest["people"][who]) for who, browser in browsers.items()}
    return browsers, probes(manifest, launched)


def queries(manifest: dict[str, Any], platform: Platform, base: str, count: int, only: str) -> int:
    """Each view through Django's test client in this process: its queries, their time, the costliest
    query shapes. (SQLite computes rows as they are fetched: its SQL time here is a lower bound.)"""
    browsers, rows = _in_process(manifest, platform, base)
    from django.db import connection

    print(f"In process against {_database()}; each view {count} times (cycling its URLs), the last request's "
          f"queries shown")
    print(f"{'view':<52}{'status':>7}{'p50 ms':>8}{'queries':>9}{'SQL ms':>8}")
    for probe in rows:
        if only and only not in probe.label:
            continue
        took: list[float] = []
        for i in range(count):
            log = QueryLog()
            with connection.execute_wrapper(log):
                started = time.perf_counter()
                response = browsers[probe.who].get(base + probe.paths[i % len(probe.paths)])
                took.append(time.perf_counter() - started)
        print(f"{probe.label:<52}{response.status_code:>7}{percentile(took, 50) * 1000:>8.1f}{log.count:>9}"
              f"{log.seconds * 1000:>8.1f}")
        print(log.top())
    return 0


def profile(manifest: dict[str, Any], platform: Platform, base: str, count: int, only: str) -> int:
    """Each view (or those whose label contains `only`) under cProfile in this process."""
    import cProfile
    import pstats

    browsers, rows = _in_process(manifest, platform, base)
    for probe in rows:
        if only and only not in probe.label:
            continue
        browsers[probe.who].get(base + probe.paths[0])  # warm
        profiler = cProfile.Profile()
        profiler.enable()
        for i in range(count):
            browsers[probe.who].get(base + probe.paths[i % len(probe.paths)])
        profiler.disable()
        print(f"=== {probe.label}: {count} requests under cProfile")
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(r"(frontend|lti_plugin)/", 20)
        stats.sort_stats("tottime").print_stats(8)
    return 0


# -- main ------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    data_dir = Path(os.environ.get("ELEVSTOD_DATA_DIR", REPO / "var"))
    parser.add_argument("--manifest", default=str(data_dir / "district" / "manifest.json"),
                        help="generate_district's manifest (default: <ELEVSTOD_DATA_DIR>/district/manifest.json)")
    parser.add_argument("--url", default="", help="a running server of the tool on the generated database")
    parser.add_argument("--start", action="store_true", help="start gunicorn on this environment's database")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers with --start (default 2)")
    parser.add_argument("--setup", action="store_true",
                        help="first drop and create the database, migrate and run generate_district")
    parser.add_argument("--small", action="store_true", help="with --setup: generate_district --small")
    parser.add_argument("-n", "--requests", type=int, default=200, help="timed requests per view (default 200)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed requests per view first (default 20)")
    parser.add_argument("--budget", type=float, default=60.0,
                        help="seconds per view at most (default 60): a slow view gets fewer samples, n says how many")
    parser.add_argument("--queries", action="store_true",
                        help="instead: each view in this process, with its query count, SQL time, costliest queries")
    parser.add_argument("--profile", action="store_true", help="instead: each view in this process under cProfile")
    parser.add_argument("--only", default="", help="with --queries/--profile: views whose label contains this")
    args = parser.parse_args(argv)

    manifest_path = Path(args.manifest)
    if args.setup:
        setup(["--small"] if args.small else [], manifest_path.parent)
    if not manifest_path.exists():
        print(f"No manifest at {manifest_path}: run manage.py generate_district (or this with --setup).",
              file=sys.stderr)
        return 2
    manifest = json.loads(manifest_path.read_text())
    platform = Platform.from_manifest(manifest, manifest_path.parent)
    if args.queries or args.profile:
        run_in_process = queries if args.queries else profile
        return run_in_process(manifest, platform, args.url or "http://127.0.0.1:8000", min(args.requests, 20),
                              args.only)
    if not args.url and not args.start:
        parser.error("give --url of a running server, or --start")

    def run(base: str) -> int:
        browsers = {who: requests.Session() for who in manifest["people"]}
        launched = {who: platform.launch(browsers[who], base, manifest["people"][who]) for who in browsers}
        rows = probes(manifest, launched)
        for probe in rows:
            measure(probe, browsers[probe.who], base, args.requests, args.warmup, args.budget)
        counts = manifest["counts"]
        header = (f"Elevstöd panels against {base} ({_database()}), concurrency 1, {args.requests} timed requests "
                  f"per view after {args.warmup} untimed.\nData set: {counts['pupils']} pupils, "
                  f"{len(manifest['cases'])} sampled of {manifest['sizes']['cases']} cases, "
                  f"{counts['plan_follow_ups']} plan follow-ups, {counts['units']} units, "
                  f"{counts['plans']} plans, {counts['decisions']} decisions (seed {manifest['seed']}, "
                  f"generated {manifest['generated_on']}).")
        met = report(rows, header)
        measured = [probe for probe in rows if not probe.missing]
        print(f"Targets (p95: panels < {PANEL_TARGET_MS:g} ms, caseload < {CASELOAD_TARGET_MS:g} ms): "
              f"{'all met' if met else 'NOT all met'} for the {len(measured)} views measured; "
              f"{len(rows) - len(measured)} not there yet.")
        return 0 if met else 1

    try:
        if args.start:
            with gunicorn(args.workers) as base:
                return run(base)
        return run(args.url.rstrip("/"))
    except BenchFailed as error:
        print(f"Benchmark failed: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
