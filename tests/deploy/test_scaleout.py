"""Any number of stateless app processes: two gunicorn instances behind nginx, one of them killed mid-load.

Real processes on loopback, shaped as production runs them: gunicorn with deploy/gunicorn.conf.py (two
workers each, JSON logs), PostgreSQL at DATABASE_URL (a fresh database), Redis for the cache and the
sessions, and Debian's nginx doing round robin in front. A teacher's whole LTI launch (the demo
platform's login initiation, the tool's OIDC login, the platform's signed id_token, the tool's launch,
the landing page) and a write (a concern on a case) go through the balancer, so login and launch land
on different processes. Then one instance is SIGKILLed while launches run: every launch started after
the kill succeeds, every write the tool acknowledged is in the database once, and every concern there
has its audit entry (no half-written rows). Finally Redis is emptied: a session stays valid (its row is
in PostgreSQL) and a replayed id_token is still refused (state and nonce are in PostgreSQL).

PostgreSQL only (the production shape); deploy/scaleout-check runs it on its own and prints the counts.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import psycopg
import pytest
import redis
import requests

from tests.deploy.cluster import App, Balancer, LaunchResult, launch_and_edit, nginx_binary, start_app, \
    start_balancer, visible_case_ids
from tests.servers import free_port, prepare, server_database, server_env

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")),
                       reason="the scale-out proof runs on PostgreSQL and Redis (the PostgreSQL pass of scripts/test)"),
    pytest.mark.skipif(nginx_binary() is None, reason="nginx is missing: scripts/install-system-deps installs it"),
]

REDIS_DB = int(os.environ.get("ELEVSTOD_TEST_REDIS_DB", "12"))
THREADS = 3
BEFORE_KILL = 24
DURING_KILL = 36
KILL_AFTER = 9  # launches of the second round finished before the kill


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    """Overrides tests/conftest.py's: this test talks to server processes, not to the test database."""


@dataclass
class Cluster:
    a: App
    b: App
    balancer: Balancer
    env: dict[str, str]
    case_ids: list[int]

    @property
    def base(self) -> str:
        return self.balancer.base_url


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    tmp = tmp_path_factory.mktemp("scaleout")
    port_a, port_b, port_lb = free_port(), free_port(), free_port()
    with server_database(tmp, "elevstod_scaleout_") as database:
        env = server_env(tmp, database)
        env.update(REDIS_URL=f"redis://127.0.0.1:6379/{REDIS_DB}", LOG_FORMAT="json", LOG_LEVEL="WARNING")
        prepare(env, f"http://127.0.0.1:{port_lb}")  # the demo platform's issuer is the balancer's address
        started: list = []
        try:
            started.append(start_app(env, port_a, tmp / "a.log"))
            started.append(start_app(env, port_b, tmp / "b.log"))
            started.append(start_balancer(tmp / "nginx", port_lb, [port_a, port_b]))
            a, b, balancer = started
            yield Cluster(a=a, b=b, balancer=balancer, env=env, case_ids=visible_case_ids(balancer.base_url))
        finally:
            for process in reversed(started):
                process.stop()


def run_launches(cluster: Cluster, count: int, *, threads: int = THREADS,
                 kill: App | None = None) -> tuple[list[LaunchResult], float]:
    """`count` launch-and-edit runs, `threads` at a time; with `kill`, SIGKILL it after KILL_AFTER finished.

    The platform's steps go to instance A directly (the LMS is not behind the tool's balancer); the
    tool's five requests a launch (login, launch, landing page, case page, concern) go through nginx.
    """
    done = threading.Semaphore(0)
    killed_at = float("inf")

    def one(_: int) -> LaunchResult:
        result = launch_and_edit(cluster.base, cluster.case_ids, platform=cluster.a.base_url)
        done.release()
        return result

    with ThreadPoolExecutor(threads) as pool:
        futures = [pool.submit(one, i) for i in range(count)]
        if kill is not None:
            for _ in range(KILL_AFTER):
                done.acquire()
            killed_at = time.monotonic()
            kill.kill()
        results = [future.result() for future in futures]
    return results, killed_at


