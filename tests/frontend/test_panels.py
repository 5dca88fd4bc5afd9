"""The panels as people use them: through real launches, each with their own browser session."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from urllib.parse import urlsplit

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from lti_plugin.support import policy, queries
from lti_plugin.support.models import (
    AbsenceRecord,
    AuditEntry,
    Case,
    Concern,
    CourseMember,
    Person,
    Plan,
    PlanFollowUp,
    Pupil,
)
from lti_plugin.support.services import absence, cases, plans

from tests.lti.platform import INSTRUCTOR

from .conftest import COURSE_7A, PACKS, School

HX = {"HX-Request": "true"}


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.content.decode()


def post(school: School, key: str, action: str, form: dict, htmx: bool = False):  # type: ignore[no-untyped-def]
    headers = HX if htmx else {}
    return school[key].client.post(school.action_url(key, school.case, action), form, headers=headers)


def plan_of(case: Case, status: str) -> Plan:
    return Plan.objects.filter(case=case, status=status).latest("created_at")


def test_the_support_journey_through_the_case_panel(schools: dict[str, School], db: None) -> None:
    """Concern → drafted ÅP → views → hearing → decision → two follow-ups → evaluation → continue in
    a new plan (a copy of the old measures) → its decision → closing → both plans in the archive."""
    school = schools["se"]
    case = school.case
    assert post(school, "subject_teacher", "raise_concern", {"text": "Svårt att komma igång"}).status_code == 302
    form = {"need": "Läsförståelse\nArbetsro", "measure": "Inläst läromedel\nLugn plats vid prov",
            "starts_on": "2026-01-12", "ends_on": "2026-06-05"}
    assert post(school, "special_teacher", "draft_plan", form, htmx=True).status_code == 200
    draft = plan_of(case, Plan.Status.DRAFT)
    assert [m.text for m in draft.measures.order_by("order")] == ["Inläst läromedel", "Lugn plats vid prov"]
    assert post(school, "pupil", "add_own_view", {"plan": draft.pk, "text": "Jag vill ha lugn"}).status_code == 302
    assert post(school, "guardian", "add_own_view", {"plan": draft.pk, "text": "Bra plan"}).status_code == 302
    hearing = {"plan": draft.pk, "date": "2026-01-14", "pupil_heard": "on", "guardians_heard": "on",
               "text": "Eleven och vårdnadshavarna hördes"}
    assert post(school, "principal", "record_hearing", hearing).status_code == 302
    assert post(school, "principal", "decide_new_plan", {"plan": draft.pk, "text": "Behov finns"}).status_code == 302
    active = plan_of(case, Plan.Status.ACTIVE)
    assert active.pk == draft.pk
    for day in ("2026-02-10", "2026-03-10"):
        response = post(school, "special_teacher", "add_follow_up", {"plan": active.pk, "text": f"Uppföljning {day}",
                                                                     "date": day}, htmx=True)
        assert response.status_code == 200 and f"Uppföljning {day}" in text(response)
    assert post(school, "class_teacher", "record_evaluation",
                {"plan": active.pk, "text": "Målen delvis nådda", "date": "2026-06-01"}).status_code == 302

    page = text(school.view("principal", case))
    assert 'id="form-continue_in_new_plan"' in page and "Fortsätt i en ny plan" in page
    assert post(school, "principal", "continue_in_new_plan", {"plan": active.pk}).status_code == 302
    copy = plan_of(case, Plan.Status.DRAFT)
    assert copy.previous_id == active.pk
    assert 'id="form-update_draft"' in text(school.view("special_teacher", case))
    special = school["special_teacher"]
    edit_form = text(special.client.get(reverse("frontend:case-form", args=[special.launch_id, case.pk,
                                                                             "update_draft"]), headers=HX))
    assert "Inläst läromedel\nLugn plats vid prov" in edit_form  # the copy shows the old measures, to edit
    assert 'value="2026-01-12"' in edit_form and 'value="2026-06-05"' in edit_form  # and their period
    deciding = text(school.view("principal", case))  # the principal sees the copy she decides on
    assert 'data-testid="draft-measures"' in deciding and 'data-testid="measures"' in deciding
    assert post(school, "special_teacher", "update_draft", {
        "plan": copy.pk, "version": copy.version, "need": "Läsförståelse", "measure": "Inläst läromedel\nLäsgrupp",
        "starts_on": "2026-08-20", "ends_on": "2026-12-18"}).status_code == 302
    copy.refresh_from_db()
    hearing["plan"] = copy.pk
    assert post(school, "principal", "record_hearing", hearing).status_code == 302
    assert post(school, "principal", "decide_new_plan", {"plan": copy.pk, "text": "Fortsatt behov"}).status_code == 302
    assert post(school, "principal", "decide_close_plan",
                {"plan": copy.pk, "reason": next(iter(school.actor("principal").pack.close_reasons)),
                 "text": "Behovet finns inte längre"}).status_code == 302

    archive = school["guardian"].get(reverse("frontend:archive", args=[school["guardian"].launch_id, case.pk]))
    assert archive.status_code == 200
    assert text(archive).count('data-testid="archived-plan"') == 2
    assert "Läsgrupp" in text(archive) and "Lugn plats vid prov" in text(archive)
    assert "<form" not in text(archive)  # read-only


def test_a_form_with_an_error_comes_back_with_the_error_by_the_field_and_writes_nothing(
        schools: dict[str, School], db: None) -> None:
    school = schools["se"]
    before = Concern.objects.count()
    response = post(school, "class_teacher", "raise_concern", {"text": "  ", "_form": "raise_concern"}, htmx=True)
    assert response.status_code == 422
    page = text(response)
    assert 'id="case-panel"' in page and "<html" not in page  # the panel alone, for htmx to swap
    field = page.index('id="raise_concern-text"')
    error = page.index("Det här fältet är obligatoriskt")  # Django's Swedish: "this field is required"
    assert abs(field - error) < 400 and 'aria-describedby="raise_concern-text_error"' in page
    assert '<details class="action" open id="form-raise_concern">' in page  # the form stays open
    assert Concern.objects.count() == before


def test_a_case_form_loads_when_opened_and_names_only_this_cases_objects(schools: dict[str, School],
                                                                         db: None) -> None:
    school = schools["se"]
    special = school["special_teacher"]
    url = reverse("frontend:case-form", args=[special.launch_id, school.case.pk, "add_adaptation_follow_up"])
    loaded = special.client.get(url, headers=HX)
    assert loaded.status_code == 200 and "Förlängd skrivtid" in text(loaded) and "Bildstöd" not in text(loaded)
    assert "<html" in text(special.get(url))  # without JavaScript, a page of its own
    assert special.get(reverse("frontend:case-form", args=[special.launch_id, school.case.pk, "nonsense"])
                       ).status_code == 404
    outsider = school["outsider_principal"]
    assert outsider.get(reverse("frontend:case-form", args=[outsider.launch_id, school.case.pk, "raise_concern"])
                        ).status_code == 404


def test_the_forms_name_the_cases_open_investigation_and_the_pupils_concluded_ones(schools: dict[str, School],
                                                                                   db: None) -> None:
    school = schools["se"]
    special = school["special_teacher"]
    actor = school.actor("special_teacher")
    concluded = cases.request_investigation(actor=actor, case=school.case)
    cases.conduct_investigation(actor=actor, investigation=concluded, mapping="Kartläggning", assessment="Bedömning",
                                conclude=True)
    still_open = cases.request_investigation(actor=actor, case=school.case)

    def form(action: str) -> str:
        url = reverse("frontend:case-form", args=[special.launch_id, school.case.pk, action])
        response = special.client.get(url, headers=HX)
        assert response.status_code == 200
        return text(response)

    conduct = form("conduct_investigation")
    assert f'value="{still_open.pk}"' in conduct and f'value="{concluded.pk}"' not in conduct
    draft = form("draft_plan")
    assert f'value="{concluded.pk}"' in draft and f'value="{still_open.pk}"' not in draft


def test_the_case_panel_shows_the_absence_ladder_where_the_pupil_is_or_has_been_on_it(
        schools: dict[str, School], db: None) -> None:
    school = schools["se"]
    teacher = school["subject_teacher"]  # follows no step up: sees the ladder only where there is one
    url = school.case_url("subject_teacher", school.case)
    assert 'id="absence"' not in text(teacher.get(url))
    record = absence.start_absence_step(actor=school.actor("class_teacher"), case=school.case, step=1,
                                        started_on=date.today())
    on_a_step = text(teacher.get(url))
    assert 'id="absence"' in on_a_step and 'data-testid="absence-step"' in on_a_step
    AbsenceRecord.objects.filter(pk=record.pk).update(ended_on=date.today())
    after = text(teacher.get(url))
    assert 'id="absence"' in after and 'data-testid="absence-step"' not in after


def test_a_double_submit_creates_nothing_twice(schools: dict[str, School], db: None) -> None:
    school = schools["se"]
    form = {"text": "Orolig för frånvaro", "form_token": str(uuid.uuid4())}
    first = post(school, "class_teacher", "raise_concern", form)
    second = post(school, "class_teacher", "raise_concern", form)
    assert (first.status_code, second.status_code) == (302, 302)
    assert Concern.objects.filter(text="Orolig för frånvaro").count() == 1


def test_a_service_refusal_is_shown_in_the_form_in_swedish(schools: dict[str, School], db: None) -> None:
    school = schools["se"]
    draft = plans.draft_plan(actor=school.actor("special_teacher"), case=school.case, document="action_plan",
                             needs=["Läsning"])
    response = post(school, "principal", "decide_new_plan", {"plan": draft.pk, "text": "Beslut",
                                                             "_form": "decide_new_plan"}, htmx=True)
    assert response.status_code == 422
    assert "hör" in text(response).lower()  # the decision waits for the hearing, said in Swedish
    assert not draft.decisions.exists()


def test_the_pupil_sees_their_plan_in_plain_words_and_only_the_forms_for_them(
        schools: dict[str, School], db: None) -> None:
    school = schools["se"]
    plans.draft_plan(actor=school.actor("special_teacher"), case=school.case, document="action_plan",
                     needs=["Läsning"])
    page = text(school.view("pupil", school.case))
    assert "Det du behöver stöd med" in page and "Läsning" in page
    assert 'id="form-add_own_view"' in page
    assert 'id="form-decide_new_plan"' not in page and 'id="form-record_hearing"' not in page
    assert 'data-testid="timeline"' not in page  # staff notes are not the pupil's summary
    principal_page = text(school.view("principal", school.case))
    assert 'id="form-decide_new_plan"' in principal_page and 'data-testid="timeline"' in principal_page


def test_the_course_panel_lists_the_courses_pupils_not_its_staff_and_raises_a_concern_inline(
        schools: dict[str, School], db: None) -> None:
    school = schools["se"]
    teacher = school["subject_teacher"]
    url = reverse("frontend:course", args=[teacher.launch_id])
    page = text(teacher.get(url))
    assert "Pupil X" in page  # the pupil launched in the course
    assert "It Admin X" not in page and "Subject Teacher X" not in page and "Guardian X" not in page
    pupil = school["pupil"].person.pupil
    form_url = reverse("frontend:course-pupil-form", args=[teacher.launch_id, pupil.pk, "raise_concern"])
    assert f'hx-get="{form_url}"' in page  # the form loads when opened
    loaded = teacher.client.get(form_url, headers=HX)
    assert loaded.status_code == 200 and "<html" not in text(loaded)
    assert 'hx-target="closest li.pupil"' in text(loaded)  # a quick action swaps its own row only
    assert "<html" in text(teacher.get(form_url))  # without JavaScript, a page of its own
    action = reverse("frontend:course-pupil-action", args=[teacher.launch_id, pupil.pk, "raise_concern"])
    response = teacher.client.post(action, {"text": "Trött på morgonen"}, headers=HX)
    assert response.status_code == 200
    assert f'id="pupil-{pupil.pk}"' in text(response) and "Sparat" in text(response)
    assert Concern.objects.filter(case__pupil=pupil, text="Trött på morgonen").exists()
    # A pupil not on the course's list is a 404 from here.
    other = school["pupil_7b"].person.pupil
    assert teacher.client.post(reverse("frontend:course-pupil-action", args=[teacher.launch_id, other.pk,
                                                                           "raise_concern"]),
                               {"text": "x"}).status_code == 404


def test_the_caseload_filters_searches_and_sorts(schools: dict[str, School], db: None) -> None:
    school = schools["se"]
    principal = school["principal"]
    url = reverse("frontend:cases", args=[principal.launch_id])
    everything = text(principal.get(url))
    assert "Pupil X" in everything and "Pupil 7B X" in everything
    found = text(principal.get(url, {"q": "7b"}))
    assert "Pupil 7B X" in found and ">Pupil X<" not in found
    assert "Pupil X" not in text(principal.get(url, {"level": "special_support"}))
    assert principal.get(url, {"level": "nonsense", "unit": "x", "page": "999", "sort": "?"}).status_code == 200
    descending = text(principal.get(url, {"sort": "-name"}))
    assert descending.index("Pupil X") < descending.index("Pupil 7B X")


def _more_cases(school: School, count: int, start: int = 0) -> None:
    """`count` more pupils with cases at the unit, each with a plan in force and follow-ups; and as
    many more follow-ups of an adaptation on the case the case panel shows."""
    special = school.actor("special_teacher")
    for number in range(count):
        cases.add_adaptation_follow_up(actor=special, adaptation=school.adaptation, text=f"Uppföljning {number}",
                                       held_on=date(2026, 2, 1) + timedelta(days=number))
    for number in range(start, start + count):
        person = Person.objects.create(organisation=school.organisation, issuer=school.lms.issuer,
                                       sub=f"extra-{number}", name=f"Elev {number:03}")
        pupil = Pupil.objects.create(person=person, unit=school.unit)
        CourseMember.objects.create(deployment=school.lms.registration.deployments.get(),
                                    context_id=COURSE_7A["id"], person=person)
        case = cases.case_for(pupil, school.unit)
        cases.log_adaptation(actor=special, case=case, description="Bildstöd", started_on=date(2026, 1, 8))
        plan = plans.draft_plan(actor=special, case=case, document="action_plan", needs=["Läsning"])
        Plan.objects.filter(pk=plan.pk).update(status=Plan.Status.ACTIVE, activated_at=timezone.now())
        PlanFollowUp.objects.create(plan=plan, text="Uppföljning", held_on=date(2026, 2, 1),
                                    signed_by=special.person)


def _queries(member, url: str) -> int:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as captured:
        assert member.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("view", ["cases", "course", "case", "tasks"])
def test_a_panels_query_count_does_not_grow_with_the_data(schools: dict[str, School], db: None, view: str) -> None:
    school = schools["se"]
    key = "subject_teacher" if view == "course" else "principal"
    member = school[key]
    args = [member.launch_id, school.case.pk] if view == "case" else [member.launch_id]
    url = reverse(f"frontend:{view}", args=args)
    _more_cases(school, 2)  # a little of everything
    member.get(url)  # warm: the roster's cache, the pack
    small = _queries(member, url)
    _more_cases(school, 40, start=2)
    large = _queries(member, url)
    assert small == large, f"{view}: {small} queries with little data, {large} with more"


def test_print_pdf_and_decision_print_for_a_guardian(schools: dict[str, School], db: None) -> None:
    school = schools["se"]
    draft = plans.draft_plan(actor=school.actor("special_teacher"), case=school.case, document="action_plan",
                             needs=["Läsning"])
    guardian = school["guardian"]
    page = guardian.get(reverse("frontend:plan-print", args=[guardian.launch_id, draft.pk]))
    assert page.status_code == 200 and "Läsning" in text(page)
    pdf = guardian.get(reverse("frontend:plan-print", args=[guardian.launch_id, draft.pk]), {"format": "pdf"})
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert AuditEntry.objects.filter(person=guardian.person, action="read", object_type="support.plan").exists()
    outsider = school["outsider_principal"]
    assert outsider.get(reverse("frontend:plan-print", args=[outsider.launch_id, draft.pk])).status_code == 404


@pytest.mark.parametrize("pack", PACKS)
def test_the_caseload_query_is_exactly_the_policy(schools: dict[str, School], db: None, pack: str) -> None:
    """viewable_cases (one query, for lists) answers as can(view_case) does, case by case, for everyone."""
    school = schools[pack]
    all_cases = list(Case.objects.filter(unit__organisation=school.organisation))
    for key in school.people:
        actor = school.actor(key)
        listed = set(policy.viewable_cases(actor).values_list("pk", flat=True))
        allowed = {case.pk for case in all_cases if policy.can(actor, "view_case", case)}
        assert listed == allowed, key
        # The wider net the due service starts from misses none of them.
        assert allowed <= set(queries.cases_visible_to(actor).values_list("pk", flat=True)), key


def test_an_expert_group_member_finds_the_groups_record_from_the_start_page(schools: dict[str, School],
                                                                             db: None) -> None:
    school = schools["fi-2025"]
    member = school["expert_group_member"]
    assert school.post("expert_group_member", school.case, "convene_expert_group", {}).status_code == 302
    home = member.get(reverse("frontend:home", args=[member.launch_id]))
    link = reverse("frontend:expert-group", args=[member.launch_id, school.case.pk])
    assert link in home.content.decode()
    assert member.get(link).status_code == 200
    assert member.get(school.case_url("expert_group_member", school.case)).status_code == 404  # not the file


def test_the_panel_speaks_english_when_the_platform_does(schools: dict[str, School], db: None) -> None:
    school = schools["se"]
    client = Client()
    response = school.lms.launch(client, sub="speciallarare", roles=[INSTRUCTOR], context=COURSE_7A,
                                 name="Special Teacher X", locale="en")
    launch_id = urlsplit(response["Location"]).path.split("/")[2]
    page = client.get(reverse("frontend:case", args=[launch_id, school.case.pk])).content.decode()
    assert "What you may do" in page and "Vad du får göra" not in page


@pytest.mark.parametrize("pack", PACKS)
def test_the_answers_a_list_gets_from_the_database_are_the_policys(schools: dict[str, School], db: None,
                                                                    pack: str) -> None:
    """policy.with_permissions (what the due service reads with its cases) answers as can() does, for
    every action of the pack, every person and every case of the organisation."""
    school = schools[pack]
    levels = [level.key for level in school.actor("principal").pack.levels]
    Case.objects.filter(pk=school.case_7b.pk).update(level=levels[-1])  # grants limited to levels, too
    Case.objects.filter(pk=school.case_elsewhere.pk).update(level=levels[1])
    all_cases = list(Case.objects.filter(unit__organisation=school.organisation).select_related("pupil", "unit"))
    actions = sorted(school.actor("principal").pack.actions)
    author = school.actor("principal").person
    drafts = [Plan.objects.create(case=case, document="plan", pack_id=case.pack_id, pack_version="1",
                                  created_by=author).pk for case in all_cases]
    for key in school.people:
        actor = school.actor(key)
        rows, answers = policy.with_permissions(Case.objects.filter(pk__in=[case.pk for case in all_cases]), actor,
                                                actions)
        listed = {row["pk"]: answers.of(row) for row in rows.values("pk", "level", *answers.columns)}
        for case in all_cases:
            for action in actions:
                assert listed[case.pk][action] == policy.can(actor, action, case), (key, action, case)
        # The same answers read with a plan of each case (the due service starts from the plans).
        rows, answers = policy.with_permissions(Plan.objects.filter(pk__in=drafts), actor, actions, case="case")
        by_plan = {row["case_id"]: answers.of({**row, "level": row["case__level"]})
                   for row in rows.values("case_id", "case__level", *answers.columns)}
        assert by_plan == {case.pk: listed[case.pk] for case in all_cases}, key


def test_a_condition_on_cases_moves_to_a_plans_case_or_refuses() -> None:
    from django.db.models import Exists, OuterRef, Q

    moved = policy.on_case(Q(unit_id__in=[1, 2]) | ~Q(pupil__person=5) & Q(pk__in=[]), "case")
    assert moved == Q(case__unit_id__in=[1, 2]) | ~Q(case__pupil__person=5) & Q(case__pk__in=[])
    with pytest.raises(TypeError):
        policy.on_case(Q(Exists(Plan.objects.filter(case=OuterRef("pk")))), "case")


def test_links_reversed_once_are_the_urls_reverse_gives() -> None:
    """A list's links (frontend.views.links) equal Django's reverse for each row, in every position."""
    from frontend.views import links

    launch = uuid.uuid4()
    case_url = links("frontend:case", launch)
    form_url = links("frontend:course-pupil-form", launch, then=("raise_concern",))
    for pk in (1, 9, 123456789, 9876543210):
        assert case_url(pk) == reverse("frontend:case", args=[launch, pk])
        assert form_url(pk) == reverse("frontend:course-pupil-form", args=[launch, pk, "raise_concern"])
