#!/usr/bin/env python
"""How long a whole LTI launch takes, against a running server with the demo platform on.

Each launch is what a browser does when a teacher opens the tool from a course, with a fresh
cookie jar (requests.Session) every time:

    1 GET  /demo/start/?…   the platform's login-initiation form       (demo platform)
    2 POST /lti/login/      OIDC login initiation → redirect           (tool)
    3 GET  /demo/auth/?…    authorization → form with a signed id_token (demo platform)
    4 POST /lti/launch/     verify the id_token, start the session     (tool)
    5 GET  /app/<launch>/   the landing page                           (tool)

Beside it, the floor: the same five round trips to a bare Django view (GET /lti/jwks/: the whole
middleware stack and two small queries, no template, no session), also with a fresh cookie jar each
time. Prints p50/p95/p99 in milliseconds and launches per second for both.

    python bench/launches.py                                  # 200 launches at http://127.0.0.1:8000
    python bench/launches.py --url http://127.0.0.1:8001 -n 500 -c 4
    python bench/launches.py --profile -n 50                  # in this process, under cProfile

Only the standard library and `requests`; see bench/README.md for starting the server.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

STEPS = (
    "1 GET  /demo/start/  (platform)",
    "2 POST /lti/login/   (tool)",
    "3 GET  /demo/auth/   (platform)",
    "4 POST /lti/launch/  (tool)",
    "5 GET  /app/<id>/    (tool)",
)
TOOL_STEPS = (1, 3, 4)
FLOOR_PATH = "/lti/jwks/"


class LaunchFailed(Exception):
    pass


class _Form(HTMLParser):
    """The first form's action and named inputs (the demo's auto-post pages)."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self._inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form" and self.action is None:
            self.action, self._inside = attributes.get("action") or "", True
        elif tag == "input" and self._inside and attributes.get("name"):
            self.fields[attributes["name"] or ""] = attributes.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._inside = False


def _form(response: requests.Response, step: str) -> tuple[str, dict[str, str]]:
    if response.status_code != 200:
        raise LaunchFailed(f"{step}: HTTP {response.status_code}")
    parser = _Form()
    parser.feed(response.text)
    if parser.action is None:
        raise LaunchFailed(f"{step}: no auto-post form")
    return urljoin(response.url, parser.action), parser.fields


def _timed(durations: list[float], call: Callable[[], requests.Response]) -> requests.Response:
    started = time.perf_counter()
    response = call()
    durations.append(time.perf_counter() - started)
    return response


def one_launch(base: str, params: dict[str, str], new_browser: Callable[[], Any] = requests.Session) -> list[float]:
    """One whole launch in a fresh cookie jar; the seconds each of the five steps took."""
    took: list[float] = []
    with new_browser() as browser:
        start = _timed(took, lambda: browser.get(base + "/demo/start/", params=params))
        action, fields = _form(start, STEPS[0])
        login = _timed(took, lambda: browser.post(action, data=fields, allow_redirects=False))
        if login.status_code != 302:
            raise LaunchFailed(f"{STEPS[1]}: HTTP {login.status_code}")
        auth = _timed(took, lambda: browser.get(urljoin(login.url, login.headers["Location"])))
        action, fields = _form(auth, STEPS[2])
        if "id_token" not in fields:
            raise LaunchFailed(f"{STEPS[2]}: {fields.get('error_description') or 'no id_token'}")
        launch = _timed(took, lambda: browser.post(action, data=fields, allow_redirects=False))
        if launch.status_code != 302:
            raise LaunchFailed(f"{STEPS[3]}: HTTP {launch.status_code}")
        landing = _timed(took, lambda: browser.get(urljoin(launch.url, launch.headers["Location"]),
                                                   allow_redirects=False))
        if landing.status_code != 200 or 'data-testid="who"' not in landing.text:
            raise LaunchFailed(f"{STEPS[4]}: HTTP {landing.status_code}")
    return took


def one_floor(base: str) -> list[float]:
    """Five GETs of a bare view in a fresh cookie jar: the same round trips, none of the work."""
    took: list[float] = []
    with requests.Session() as browser:
        for _ in STEPS:
            response = _timed(took, lambda: browser.get(base + FLOOR_PATH))
            if response.status_code != 200:
                raise LaunchFailed(f"GET {FLOOR_PATH}: HTTP {response.status_code}")
    return took


@dataclass
class _Answer:
    status_code: int
    text: str
    url: str
    headers: Any


class InProcessBrowser:
    """The few requests.Session methods used above, served by Django's test client in this process.

    For --profile: the same flow, without sockets or a server, so cProfile sees the tool's own code.
    """

    def __init__(self, base: str) -> None:
        from django.test import Client

        self.client = Client(HTTP_HOST=urlsplit(base).netloc)

    def __enter__(self) -> InProcessBrowser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.cookies.clear()

    def _answer(self, response: Any, url: str) -> Any:
        return _Answer(status_code=response.status_code, text=response.content.decode(), url=url,
                       headers=response.headers)

    def get(self, url: str, params: dict[str, str] | None = None, allow_redirects: bool = True) -> Any:
        parts = urlsplit(url)
        return self._answer(self.client.get(parts.path + ("?" + parts.query if parts.query else ""), params), url)

    def post(self, url: str, data: dict[str, str] | None = None, allow_redirects: bool = True) -> Any:
        return self._answer(self.client.post(urlsplit(url).path, data or {}), url)


