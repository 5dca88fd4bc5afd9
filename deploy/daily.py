#!/usr/bin/env python
"""Run management commands once a day at a given local time, for ever: the compose file's scheduler.

    python deploy/daily.py 06:30 send_due_digest prune_lti

Kubernetes has CronJobs (deploy/k8s/cronjob-*.yaml); a single Docker host has no cron in the image, so
this loop sleeps until the next HH:MM in TIME_ZONE and runs each command in turn. The commands are
idempotent (send_due_digest records each digest it sent, prune_lti deletes only what has expired), so a
restart that runs them twice in a day changes nothing. A failed command is logged and retried the next day.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo


def seconds_until(hhmm: str, now: datetime) -> float:
    hour, minute = (int(part) for part in hhmm.split(":"))
    target = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if target <= now:
        target += timedelta(days=1)
    return (target - now).total_seconds()


def main(argv: list[str]) -> None:
    if len(argv) < 2:
        sys.exit(__doc__)
    at, commands = argv[0], argv[1:]
    zone = ZoneInfo(os.environ.get("TIME_ZONE", "Europe/Stockholm"))
    while True:
        wait = seconds_until(at, datetime.now(zone))
        print(f'{{"logger": "daily", "msg": "next run in {int(wait)} s"}}', flush=True)
        time.sleep(wait)
        for command in commands:
            done = subprocess.run([sys.executable, "manage.py", command], check=False)
            print(f'{{"logger": "daily", "msg": "{command} exited {done.returncode}"}}', flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
