"""DESIGN.md's "Who may do what", written out by hand per pack: the ax table and the se and fi
differences listed under it. Never computed from a pack or from the policy; the pack tests and the
HTTP matrix walk both check the tool against these answers."""

from __future__ import annotations

PUPIL = "pupil"
GUARDIAN = "guardian"
CLASS = "class_teacher"
SUBJECT = "subject_teacher"
SPECIAL = "special_teacher"
PRINCIPAL = "principal"
DELEGATE = "principal_delegate"
HEALTH = "health_team_member"
CHIEF = "education_chief"
EXPERT = "expert_group_member"
COMMUNAL = "communal_welfare_group_member"
ORG_ADMIN = "organisation_admin"
IT_ADMIN = "it_admin"

# DESIGN.md, the ax table, row by row.
AX = {
    "raise_concern": {PUPIL, GUARDIAN, CLASS, SUBJECT, SPECIAL, PRINCIPAL, HEALTH},
    "log_adaptation": {CLASS, SUBJECT, SPECIAL},
    "add_follow_up": {CLASS, SUBJECT, SPECIAL},
    "start_assessment": {CLASS, SPECIAL, PRINCIPAL},
    "process_assessment": {HEALTH},
    "request_investigation": {SPECIAL, PRINCIPAL},
    "conduct_investigation": {SPECIAL, HEALTH},
    "draft_plan": {CLASS, SUBJECT, SPECIAL, HEALTH},
    "record_evaluation": {CLASS, SUBJECT, SPECIAL, HEALTH},
    "add_own_view": {PUPIL, GUARDIAN},
    "record_guardian_view": {CLASS, SPECIAL, PRINCIPAL},
    "record_hearing": {PRINCIPAL},
    "decide_level_2": {PRINCIPAL},
    "decide_new_plan": {PRINCIPAL},
    "decide_close_plan": {PRINCIPAL},
    "prepare_level_3": {PRINCIPAL},
    "request_resources": {PRINCIPAL},
    "draft_ip": {CLASS, SUBJECT, SPECIAL},
    "decide_level_3": {CHIEF},
    "decide_review_outcome": {CHIEF},
    "record_review": {CLASS, HEALTH},
    "start_absence_step": {CLASS, PRINCIPAL, HEALTH},
    "check_absence_action": {CLASS, PRINCIPAL, HEALTH},
    "add_absence_follow_up": {CLASS, PRINCIPAL, HEALTH},
    "start_absence_step_early": {PRINCIPAL},
    "record_report_to_social_services": {CLASS, SUBJECT, SPECIAL, PRINCIPAL, HEALTH, CHIEF},
    "view_case": {PUPIL, GUARDIAN, CLASS, SUBJECT, SPECIAL, PRINCIPAL, HEALTH, CHIEF},
    "read_audit_log": {PRINCIPAL, CHIEF},
    "grant_staff_roles": {PRINCIPAL},
    "map_course_to_unit": {ORG_ADMIN},
    "grant_principal": {ORG_ADMIN},
    "name_education_chief": {ORG_ADMIN},
    "manage_registrations": {IT_ADMIN},
    "rotate_keys": {IT_ADMIN},
}