def profile(base: str, params: dict[str, str], count: int) -> int:
    """Run `count` launches in this process under cProfile against the database the environment names."""
    import cProfile
    import pstats

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lti_plugin.settings")
    import django

    django.setup()
    shared = InProcessBrowser(base)  # one handler (its middleware set up once), as in a server process
    for _ in range(5):
        one_launch(base, params, lambda: shared)
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for _ in range(count):
        one_launch(base, params, lambda: shared)
    profiler.disable()
    print(f"{count} launches in process under cProfile: {(time.perf_counter() - started) / count * 1000:.1f} ms each")
    stats = pstats.Stats(profiler)
    stats.sort_stats("tottime").print_stats(15)
    stats.sort_stats("cumulative").print_stats("lti_plugin", 25)
    return 0


@dataclass
class Run:
    samples: list[list[float]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    wall_seconds: float = 0.0


def run(task: Callable[[], list[float]], count: int, concurrency: int) -> Run:
    """`count` tasks on `concurrency` threads; every result and failure kept."""
    result = Run()
    lock = threading.Lock()

    def one(_: int) -> None:
        try:
            took = task()
        except (LaunchFailed, requests.RequestException) as error:
            with lock:
                result.failures.append(str(error))
            return
        with lock:
            result.samples.append(took)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(one, range(count)))
    result.wall_seconds = time.perf_counter() - started
    return result


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (no interpolation: p99 of 200 samples is the 198th)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def row(label: str, seconds: list[float], per_second: float | None) -> str:
    if not seconds:
        return f"{label:<38} {'—':>8}"
    figures = "".join(f"{percentile(seconds, pct) * 1000:>9.1f}" for pct in (50, 95, 99))
    rate = f"{per_second:>12.1f}" if per_second is not None else ""
    return f"{label:<38}{figures}{rate}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the running tool (demo platform on)")
    parser.add_argument("-n", "--launches", type=int, default=200, help="timed launches (default 200)")
    parser.add_argument("-c", "--concurrency", type=int, default=1, help="launches in flight at once (default 1)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed launches first (default 10)")
    parser.add_argument("--person", default="solbacka:101:s-11",
                        help="demo org:course:sub to launch as (default Tove Lärare, Matematik 7A)")
    parser.add_argument("--target-p95-ms", type=float, default=50.0)
    parser.add_argument("--target-ratio", type=float, default=2.0)
    parser.add_argument("--profile", action="store_true",
                        help="run the launches in this process under cProfile instead (no server; set the "
                             "server's ELEVSTOD_DATA_DIR and SQLITE_PATH or DATABASE_URL; --url names its host)")
    args = parser.parse_args(argv)

    base = args.url.rstrip("/")
    org, course, sub = args.person.split(":")
    params = {"org": org, "course": course, "person": sub, "message": "launch", "names": "1", "locale": "sv"}
    if args.profile:
        return profile(base, params, args.launches)
    launch_task = lambda: one_launch(base, params)  # noqa: E731
    floor_task = lambda: one_floor(base)  # noqa: E731

    warm = run(launch_task, args.warmup, args.concurrency)
    run(floor_task, args.warmup, args.concurrency)
    if warm.failures and not warm.samples:
        print(f"Every warm-up launch failed, e.g.: {warm.failures[0]}", file=sys.stderr)
        return 2
    launches = run(launch_task, args.launches, args.concurrency)
    floor = run(floor_task, args.launches, args.concurrency)

    totals = [sum(sample) for sample in launches.samples]
    tool_totals = [sum(sample[i] for i in TOOL_STEPS) for sample in launches.samples]
    floor_totals = [sum(sample) for sample in floor.samples]
    floor_single = [seconds for sample in floor.samples for seconds in sample]

    print(f"Elevstöd launches against {base}: {len(launches.samples)} timed launches as {args.person}, "
          f"concurrency {args.concurrency} ({args.warmup} untimed warm-up launches first)")
    print(f"{'latency in ms':<38}{'p50':>9}{'p95':>9}{'p99':>9}{'per second':>12}")
    print(row("whole launch (5 requests)", totals, len(totals) / launches.wall_seconds))
    for index, label in enumerate(STEPS):
        print(row("  " + label, [sample[index] for sample in launches.samples], None))
    print(row("  tool's own steps (2+4+5)", tool_totals, None))
    print(row(f"floor: 5 × GET {FLOOR_PATH}", floor_totals, len(floor_totals) / floor.wall_seconds))
    print(row(f"  one GET {FLOOR_PATH}", floor_single, len(floor_single) / floor.wall_seconds))

    print("JWKS fetched by the tool: not applicable — the demo platform registers its public key inline "
          "(Registration.key_set, no key set URL), so a demo launch never fetches a JWKS. Against a platform "
          "with a key set URL the tool fetches it once per LTI_JWKS_CACHE_SECONDS (shared cache), "
          "and again only on an unknown kid (at most once a minute).")

    for failures, what in ((launches.failures, "launches"), (floor.failures, "floor requests")):
        if failures:
            print(f"FAILED {what}: {len(failures)}, e.g. {failures[0]}")
    if not totals or not floor_totals:
        return 2
    p95, floor_p95 = percentile(totals, 95) * 1000, percentile(floor_totals, 95) * 1000
    ratio = p95 / floor_p95
    verdict = lambda ok: "met" if ok else "MISSED"  # noqa: E731
    print(f"Target p95 < {args.target_p95_ms:g} ms: {p95:.1f} ms, {verdict(p95 < args.target_p95_ms)}. "
          f"Target within {args.target_ratio:g}× of the floor's p95 ({floor_p95:.1f} ms): "
          f"{ratio:.1f}×, {verdict(ratio <= args.target_ratio)}.")
    return 1 if launches.failures or floor.failures else 0


if __name__ == "__main__":
    sys.exit(main())
