"""Generate a district-sized fictional data set for the panel benchmark (bench/panels.py)."""

from __future__ import annotations

import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from lti_plugin.support import district


class Command(BaseCommand):
    help = ("Generate a fictional school district (one organisation, pack se) for benchmarks: by default "
            "20,000 pupils, 5,000 cases, 100,000 plan follow-ups across 30 units. Refuses to run twice on the "
            "same database: generate into a fresh one. Never in production.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--small", action="store_true",
                            help=f"a small preset ({district.SMALL.pupils} pupils, {district.SMALL.cases} cases, "
                                 f"{district.SMALL.follow_ups} follow-ups, {district.SMALL.units} units)")
        parser.add_argument("--pupils", type=int)
        parser.add_argument("--cases", type=int)
        parser.add_argument("--follow-ups", type=int, dest="follow_ups")
        parser.add_argument("--units", type=int)
        parser.add_argument("--seed", type=int, default=1, help="the same seed (on the same day) gives the same data")
        parser.add_argument("--out", default="",
                            help="where to write the platform's private key and manifest.json for bench/panels.py "
                                 "(default: <ELEVSTOD_DATA_DIR>/district)")

    def handle(self, *args: object, **options: object) -> None:
        if settings.PRODUCTION:
            raise CommandError("generate_district writes fictional pupils: never in production.")
        preset = district.SMALL if options["small"] else district.DISTRICT
        sizes = district.Sizes(**{name: int(options[name]) if options[name] is not None  # type: ignore[call-overload]
                                  else getattr(preset, name) for name in ("pupils", "cases", "follow_ups", "units")})
        if min(sizes.pupils, sizes.cases, sizes.units) < 1 or sizes.follow_ups < 0:
            raise CommandError("Sizes must be positive.")
        out = Path(str(options["out"])) if options["out"] else Path(settings.DATA_DIR) / "district"
        started = time.perf_counter()
        try:
            result = district.generate(sizes, seed=int(options["seed"]),  # type: ignore[call-overload]
                                       out_dir=out, log=self.stdout.write)
        except district.AlreadyGenerated:
            existing = district.existing()
            raise CommandError(
                f"The generated district is already in this database (organisation "
                f"#{existing.pk if existing else '?'} {district.ORGANISATION_NAME!r}, platform {district.ISSUER}). "
                "Nothing was changed: it refuses rather than wipes. Generate into a fresh database "
                "(a new SQLITE_PATH, or a new PostgreSQL database in DATABASE_URL).") from None
        except ValueError as error:
            raise CommandError(str(error)) from None
        with connection.cursor() as cursor:
            # The planner's statistics after a bulk load, before anyone measures; on PostgreSQL also the
            # row versions the generator's bulk updates left behind (what autovacuum does in a running
            # installation; a server with autovacuum off would otherwise read each case two or three
            # times through its indexes). VACUUM runs only outside a transaction (the command's
            # autocommit; a caller's atomic block, as in the tests, gets ANALYZE alone).
            vacuum = connection.vendor == "postgresql" and not connection.in_atomic_block
            cursor.execute("VACUUM ANALYZE" if vacuum else "ANALYZE")
        took = time.perf_counter() - started
        counts = result.counts
        self.stdout.write(
            f"Generated {result.organisation.name} (organisation #{result.organisation.pk}) in {took:.1f} s: "
            f"{counts['units']} units, {counts['pupils']} pupils, {counts['guardians']} guardians, "
            f"{len(self._cases(result))} cases, {counts['plans']} plans, {counts['plan_follow_ups']} plan follow-ups, "
            f"{counts['decisions']} decisions, {counts['courses']} courses.")
        people = result.manifest["people"]
        self.stdout.write(
            f"Bench people: teacher {people['teacher']['sub']} (course {people['teacher']['course']['id']}, "
            f"{people['teacher']['roster']} pupils), special teacher {people['special_teacher']['sub']} "
            f"({people['special_teacher']['cases_in_reach']} cases), principal {people['principal']['sub']} "
            f"({people['principal']['units']} units, {people['principal']['cases_in_reach']} cases).")
        self.stdout.write(f"Manifest for bench/panels.py: {result.manifest_path}")

    @staticmethod
    def _cases(result: district.Result) -> list[int]:
        from lti_plugin.support.models import Case

        return list(Case.objects.filter(unit__organisation=result.organisation).values_list("pk", flat=True))
