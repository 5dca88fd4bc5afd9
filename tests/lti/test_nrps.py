"""The roster through NRPS, against the demo platform served by a real server thread."""

from __future__ import annotations

import pytest

from lti_plugin.lti.demo import data
from lti_plugin.lti.demo.platform import ensure_registered, id_token_claims
from lti_plugin.lti.launch import VerifiedLaunch
from lti_plugin.lti.nrps import RosterUnavailable, fetch_roster
from lti_plugin.lti.session import record_launch


def demo_launch(origin: str):
    registration = ensure_registered(origin)
    org = data.ORGANISATIONS[0]
    course, person = org.courses[0], org.people[0]
    claims = id_token_claims(origin=origin, org=org, course=course, person=person, nonce="n",
                             message_type="LtiResourceLinkRequest", share_names=True, locale="sv")
    deployment = registration.deployments.get(deployment_id=org.deployment_id)
    return record_launch(VerifiedLaunch(claims=claims, registration=registration, deployment=deployment))


@pytest.mark.django_db(transaction=True)
def test_roster_lists_the_course_members_with_moodle_style_roles(live_server):
    launch = demo_launch(live_server.url)
    members = {m["user_id"]: m for m in fetch_roster(launch)}
    assert set(members) == {"s-11", "s-12", "s-13", "s-21", "s-22", "s-23"}
    assert members["s-11"]["roles"] == ["Instructor"]
    # As in Moodle: a non-editing teacher (the special teacher) is listed as Learner.
    assert members["s-12"]["roles"] == ["Learner"]
    assert members["s-21"]["name"] == "Elsa Exempelsson"


@pytest.mark.django_db(transaction=True)
def test_roster_is_refused_when_the_tool_signs_with_a_key_it_does_not_publish(live_server):
    from lti_plugin.lti import keys
    from lti_plugin.lti.models import ToolKey

    launch = demo_launch(live_server.url)
    key = keys.signing_key()
    # The published half no longer matches the private half: the platform's token endpoint says no.
    key.public_jwk = keys.public_jwk_of(keys.generate_rsa_pem(), key.kid)
    key.save()
    assert ToolKey.objects.count() == 1
    with pytest.raises(RosterUnavailable):
        fetch_roster(launch)


@pytest.mark.django_db(transaction=True)
def test_the_roster_is_refreshed_from_the_launch_at_most_every_quarter_hour(live_server):
    from lti_plugin.support.models import CourseMember, Pupil
    from lti_plugin.support.services.people import refresh_roster

    launch = demo_launch(live_server.url)
    assert refresh_roster(launch) is True
    assert refresh_roster(launch) is False  # cached: no second fetch within the quarter hour
    members = CourseMember.objects.filter(context_id="101")
    assert members.filter(active=True).count() == 6
    # The teachers are staff, never pupils; the special teacher is a non-editing teacher listed as Learner,
    # and becomes a pupil only until she launches as Instructor or is granted a staff role.
    pupils = set(Pupil.objects.values_list("person__sub", flat=True))
    assert {"s-21", "s-22", "s-23"} <= pupils and "s-11" not in pupils and "s-13" not in pupils
