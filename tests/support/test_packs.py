"""The framework packs and the absence ladder: they load, say what DESIGN.md and the seeds say, and a
broken pack is refused with an error that names the file and the field.

The expected matrices below are written out by hand from DESIGN.md's ax table and the se and fi
differences listed under it; never computed from a pack or from the policy.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lti_plugin.support.pack import (
    PackError,
    available_absence_ladders,
    available_packs,
    get_absence_ladder,
    get_pack,
    load_absence_ladder,
    load_pack,
)


@pytest.fixture(autouse=True)
def _clear_cache():
    """Packs are files: these tests need neither the database nor the shared cache (overrides conftest)."""
    yield


from tests.design_matrix import (  # noqa: E402
    AX, CHIEF, CLASS, COMMUNAL, DELEGATE, EXPERT, FI_2010, FI_2025, GUARDIAN, HEALTH, IT_ADMIN, ORG_ADMIN,
    PRINCIPAL, PUPIL, SE, SPECIAL, SUBJECT,
)

EXPECTED = {"ax": AX, "se": SE, "fi-2010": FI_2010, "fi-2025": FI_2025}

CASE_ACTIONS_NOBODY_ADMIN_MAY_TAKE = {
    "raise_concern", "log_adaptation", "add_follow_up", "start_assessment", "draft_plan", "record_evaluation",
    "record_hearing", "view_case", "read_audit_log", "record_report_to_social_services",
    "read_expert_group_record",
}
ADMIN_ACTIONS = {
    "map_course_to_unit", "grant_principal", "name_education_chief", "manage_registrations", "rotate_keys",
}


# --- the shipped packs ------------------------------------------------------------------------------


def test_the_four_framework_packs_and_the_absence_ladder_are_shipped():
    assert set(available_packs()) == {"se", "ax", "fi-2010", "fi-2025"}
    assert available_absence_ladders() == ("absence-danderyd",)


@pytest.mark.parametrize("pack_id", ["se", "ax", "fi-2010", "fi-2025"])
def test_every_shipped_pack_loads_and_is_cached(pack_id):
    pack = load_pack(pack_id)
    assert pack.id == pack_id
    assert pack.version == "2025-08-01"
    assert [level.rank for level in pack.levels] == list(range(1, len(pack.levels) + 1))
    assert get_pack(pack_id) is get_pack(pack_id)


@pytest.mark.parametrize("pack_id", ["se", "ax", "fi-2010", "fi-2025"])
def test_matrix_matches_design(pack_id):
    pack = get_pack(pack_id)
    assert {action: set(pack.roles_for(action)) for action in pack.actions} == EXPECTED[pack_id]


def test_an_action_a_pack_does_not_have_is_open_to_nobody():
    assert get_pack("se").roles_for("decide_level_3") == frozenset()
    assert get_pack("ax").roles_for("decide_not_to_draw_up_plan") == frozenset()


@pytest.mark.parametrize("pack_id", ["se", "ax", "fi-2010", "fi-2025"])
def test_pupil_sees_only_self_and_guardian_only_own_child(pack_id):
    pack = get_pack(pack_id)
    assert pack.actions_for(PUPIL) == {"raise_concern", "add_own_view", "view_case"}
    assert pack.actions_for(GUARDIAN) == {"raise_concern", "add_own_view", "view_case"}
    for action in pack.actions_for(PUPIL):
        assert pack.scope_for(action, PUPIL) == "self"
        assert pack.scope_for(action, GUARDIAN) == "own_child"
    assert pack.grant("view_case", PUPIL).extent == "summary"
    assert pack.grant("view_case", GUARDIAN).extent == "summary"


@pytest.mark.parametrize("pack_id", ["se", "ax", "fi-2010", "fi-2025"])
def test_view_case_scopes_follow_the_design_table(pack_id):
    pack = get_pack(pack_id)
    assert pack.scope_for("view_case", CLASS) == "class_and_taught"
    assert pack.scope_for("view_case", SUBJECT) == "taught"
    assert pack.scope_for("view_case", SPECIAL) == "unit"
    assert pack.scope_for("view_case", PRINCIPAL) == "unit"
    assert pack.grant("view_case", HEALTH).scope == "unit"
    assert pack.grant("view_case", HEALTH).extent == "pedagogical"
    assert pack.grant("view_case", PRINCIPAL).extent == "full"
    assert pack.scope_for("read_audit_log", PRINCIPAL) == "unit"
    assert pack.scope_for("grant_staff_roles", PRINCIPAL) == "unit"


def test_ax_education_chief_sees_the_organisations_level_3_cases_and_those_presented_for_it():
    chief = get_pack("ax").grant("view_case", CHIEF)
    assert chief.scope == "organisation"
    assert chief.levels == ("multiprofessional_support",)
    assert chief.include_pending is True
    assert get_pack("ax").scope_for("read_audit_log", CHIEF) == "organisation"


def test_ax_level_3_is_decided_by_the_education_chief_alone():
    ax = get_pack("ax")
    assert ax.roles_for("decide_level_3") == {CHIEF}
    decision = ax.decision("decide_level_3")
    assert decision.roles == {CHIEF}
    assert decision.level == "multiprofessional_support"
    assert decision.prepared_through == "prepare_level_3"
    assert decision.executed_by == {PRINCIPAL}
    assert ax.level("multiprofessional_support").decisions == ("decide_level_3",)


def test_ax_principal_cannot_draft_a_plan_but_decides_level_2():
    ax = get_pack("ax")
    assert PRINCIPAL not in ax.roles_for("draft_plan")
    assert PRINCIPAL not in ax.roles_for("draft_ip")
    assert ax.roles_for("decide_level_2") == {PRINCIPAL}
    assert ax.decision("decide_level_2").level == "special_needs_support"


def test_se_action_plan_decisions_by_principal_or_delegate_and_level_3_measures_by_the_principal_only():
    se = get_pack("se")
    for action in ("decide_level_2", "decide_new_plan", "decide_close_plan", "decide_not_to_draw_up_plan"):
        assert se.roles_for(action) == {PRINCIPAL, DELEGATE}
        assert se.decision(action).delegable
    for action in ("decide_special_group", "decide_adapted_studies"):
        assert se.roles_for(action) == {PRINCIPAL}
        assert not se.decision(action).delegable
        assert se.decision(action).level == "special_measures"
    assert se.role(DELEGATE).delegate_of == PRINCIPAL
    assert {option.key for option in se.decision("decide_special_group").options} == {
        "special_teaching_group", "individual_teaching"}


def test_se_has_no_education_chief_and_ax_no_delegate():
    assert CHIEF not in get_pack("se").roles
    assert DELEGATE not in get_pack("ax").roles
    assert DELEGATE not in get_pack("fi-2010").roles


def test_se_every_staff_role_may_report_to_the_principal():
    staff = {CLASS, SUBJECT, SPECIAL, PRINCIPAL, DELEGATE, HEALTH}
    assert get_pack("se").roles_for("report_to_principal") == staff


@pytest.mark.parametrize("pack_id", ["fi-2010", "fi-2025"])
def test_fi_expert_group_record_is_only_for_the_expert_group_while_consent_stands(pack_id):
    pack = get_pack(pack_id)
    for action in ("read_expert_group_record", "write_expert_group_record", "convene_expert_group"):
        assert pack.roles_for(action) == {EXPERT}
        assert pack.scope_for(action, EXPERT) == "expert_group"
    welfare = pack.welfare
    assert welfare.consent_required_for_expert_group is True
    assert welfare.communal_welfare_group_reaches_pupils is False
    assert welfare.consent_needed_for_pedagogical_support is False
    assert welfare.consent_gated_actions == {
        "convene_expert_group", "write_expert_group_record", "read_expert_group_record"}


@pytest.mark.parametrize("pack_id", ["fi-2010", "fi-2025"])
def test_fi_communal_welfare_group_has_no_pupil_data_action(pack_id):
    pack = get_pack(pack_id)
    assert COMMUNAL in pack.roles
    assert pack.actions_for(COMMUNAL) == frozenset()
    assert pack.role(COMMUNAL).pupil_data is False


@pytest.mark.parametrize("pack_id", ["se", "ax"])
def test_welfare_section_is_only_in_the_finnish_packs(pack_id):
    pack = get_pack(pack_id)
    assert pack.welfare is None
    assert EXPERT not in pack.roles and COMMUNAL not in pack.roles


@pytest.mark.parametrize("pack_id", ["se", "ax", "fi-2010", "fi-2025"])
def test_organisation_and_it_admins_have_no_case_action(pack_id):
    pack = get_pack(pack_id)
    assert pack.actions_for(IT_ADMIN) == {"manage_registrations", "rotate_keys"}
    assert pack.actions_for(ORG_ADMIN) <= {"map_course_to_unit", "grant_principal", "name_education_chief"}
    assert "map_course_to_unit" in pack.actions_for(ORG_ADMIN)
    for action in CASE_ACTIONS_NOBODY_ADMIN_MAY_TAKE:
        assert not pack.roles_for(action) & {IT_ADMIN, ORG_ADMIN}, action
    assert pack.role(IT_ADMIN).pupil_data is False
    assert pack.role(ORG_ADMIN).pupil_data is False
    assert pack.no_pupil_data_actions >= ADMIN_ACTIONS & pack.actions


@pytest.mark.parametrize("pack_id", ["se", "ax"])
def test_unikum_rule_holds_for_every_action_plan(pack_id):
    plan = get_pack(pack_id).document("action_plan")
    assert plan.review_cycle == "single_evaluation"
    assert plan.short_name.sv == "ÅP"
    assert plan.review_months is None and plan.review_grades == ()


def test_ax_individual_plan_is_reviewed_at_the_end_of_grades_2_6_and_8():
    ax = get_pack("ax")
    plan = ax.document("individual_plan")
    assert (plan.review_cycle, plan.review_grades, plan.short_name.sv) == ("grade_points", (2, 6, 8), "IP")
    points = ax.review_points
    assert points.grades == (2, 6, 8)
    assert points.responsible == CLASS
    assert points.participants == (HEALTH,)
    assert points.decider == CHIEF
    assert points.decision == "decide_review_outcome"


def test_fi_2010_levels_documents_and_decision():
    fi = get_pack("fi-2010")
    assert [level.key for level in fi.levels] == ["general_support", "intensified_support", "special_support"]
    assert [level.name.sv for level in fi.levels] == ["Allmänt stöd", "Intensifierat stöd", "Särskilt stöd"]
    intensified, special = fi.level("intensified_support"), fi.level("special_support")
    assert not intensified.requires_decision and intensified.prerequisites == ("assessment",)
    assert "learning_plan" in intensified.documents
    assert special.requires_decision and special.decisions == ("decide_support",)
    assert "investigation" in special.prerequisites and "individual_plan" in special.documents
    assert fi.review_points.grades == (2, 6)
    assert str(fi.valid_until) == "2025-07-31"


def test_fi_2025_has_group_support_without_decision_and_pupil_specific_support_with_one():
    fi = get_pack("fi-2025")
    group, specific = fi.levels
    assert (group.key, group.requires_decision, group.decisions) == ("group_support", False, ())
    assert specific.key == "pupil_specific_support"
    assert specific.requires_decision and specific.decisions == ("decide_support",)
    assert set(specific.prerequisites) == {"assessment", "plan", "hearing"}
    assert fi.decision("decide_support").requires_hearing
    assert fi.review_points is None
    assert str(fi.valid_from) == "2025-08-01"


def test_se_levels():
    se = get_pack("se")
    assert [level.key for level in se.levels] == ["extra_adaptations", "special_support", "special_measures"]
    assert se.level("special_support").prerequisites == ("investigation",)
    assert se.level("special_support").decisions == ("decide_level_2",)


@pytest.mark.parametrize("pack_id", ["se", "ax", "fi-2010", "fi-2025"])
def test_appeal_text_on_every_appealable_decision(pack_id):
    pack = get_pack(pack_id)
    for key, decision in pack.decisions.items():
        if decision.appealable:
            assert pack.appeal_text(key, "sv") and pack.appeal_text(key, "en"), key
        else:
            assert pack.appeal_text(key, "sv") is None, key


def test_extra_adaptations_need_no_decision_and_carry_no_appeal():
    se = get_pack("se")
    level = se.level("extra_adaptations")
    assert not level.requires_decision and level.decisions == ()
    assert not any("extra_adaptations" in decision.levels for decision in se.decisions.values())
    assert se.level("extra_adaptations").documents == ("adaptation_log",)


def test_se_appeal_goes_in_writing_to_the_school_owner_within_three_weeks():
    se = get_pack("se")
    for key in ("decide_level_2", "decide_new_plan", "decide_close_plan", "decide_not_to_draw_up_plan",
                "decide_special_group", "decide_adapted_studies"):
        appeal = se.appeal_for(key)
        assert appeal.key == "school_appeals_board"
    appeal = se.appeals["school_appeals_board"]
    assert appeal.deadline_days == 21 and appeal.in_writing
    assert "Skolväsendets överklagandenämnd" in appeal.text.sv
    assert "huvudman" in appeal.send_to.sv
    assert "tre veckor" in se.appeal_text("decide_close_plan", "sv-SE")
    assert "three weeks" in se.appeal_text("decide_close_plan", "en")


@pytest.mark.parametrize("pack_id", ["ax", "fi-2010", "fi-2025"])
def test_appeals_design_marks_check_locally_are_marked(pack_id):
    assert all(appeal.check_locally for appeal in get_pack(pack_id).appeals.values())


@pytest.mark.parametrize("pack_id", ["se", "ax", "fi-2010", "fi-2025"])
def test_close_reasons_and_names_in_both_languages(pack_id):
    pack = get_pack(pack_id)
    assert set(pack.close_reasons) == {
        "need_no_longer_remains", "fresh_investigation_wanted", "pupil_leaves_unit"}
    for role in pack.roles.values():
        assert role.name.sv and role.name.en


def test_text_falls_back_to_english_for_other_languages():
    name = get_pack("se").level("special_support").name
    assert name.get("sv") == name.get("sv-FI") == "Särskilt stöd"
    assert name.get("en-GB") == name.get("fi") == name.get(None) == "Special support"


# --- the absence ladder -----------------------------------------------------------------------------


def test_absence_ladder_steps_as_design_tabulates_them():
    ladder = get_absence_ladder("absence-danderyd")
    assert [step.number for step in ladder.steps] == [1, 2, 3, 4]
    assert ladder.early_start_allowed_for == {PRINCIPAL}
    assert ladder.early_start_requires_reason is True

    one, two, three, four = ladder.steps
    assert one.responsible == (CLASS, SUBJECT)  # mentor + work team
    assert one.trigger.match == "any"
    assert {(c.metric, c.op, c.value) for c in one.trigger.conditions} == {
        ("unreported_absences", ">=", 1), ("recurring_reported_absence_weeks", ">=", 3)}
    assert one.follow_up.due_days == 14

    assert set(two.responsible) == {CLASS, SUBJECT, HEALTH}
    assert two.trigger.after_previous_step_days == 14
    assert two.item("simple_mapping").due_days == 14 and two.item("try_measures").due_days == 14

    assert set(three.responsible) == {CLASS, SUBJECT, HEALTH, PRINCIPAL}
    assert three.trigger.after_previous_step_days == 14
    assert [(c.metric, c.op, c.value) for c in three.trigger.conditions] == [("absence_percent", ">=", 15)]
    assert three.item("investigate_high_absence").due_days == 21
    assert three.item("report_to_school_owner").report_to == "school_owner"

    assert set(four.responsible) == {CLASS, HEALTH, PRINCIPAL}
    assert four.trigger.after_previous_step_days == 21
    assert four.follow_up.every_months == 1 and four.follow_up.due_days is None
    assert not four.check_locally and all(step.check_locally for step in (one, two, three))


def test_a_trigger_condition_compares_a_measured_value():
    ladder = get_absence_ladder("absence-danderyd")
    fifteen_percent = ladder.step(3).trigger.conditions[0]
    assert fifteen_percent.holds(15) and fifteen_percent.holds(22.5)
    assert not fifteen_percent.holds(14.9)
    no_result = ladder.step(4).trigger.conditions[0]
    assert no_result.holds(False) and not no_result.holds(True)


def test_absence_step_4_is_the_seed():
    four = get_absence_ladder("absence-danderyd").step(4)
    assert [item.key for item in four.actions] == [
        "follow_up_meeting", "in_depth_analysis", "coordinate_new_measures", "report_to_social_services",
        "guardians_responsibility", "monthly_follow_up",
    ]
    report = four.item("report_to_social_services")
    assert report.responsible == (PRINCIPAL,) and report.advisers == (HEALTH,)
    assert report.report_to == "social_services_of_home_municipality"
    assert "hemkommunen" in report.note.sv
    assert "vitesföreläggande" in four.item("guardians_responsibility").text.sv
    assert four.item("guardians_responsibility").conditional
    assert "varje månad" in four.item("monthly_follow_up").text.sv
    assert {item.key for item in four.consider} >= {"name_coordinator", "form_of_coordination"}

    assert four.coordination.record_coordinator and four.coordination.record_form
    assert {form.key for form in four.coordination.forms} == {
        "meetings_with_guardians", "official_meetings", "sip", "network_meetings"}
    assert four.documentation.document == "adaptation_log"
    assert four.documentation.unless_decided == "action_plan"
    for item in four.actions + four.consider:
        assert item.text.sv and item.text.en


# --- broken packs are refused -----------------------------------------------------------------------

MINIMAL = """
kind = "framework"
id = "mini"
version = "2025-08-01"
name = { sv = "Mini", en = "Mini" }
description = { sv = "En liten pack", en = "A small pack" }
no_pupil_data_actions = ["rotate_keys"]

