"""LTI roles to tool roles (DESIGN.md "Who may do what"), in every spelling platforms send."""

from __future__ import annotations

import pytest

from lti_plugin.lti.roles import ToolRole, short_names, tool_role_for

V2 = "http://purl.imsglobal.org/vocab/lis/v2/"
INSTRUCTOR = V2 + "membership#Instructor"
LEARNER = V2 + "membership#Learner"
MENTOR = V2 + "membership#Mentor"
TEACHING_ASSISTANT = V2 + "membership/Instructor#TeachingAssistant"
SYSTEM_ADMIN = V2 + "system/person#Administrator"
INSTITUTION_ADMIN = V2 + "institution/person#Administrator"
MOODLE_NRPS_ADMIN = V2 + "person#Administrator"  # not an LIS v2 term; Moodle's NRPS writes it


@pytest.mark.parametrize("roles", [
    ["Instructor"],  # Moodle NRPS short name
    [INSTRUCTOR],
    ["urn:lti:role:ims/lis/Instructor"],  # LTI 1.1 form
    [INSTRUCTOR, LEARNER],  # a teacher who is also enrolled as a student is still the teacher
])
def test_instructor_in_any_spelling_is_a_subject_teacher(roles):
    assert tool_role_for(roles) == ToolRole.SUBJECT_TEACHER


@pytest.mark.parametrize("roles", [["Learner"], [LEARNER], ["urn:lti:role:ims/lis/Learner"]])
def test_learner_in_any_spelling_is_a_pupil(roles):
    assert tool_role_for(roles) == ToolRole.PUPIL


@pytest.mark.parametrize("roles", [
    [INSTITUTION_ADMIN, INSTRUCTOR, SYSTEM_ADMIN],  # a Moodle site admin's launch, exactly
    [SYSTEM_ADMIN],
    [INSTITUTION_ADMIN],
    ["Instructor", MOODLE_NRPS_ADMIN],  # an enrolled site admin in Moodle's NRPS answer
    ["urn:lti:sysrole:ims/lis/Administrator"],
    ["urn:lti:instrole:ims/lis/Administrator", "urn:lti:role:ims/lis/Instructor"],
    [LEARNER, SYSTEM_ADMIN],
])
def test_system_or_institution_administrator_is_an_it_admin_even_beside_instructor(roles):
    assert tool_role_for(roles) == ToolRole.IT_ADMIN


def test_mentor_with_role_scope_mentor_is_a_guardian():
    assert tool_role_for([MENTOR], mentor_scope=["5", "6"]) == ToolRole.GUARDIAN
    assert tool_role_for(["urn:lti:role:ims/lis/Mentor"], mentor_scope=["5"]) == ToolRole.GUARDIAN


def test_mentor_without_role_scope_mentor_gets_no_access():
    assert tool_role_for([MENTOR]) == ToolRole.NONE
    assert tool_role_for([MENTOR], mentor_scope=[]) == ToolRole.NONE


def test_a_teacher_with_mentor_scope_stays_a_teacher_not_a_guardian():
    assert tool_role_for([INSTRUCTOR, MENTOR], mentor_scope=["5"]) == ToolRole.SUBJECT_TEACHER


@pytest.mark.parametrize("roles", [
    [],
    ["https://example.com/roles#Chef"],
    [V2 + "membership#ContentDeveloper"],
    [V2 + "institution/person#Instructor"],  # an institution role names no role in this course
    ["instructor"],  # role names are case-sensitive
    ["urn:lti:role:ims/lis/Instructor/TeachingAssistant"],
])
def test_unknown_roles_give_no_access(roles):
    assert tool_role_for(roles) == ToolRole.NONE


def test_teaching_assistant_sub_role_alone_gives_no_access():
    assert tool_role_for([TEACHING_ASSISTANT]) == ToolRole.NONE
    assert tool_role_for([TEACHING_ASSISTANT, INSTRUCTOR]) == ToolRole.SUBJECT_TEACHER


def test_the_landing_page_names_roles_readably():
    roles = [INSTITUTION_ADMIN, INSTRUCTOR, SYSTEM_ADMIN, "Learner", "urn:lti:role:ims/lis/Mentor",
             TEACHING_ASSISTANT]

    assert short_names(roles) == ["Institution Administrator", "Instructor", "System Administrator",
                                  "Learner", "Mentor", "TeachingAssistant"]