def summary(label: str, results: list[LaunchResult]) -> str:
    ok = sum(r.ok for r in results)
    crossed = sum(r.crossed for r in results if r.ok)
    upstreams = sorted({r.login_upstream for r in results if r.login_upstream}
                       | {r.launch_upstream for r in results if r.launch_upstream})
    return (f"{label}: {ok}/{len(results)} launches succeeded, {crossed} with login and launch on different "
            f"processes, {sum(bool(r.written) for r in results)} writes acknowledged; upstreams {upstreams}")


def rows(env: dict[str, str], query: str) -> list[tuple]:
    with psycopg.connect(env["DATABASE_URL"]) as conn:
        return conn.execute(query).fetchall()


def test_launches_through_the_balancer_cross_processes_and_survive_a_killed_instance(cluster, capsys):
    # 1. Both instances up, one browser at a time: nginx's round robin alternates the tool's five requests
    #    a launch between the instances, so every login finishes (launch) on the other process.
    before, _ = run_launches(cluster, BEFORE_KILL, threads=1)
    with capsys.disabled():
        print("\n" + summary("both instances", before))
    assert [r.error for r in before if not r.ok] == []
    assert sum(r.crossed for r in before) >= BEFORE_KILL - 1
    assert len({r.launch_upstream for r in before}) == 2

    # 2. SIGKILL instance B (master and workers) while launches run.
    during, killed_at = run_launches(cluster, DURING_KILL, kill=cluster.b)
    after_kill = [r for r in during if r.started > killed_at]
    in_flight = [r for r in during if r.started <= killed_at]
    with capsys.disabled():
        print(summary("around the kill", during))
        print(f"  started after the kill: {sum(r.ok for r in after_kill)}/{len(after_kill)} succeeded; "
              f"in flight at the kill: {sum(not r.ok for r in in_flight)} of {len(in_flight)} failed "
              f"{[r.error for r in in_flight if not r.ok]}")
    assert after_kill, "no launch started after the kill"
    assert [r.error for r in after_kill if not r.ok] == []
    assert {r.launch_upstream.split(", ")[-1] for r in after_kill if r.ok} == {f"127.0.0.1:{cluster.a.port}"}

    # 3. Every acknowledged write is in the database once; every concern there is whole (has its audit entry).
    acknowledged = [r.written for r in before + during if r.written]
    stored = rows(cluster.env, "SELECT id, text FROM support_concern WHERE text LIKE 'scaleout-%'")
    texts = [text for _, text in stored]
    missing = [text for text in acknowledged if texts.count(text) != 1]
    audited = {int(object_id) for (ids,) in rows(cluster.env, "SELECT object_ids FROM support_auditentry "
                                                               "WHERE action = 'concern.raised'") for object_id in ids}
    unaudited = [pk for pk, _ in stored if pk not in audited]
    with capsys.disabled():
        print(f"  writes acknowledged: {len(acknowledged)}; concerns in the database: {len(stored)}; "
              f"acknowledged but missing: {len(missing)}; without their audit entry: {len(unaudited)}")
    assert missing == []
    assert unaudited == []
    assert len(stored) - len(acknowledged) <= sum(not r.ok for r in in_flight)  # at most the unanswered ones


def test_losing_redis_logs_nobody_out_and_lets_no_replay_through(cluster):
    launched = launch_and_edit(cluster.base, cluster.case_ids, write=False, keep_browser=True)
    assert launched.ok, launched.error

    redis.Redis.from_url(f"redis://127.0.0.1:6379/{REDIS_DB}").flushdb()  # Redis restarted empty

    landing = launched.browser.get(f"{cluster.base}/app/{launched.launch_id}/", timeout=15)
    assert landing.status_code == 200 and 'data-testid="who"' in landing.text  # the session is in PostgreSQL
    replayer = requests.Session()
    replayer.cookies.set(f"lti_state_{launched.state}", launched.state)
    replay = replayer.post(f"{cluster.base}/lti/launch/", data={"id_token": launched.id_token,
                                                                  "state": launched.state}, allow_redirects=False)
    assert replay.status_code == 400, replay.text[:300]  # the state was used up, in PostgreSQL
    assert "sessionid" not in replayer.cookies