[[levels]]
key = "one"
rank = 1
name = { sv = "Ett", en = "One" }
description = { sv = "Ett", en = "One" }
documents = ["log"]
requires_decision = false

[[levels]]
key = "two"
rank = 2
name = { sv = "Två", en = "Two" }
description = { sv = "Två", en = "Two" }
documents = ["log", "plan"]
requires_decision = true
decisions = ["decide_new_plan"]

[documents.log]
name = { sv = "Logg", en = "Log" }
review_cycle = "when_needed"
requires_hearing = false
draft_action = "log_adaptation"

[documents.plan]
name = { sv = "Plan", en = "Plan" }
review_cycle = "periodic"
review_months = 6
requires_hearing = true
draft_action = "draft_plan"

[decisions.decide_new_plan]
name = { sv = "Beslut", en = "Decision" }
roles = ["principal"]
delegable = false
appealable = true
appeal = "board"
requires_hearing = true
level = "two"

[close_reasons.need_no_longer_remains]
name = { sv = "Klart", en = "Done" }

[appeals.board]
route = { sv = "Nämnden", en = "The board" }
deadline_days = 21
send_to = { sv = "Huvudmannen", en = "The owner" }
in_writing = true
text = { sv = "Överklaga", en = "Appeal" }

[roles.pupil]
name = { sv = "Elev", en = "Pupil" }
scopes = ["self"]
granted_through = "lti"