# se: no education chief, no level 3 by that name (so no prepare_level_3, request_resources, draft_ip,
# decide_level_3, decide_review_outcome, record_review, name_education_chief); ÅP decisions by the
# principal or the named delegate, plus decide_not_to_draw_up_plan; level-3 measures principal only;
# report_to_principal for every staff role.
SE = {
    "raise_concern": {PUPIL, GUARDIAN, CLASS, SUBJECT, SPECIAL, PRINCIPAL, HEALTH},
    "report_to_principal": {CLASS, SUBJECT, SPECIAL, PRINCIPAL, DELEGATE, HEALTH},
    "log_adaptation": {CLASS, SUBJECT, SPECIAL},
    "add_follow_up": {CLASS, SUBJECT, SPECIAL},
    "start_assessment": {CLASS, SPECIAL, PRINCIPAL},
    "process_assessment": {HEALTH},
    "request_investigation": {SPECIAL, PRINCIPAL},
    "conduct_investigation": {SPECIAL, HEALTH},
    "draft_plan": {CLASS, SUBJECT, SPECIAL, HEALTH},
    "record_evaluation": {CLASS, SUBJECT, SPECIAL, HEALTH},
    "add_own_view": {PUPIL, GUARDIAN},
    "record_guardian_view": {CLASS, SPECIAL, PRINCIPAL},
    "record_hearing": {PRINCIPAL},
    "decide_level_2": {PRINCIPAL, DELEGATE},
    "decide_not_to_draw_up_plan": {PRINCIPAL, DELEGATE},
    "decide_new_plan": {PRINCIPAL, DELEGATE},
    "decide_close_plan": {PRINCIPAL, DELEGATE},
    "decide_special_group": {PRINCIPAL},
    "decide_adapted_studies": {PRINCIPAL},
    "start_absence_step": {CLASS, PRINCIPAL, HEALTH},
    "check_absence_action": {CLASS, PRINCIPAL, HEALTH},
    "add_absence_follow_up": {CLASS, PRINCIPAL, HEALTH},
    "start_absence_step_early": {PRINCIPAL},
    "record_report_to_social_services": {CLASS, SUBJECT, SPECIAL, PRINCIPAL, DELEGATE, HEALTH},
    "view_case": {PUPIL, GUARDIAN, CLASS, SUBJECT, SPECIAL, PRINCIPAL, DELEGATE, HEALTH},
    "read_audit_log": {PRINCIPAL},
    "grant_staff_roles": {PRINCIPAL},
    "map_course_to_unit": {ORG_ADMIN},
    "grant_principal": {ORG_ADMIN},
    "manage_registrations": {IT_ADMIN},
    "rotate_keys": {IT_ADMIN},
}

# fi: decide_support (the pack's levels) by the principal or provider instead of the level, plan and
# review decisions and the level-3 preparation; consent for staff; the expert group's three actions
# only for its members. fi-2010 keeps the IP and the grade-point review; fi-2025 has neither.
FI_2010 = {
    "raise_concern": {PUPIL, GUARDIAN, CLASS, SUBJECT, SPECIAL, PRINCIPAL, HEALTH},
    "log_adaptation": {CLASS, SUBJECT, SPECIAL},
    "add_follow_up": {CLASS, SUBJECT, SPECIAL},
    "start_assessment": {CLASS, SPECIAL, PRINCIPAL},
    "process_assessment": {HEALTH},
    "request_investigation": {SPECIAL, PRINCIPAL},
    "conduct_investigation": {SPECIAL, HEALTH},
    "draft_plan": {CLASS, SUBJECT, SPECIAL, HEALTH},
    "record_evaluation": {CLASS, SUBJECT, SPECIAL, HEALTH},
    "add_own_view": {PUPIL, GUARDIAN},
    "record_guardian_view": {CLASS, SPECIAL, PRINCIPAL},
    "record_hearing": {PRINCIPAL},
    "decide_support": {PRINCIPAL, CHIEF},
    "draft_ip": {CLASS, SUBJECT, SPECIAL},
    "record_review": {CLASS, HEALTH},
    "start_absence_step": {CLASS, PRINCIPAL, HEALTH},
    "check_absence_action": {CLASS, PRINCIPAL, HEALTH},
    "add_absence_follow_up": {CLASS, PRINCIPAL, HEALTH},
    "start_absence_step_early": {PRINCIPAL},
    "record_report_to_social_services": {CLASS, SUBJECT, SPECIAL, PRINCIPAL, HEALTH, CHIEF},
    "record_consent": {CLASS, SUBJECT, SPECIAL, PRINCIPAL, HEALTH, EXPERT},
    "withdraw_consent": {CLASS, SUBJECT, SPECIAL, PRINCIPAL, HEALTH, EXPERT},
    "convene_expert_group": {EXPERT},
    "write_expert_group_record": {EXPERT},
    "read_expert_group_record": {EXPERT},
    "view_case": {PUPIL, GUARDIAN, CLASS, SUBJECT, SPECIAL, PRINCIPAL, HEALTH, CHIEF},
    "read_audit_log": {PRINCIPAL, CHIEF},
    "grant_staff_roles": {PRINCIPAL},
    "map_course_to_unit": {ORG_ADMIN},
    "grant_principal": {ORG_ADMIN},
    "name_education_chief": {ORG_ADMIN},
    "manage_registrations": {IT_ADMIN},
    "rotate_keys": {IT_ADMIN},
}
FI_2025 = {action: roles for action, roles in FI_2010.items() if action not in {"draft_ip", "record_review"}}
