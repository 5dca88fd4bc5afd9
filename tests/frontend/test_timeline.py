"""The case panel's timeline: every kind of entry on the case, newest first, only this case's, the
latest 30 on the panel and the whole on request (one statement reads them: queries.timeline_rows)."""

from __future__ import annotations

import re
from datetime import date, timedelta

from django.urls import reverse
from django.utils import timezone

from lti_plugin.support.models import LevelChange, Plan, Review
from lti_plugin.support.services import cases, plans

from .conftest import School
from .test_panels import text


def _timeline(page: str) -> list[tuple[str, str]]:
    """(day, entry's text) of each timeline entry, in the page's order."""
    section = page.split('data-testid="timeline"', 1)[1].split("</ol>", 1)[0]
    return re.findall(r'<time datetime="([0-9-]+)">.*?</time>(.*?)</li>', section, re.S)


def test_the_timeline_shows_every_kind_of_entry_of_this_case_newest_first(schools: dict[str, School], db: None) -> None:
    school = schools["se"]
    special, principal = school.actor("special_teacher"), school.actor("principal")
    today = timezone.localdate()
    cases.raise_concern(actor=school.actor("class_teacher"), case=school.case, text="Oro: läser långsamt")
    cases.add_adaptation_follow_up(actor=special, adaptation=school.adaptation, text="Skrivtiden hjälper",
                                   held_on=today - timedelta(days=3))
    cases.request_investigation(actor=special, case=school.case)
    plan = plans.draft_plan(actor=special, case=school.case, document="action_plan", needs=["Läsning"])
    plans.add_own_view(actor=school.actor("pupil"), case=school.case, plan=plan, text="Jag vill ha lugn och ro")
    plans.record_hearing(actor=principal, case=school.case, plan=plan, held_on=today - timedelta(days=2),
                         pupil_heard=True, guardians_heard=True, summary="Eleven och vårdnadshavarna hörda")
    Plan.objects.filter(pk=plan.pk).update(status=Plan.Status.ACTIVE, activated_at=timezone.now())
    plans.add_follow_up(actor=special, plan=plan, text="Läser med stöd", held_on=today - timedelta(days=1))
    # Kinds that need a decision or a grade point to come about in `se`, as plain rows.
    Review.objects.create(plan=plan, grade=6, text="Granskad i årskurs 6", held_on=today - timedelta(days=10),
                          recorded_by=principal.person)
    LevelChange.objects.create(case=school.case, from_level="extra_adaptations", to_level="special_support",
                               changed_by=principal.person)
    cases.raise_concern(actor=special, case=school.case_7b, text="Någon annans oro")  # another pupil's

    page = text(school.view("special_teacher", school.case))
    entries = _timeline(page)
    shown = " ".join(entry for _day, entry in entries)
    for expected in ("Oro: läser långsamt", "Förlängd skrivtid", "Skrivtiden hjälper", "Utredning",
                     "Jag vill ha lugn och ro", "Eleven och vårdnadshavarna hörda", "Läser med stöd",
                     "Granskad i årskurs 6", "Särskilt stöd", "Åtgärdsprogram"):
        assert expected in shown, expected
    assert "Någon annans oro" not in page
    days = [day for day, _entry in entries]
    assert days == sorted(days, reverse=True)
    assert days[-1] == (today - timedelta(days=10)).isoformat()  # the review, the oldest entry
    # A guardian's view recorded by staff names the guardian, not the one who wrote it down.
    plans.record_guardian_view(actor=special, case=school.case, plan=plan, guardian_name="Eva (vh)",
                               text="Hemma går det bra")
    again = dict((entry.split("</strong>")[0], entry) for _day, entry in _timeline(
        text(school.view("special_teacher", school.case))))
    assert any("Hemma går det bra" in entry and "Eva (vh)" in entry for entry in again.values())


def test_the_panel_shows_the_latest_30_entries_and_the_whole_timeline_on_request(schools: dict[str, School],
                                                                               db: None) -> None:
    school = schools["se"]
    special = school.actor("special_teacher")
    first = date(2026, 1, 1)
    for number in range(40):
        cases.add_adaptation_follow_up(actor=special, adaptation=school.adaptation, text=f"Uppföljning nr {number}",
                                       held_on=first + timedelta(days=number))
    page = text(school.view("special_teacher", school.case))
    entries = _timeline(page)
    assert len(entries) == 30
    assert "Förlängd skrivtid" in entries[0][1]  # the adaptation, logged today
    assert "Uppföljning nr 39" in entries[1][1] and "Uppföljning nr 11" in entries[29][1]
    assert "Uppföljning nr 5<" not in page  # among the oldest: not on the panel
    assert "?timeline=all" in page
    whole = text(school["special_teacher"].get(reverse("frontend:case", args=[
        school["special_teacher"].launch_id, school.case.pk]), {"timeline": "all"}))
    everything = _timeline(whole)
    assert len(everything) == 41  # the adaptation and its 40 follow-ups
    assert any("Uppföljning nr 0" in entry for _day, entry in everything)
    days = [day for day, _entry in everything]
    assert days == sorted(days, reverse=True)


def _section(page: str, testid: str) -> str:
    return page.split(f'data-testid="{testid}"', 1)[1].split("</ul>", 1)[0].split("</table>", 1)[0]


def test_the_plan_shows_its_needs_measures_views_and_latest_ten_follow_ups(schools: dict[str, School],
                                                                          db: None) -> None:
    school = schools["se"]
    special = school.actor("special_teacher")
    plan = plans.draft_plan(actor=special, case=school.case, document="action_plan",
                            needs=["Läsförståelse", "Arbetsro"],
                            measures=[plans.MeasureInput("Högläsning", special.person, date(2026, 1, 12),
                                                         date(2026, 3, 31))])
    plans.add_own_view(actor=school.actor("pupil"), case=school.case, plan=plan, text="Jag vill läsa mer")
    Plan.objects.filter(pk=plan.pk).update(status=Plan.Status.ACTIVE, activated_at=timezone.now())
    for number in range(12):
        plans.add_follow_up(actor=special, plan=plan, text=f"Uppföljning {number:02}",
                            held_on=date(2026, 2, 1) + timedelta(days=number))
    page = text(school.view("special_teacher", school.case))
    needs = _section(page, "needs")
    assert needs.index("Läsförståelse") < needs.index("Arbetsro")
    measures = _section(page, "measures")
    assert "Högläsning" in measures and "Special Teacher X" in measures and "2026-01-12 – 2026-03-31" in measures
    assert "Jag vill läsa mer" in _section(page, "views")
    shown = re.findall(r"Uppföljning (\d\d)", _section(page, "follow-ups"))
    assert shown == [f"{number:02}" for number in range(11, 1, -1)]  # the latest ten, newest first
    assert "De senaste 10 uppföljningarna." in page
    assert reverse("frontend:plan-print", args=[school["special_teacher"].launch_id, plan.pk]) in page
    printed = text(school["special_teacher"].get(reverse("frontend:plan-print", args=[
        school["special_teacher"].launch_id, plan.pk])))
    assert "Uppföljning 00" in printed and "Uppföljning 11" in printed  # the print view has them all