[roles.principal]
name = { sv = "Rektor", en = "Principal" }
scopes = ["unit"]
granted_through = "operator"

[roles.it_admin]
name = { sv = "IT", en = "IT" }
scopes = ["platform"]
granted_through = "lti"
pupil_data = false

[matrix]
log_adaptation = ["principal"]
draft_plan = ["principal"]
view_case = [{ role = "pupil", scope = "self", extent = "summary" }, "principal"]
decide_new_plan = ["principal"]
rotate_keys = ["it_admin"]
"""


def write(tmp_path: Path, text: str, name: str = "mini") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def broken(old: str, new: str) -> str:
    assert old in MINIMAL, f"the test's anchor {old!r} is not in the minimal pack"
    return MINIMAL.replace(old, new, 1)


def test_the_minimal_test_pack_loads(tmp_path):
    pack = load_pack(write(tmp_path, MINIMAL))
    assert pack.roles_for("view_case") == {PUPIL, PRINCIPAL}
    assert pack.document("plan").review_months == 6


@pytest.mark.parametrize(("old", "new", "message"), [
    # a missing field
    ('granted_through = "operator"\n', "",
     "mini.toml: roles.principal.granted_through: missing required field"),
    ("deadline_days = 21\n", "", "mini.toml: appeals.board.deadline_days: missing required field"),
    # an unknown role in the matrix
    ('rotate_keys = ["it_admin"]', 'rotate_keys = ["it_admin", "janitor"]',
     "mini.toml: matrix.rotate_keys[1]: unknown role 'janitor'"),
    ('{ role = "pupil", scope = "self", extent = "summary" }', '{ role = "pupl", scope = "self" }',
     "mini.toml: matrix.view_case[0].role: unknown role 'pupl'"),
    # an unknown appeal reference
    ('appeal = "board"', 'appeal = "x"', "mini.toml: decisions.decide_new_plan.appeal: unknown appeal 'x'"),
    # a duplicate level rank
    ("rank = 2", "rank = 1", "mini.toml: levels[1].rank: rank 1 is used twice (also levels[0])"),
    # a name without English
    ('name = { sv = "Ett", en = "One" }', 'name = { sv = "Ett" }',
     "mini.toml: levels[0].name.en: missing required field"),
    # more references that must resolve
    ('documents = ["log", "plan"]', 'documents = ["log", "plan", "ip"]',
     "mini.toml: levels[1].documents[2]: unknown document 'ip'"),
    ('level = "two"', 'level = "three"', "mini.toml: decisions.decide_new_plan.level: unknown level 'three'"),
    ('draft_action = "draft_plan"', 'draft_action = "draft_ip"',
     "mini.toml: documents.plan.draft_action: unknown action 'draft_ip'"),
    ('decisions = ["decide_new_plan"]', 'decisions = ["decide_level_9"]',
     "mini.toml: levels[1].decisions[0]: unknown decision 'decide_level_9'"),
    # review-cycle fields
    ("review_months = 6\n", "",
     "mini.toml: documents.plan.review_months: review_cycle = 'periodic' needs review_months"),
    ('review_cycle = "periodic"\nreview_months = 6', 'review_cycle = "grade_points"',
     "mini.toml: documents.plan.review_grades: review_cycle = 'grade_points' needs review_grades"),
    ('review_cycle = "when_needed"', 'review_cycle = "when_needed"\nreview_months = 3',
     "mini.toml: documents.log.review_months: review_months belongs to review_cycle 'periodic'"),
    ('review_cycle = "when_needed"', 'review_cycle = "yearly"', "mini.toml: documents.log.review_cycle"),
    # types and consistency
    ("rank = 2", 'rank = "2"', "mini.toml: levels[1].rank: expected an integer"),
    ("rank = 2", "rank = 3", "mini.toml: levels: ranks must run 1..2; 2 is missing"),
    ("appealable = true", "appealable = false",
     "mini.toml: decisions.decide_new_plan.appeal: names an appeal"),
    ('decide_new_plan = ["principal"]', 'decide_new_plan = ["principal", "pupil"]',
     "mini.toml: decisions.decide_new_plan.roles"),
    ('view_case = [{ role = "pupil", scope = "self"', 'view_case = [{ role = "pupil", scope = "unit"',
     "mini.toml: matrix.view_case[0].scope: scope 'unit' is not one of pupil's scopes"),
    ('rotate_keys = ["it_admin"]', 'rotate_keys = ["it_admin"]\nview_audit = ["it_admin"]',
     "mini.toml: matrix.view_audit[0]: 'it_admin' reaches no pupil data"),
    ("delegable = false", "delegable = false\ndelegatable = true",
     "mini.toml: decisions.decide_new_plan.delegatable: unknown field"),
    ('id = "mini"', 'id = "other"', "mini.toml: id: id 'other' must be the file's name"),
    ('version = "2025-08-01"', 'version = "soon"', "mini.toml: version"),
    ('kind = "framework"', 'kind = "absence_ladder"', "mini.toml: kind: this is a absence_ladder file"),
    ("[roles.it_admin]", "[roles.janitor]", "mini.toml: roles.janitor: unknown tool role 'janitor'"),
    ('decide_new_plan = ["principal"]\n', "",
     "mini.toml: decisions.decide_new_plan: a decision must be an action"),
    ('log_adaptation = ["principal"]', 'log_adaptation = ["principal"]\ndecide_level_5 = ["principal"]',
     "mini.toml: matrix.decide_level_5: a decide_ action needs an entry in [decisions]"),
    ('name = { sv = "Mini", en = "Mini" }', "name = [", "mini.toml: not valid TOML"),
])
def test_a_broken_pack_is_refused_with_the_field_named(tmp_path, old, new, message):
    with pytest.raises(PackError) as refused:
        load_pack(write(tmp_path, broken(old, new)))
    assert message in str(refused.value)


def test_an_unknown_pack_id_is_refused():
    with pytest.raises(PackError, match="not a shipped framework pack"):
        get_pack("no")
    with pytest.raises(PackError, match="no such pack file"):
        load_pack("nowhere")


def test_a_broken_absence_ladder_is_refused(tmp_path):
    text = (Path(load_absence_ladder("absence-danderyd").source)).read_text(encoding="utf-8")
    text = text.replace('id = "absence-danderyd"', 'id = "ladder"')
    assert load_absence_ladder(write(tmp_path, text, "ladder")).step(4).follow_up.every_months == 1
    cases = [
        ("every_months = 1\n", "", "ladder.toml: steps[3].follow_up: give due_days (once) or every_months"),
        ('metric = "absence_percent"', 'metric = "absence_ratio"',
         "ladder.toml: steps[2].trigger.conditions[0].metric: 'absence_ratio' is not one of"),
        ('responsible = ["class_teacher", "subject_teacher"]\ndocuments = ["adaptation_log"]',
         'responsible = ["mentor"]\ndocuments = ["adaptation_log"]',
         "ladder.toml: steps[0].responsible[0]: unknown role 'mentor'"),
        ('documents = ["adaptation_log", "absence_mapping"]', 'documents = ["adaptation_log", "mapping"]',
         "ladder.toml: steps[1].documents[1]: unknown document 'mapping'"),
        ("number = 3", "number = 5", "ladder.toml: steps: steps must be numbered 1..4 in order"),
        (', en = "The principal appoints a member of the health team to investigate the high absence." }',
         " }",
         "ladder.toml: steps[2].actions[0].text.en: missing required field"),
        ('early_start_allowed_for = ["principal"]', 'early_start_allowed_for = ["head"]',
         "ladder.toml: early_start_allowed_for[0]: unknown role 'head'"),
    ]
    for old, new, message in cases:
        assert old in text, old
        path = write(tmp_path, text.replace(old, new, 1), "ladder")
        with pytest.raises(PackError) as refused:
            load_absence_ladder(path)
        assert message in str(refused.value)
