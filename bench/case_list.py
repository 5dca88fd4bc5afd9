#!/usr/bin/env python
"""How long the case list (the caseload panel) takes, against a running server with the demo platform on.

One launch per person through the demo platform, then GET /app/<launch>/cases/ over and over, each
request a whole page view as a browser makes it (the session cookie, the policy, the query, the audit
entry naming the cases shown, the template). Prints p50/p95/p99 in milliseconds and pages per second.

    python bench/case_list.py --url http://127.0.0.1:8000 -n 300 -c 2
    python bench/case_list.py --person solbacka:101:s-13     # the principal: the whole unit

Used for the sizing note in deploy/README.md. Only the standard library and `requests`.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from launches import LaunchFailed, _form  # noqa: E402  (the same auto-post form reader)


def launch(base: str, org: str, course: str, sub: str) -> tuple[requests.Session, str]:
    browser = requests.Session()
    params = {"org": org, "course": course, "person": sub, "message": "launch", "names": "1", "locale": "sv"}
    action, fields = _form(browser.get(base + "/demo/start/", params=params), "start")
    login = browser.post(action, data=fields, allow_redirects=False)
    action, fields = _form(browser.get(requests.compat.urljoin(login.url, login.headers["Location"])), "auth")
    landed = browser.post(action, data=fields, allow_redirects=False)
    if landed.status_code != 302:
        raise LaunchFailed(f"launch: HTTP {landed.status_code}")
    return browser, landed.headers["Location"].strip("/").split("/")[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("-n", "--pages", type=int, default=300)
    parser.add_argument("-c", "--concurrency", type=int, default=1)
    parser.add_argument("--person", default="solbacka:101:s-11", help="org:course:sub (default the teacher)")
    args = parser.parse_args(argv)
    base = args.url.rstrip("/")
    org, course, sub = args.person.split(":")
    browsers = [launch(base, org, course, sub) for _ in range(args.concurrency)]
    shown = browsers[0][0].get(f"{base}/app/{browsers[0][1]}/cases/").text.count("/cases/")

    def one(i: int) -> float:
        browser, launch_id = browsers[i % len(browsers)]
        started = time.perf_counter()
        page = browser.get(f"{base}/app/{launch_id}/cases/")
        took = time.perf_counter() - started
        if page.status_code != 200:
            raise LaunchFailed(f"case list: HTTP {page.status_code}")
        return took

    for i in range(10):
        one(i)  # warm-up
    started = time.perf_counter()
    with ThreadPoolExecutor(args.concurrency) as pool:
        times = list(pool.map(one, range(args.pages)))
    wall = time.perf_counter() - started
    ms = [t * 1000 for t in times]
    print(f"case list as {args.person} ({shown} case links on the page), {args.pages} pages, "
          f"concurrency {args.concurrency}")
    print(f"p50 {percentile(ms, 0.5):.1f} ms  p95 {percentile(ms, 0.95):.1f} ms  p99 {percentile(ms, 0.99):.1f} ms  "
          f"{args.pages / wall:.1f} pages/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
