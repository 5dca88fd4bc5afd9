"""Launches that work: who lands where, what the landing page says, sessions, languages, platform keys."""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.test import Client

from frontend.views import actor_for
from lti_plugin.lti.launch import STATE_COOKIE_PREFIX
from lti_plugin.lti.models import Launch, OidcState, UsedNonce
from lti_plugin.support.models import Person

from .platform import (
    CLAIM, COURSE, DROP, INSTITUTION_ADMIN, INSTRUCTOR, LEARNER, MENTOR, SYSTEM_ADMIN, KeySetServer, Lms, read_page,
)


def landing(client: Client, response: HttpResponse) -> tuple[Launch, HttpResponse]:
    """Follow the tool's answer to a launch to the page the person sees."""
    assert response.status_code == 302, response.content[:500]
    launch = Launch.objects.get()
    assert response["Location"] == f"/app/{launch.id}/"
    return launch, client.get(response["Location"])


def test_teacher_lands_on_the_course_page_with_name_course_and_roles(client, lms):
    response = lms.launch(client, sub="3", roles=[INSTRUCTOR], name="Tove Lärare")
    launch, page_response = landing(client, response)

    assert page_response.status_code == 200
    page = read_page(page_response)
    assert page.testids["who"] == "Tove Lärare"
    assert page.testids["course"] == "Matematik 7A (MA7A)"
    assert page.testids["lti-role"] == "Instructor"
    assert page.testids["tool-role"] == "Ämneslärare"
    assert "Välkommen, Tove Lärare" in page
    assert (launch.sub, launch.context_id, launch.resource_link_id) == ("3", "2", "7")
    assert UsedNonce.objects.filter(nonce=lms.last.auth.nonce).exists()
    assert not OidcState.objects.exists()  # the login's state is spent


def test_pupil_launch_gives_the_pupil_role(client, lms):
    _, page_response = landing(client, lms.launch(client, sub="5", roles=[LEARNER], name="Elsa Elev"))

    page = read_page(page_response)
    assert page_response.status_code == 200
    assert page.testids["who"] == "Elsa Elev"
    assert page.testids["lti-role"] == "Learner"
    assert page.testids["tool-role"] == "Elev"


def test_guardian_arrives_as_mentor_scoped_to_their_child(client, lms):
    response = lms.launch(client, sub="g-41", roles=[MENTOR], name="Anna Förälder", role_scope_mentor=["5"])
    launch, page_response = landing(client, response)

    page = read_page(page_response)
    assert page_response.status_code == 200
    assert page.testids["lti-role"] == "Mentor"
    assert page.testids["tool-role"] == "Vårdnadshavare"
    assert launch.claims[CLAIM + "role_scope_mentor"] == ["5"]


def test_mentor_without_a_child_in_scope_launches_but_gets_no_access(client, lms):
    _, page_response = landing(client, lms.launch(client, sub="m-1", roles=[MENTOR], name="Okänd Mentor"))

    assert page_response.status_code == 403
    page = read_page(page_response)
    assert page.testids["tool-role"] == "ingen roll i verktyget"
    assert 'role="alert"' in page_response.content.decode()  # "Your role gives no access" (see report: sv)
    assert "Välkommen" not in page


def test_it_admin_lands_on_registrations_and_sees_no_pupil_data(client, lms):
    pupil_browser = Client()
    lms.launch(pupil_browser, sub="5", roles=[LEARNER], name="Elsa Elev")
    pupil_launch = Launch.objects.get()

    roles = [INSTITUTION_ADMIN, INSTRUCTOR, SYSTEM_ADMIN]  # a Moodle site admin, exactly
    response = lms.launch(client, sub="2", roles=roles, name="Admin User")
    admin_launch = Launch.objects.exclude(pk=pupil_launch.pk).get()
    assert response["Location"] == f"/app/{admin_launch.id}/"

    course_page = client.get(response["Location"])
    assert course_page.status_code == 302
    assert course_page["Location"] == f"/app/{admin_launch.id}/registrations/"
    registrations = client.get(course_page["Location"])
    assert registrations.status_code == 200
    page = read_page(registrations)
    assert "Admin User" in page
    assert "https://lms.example.test" in page and "tool-1" in page  # the registration it manages
    assert "IT-administratör" in page.testids["tool-role"]
    assert "Elsa Elev" not in page
    # The pupil's own page is not reachable from the admin's browser either.
    assert client.get(f"/app/{pupil_launch.id}/").status_code == 403


def test_launch_without_a_name_shows_the_platform_user_id(client, lms):
    _, page_response = landing(client, lms.launch(client, sub="8127", roles=[LEARNER], name=None))

    page = read_page(page_response)
    assert page.testids["who"] == "8127"
    assert "Välkommen, 8127" in page


@pytest.mark.parametrize("locale", ["en", "en_us", "en-GB"])
def test_english_locale_gives_english_pages(client, lms, locale):
    _, page_response = landing(client, lms.launch(client, locale=locale))

    body = page_response.content.decode()
    page = read_page(page_response)
    assert '<html lang="en">' in body
    assert "Welcome, Tove Lärare" in page
    assert page.testids["tool-role"] == "Subject teacher"
    assert "You are" in page and "Role in Elevstöd" in page


@pytest.mark.parametrize("locale", ["sv", "pt_br", None])
def test_swedish_is_the_default_language(client, lms, locale):
    overrides = {"locale": locale} if locale else {"launch_presentation": DROP}
    _, page_response = landing(client, lms.launch(client, **overrides))

    body = page_response.content.decode()
    page = read_page(page_response)
    assert '<html lang="sv">' in body
    assert "Du är" in page and "Roll i Elevstöd" in page
    assert "You are" not in page


def test_the_launch_lives_in_this_browsers_session_only(client, lms):
    response = lms.launch(client)
    launch = Launch.objects.get()

    assert response.cookies["sessionid"].value
    assert response.cookies[STATE_COOKIE_PREFIX + lms.last.auth.state]["max-age"] == 0  # state cookie cleared
    assert str(launch.id) in client.session["lti_launches"]
    assert client.get(f"/app/{launch.id}/").status_code == 200

    other_browser = Client()
    refused = other_browser.get(f"/app/{launch.id}/")
    assert refused.status_code == 403
    assert "Tove Lärare" not in read_page(refused)


def test_a_second_person_in_the_same_browser_cannot_reach_the_first_persons_page(client, lms):
    lms.launch(client, sub="3", roles=[INSTRUCTOR], name="Tove Lärare")
    teacher_launch = Launch.objects.get()
    lms.launch(client, sub="5", roles=[LEARNER], name="Elsa Elev")
    pupil_launch = Launch.objects.exclude(pk=teacher_launch.pk).get()

    assert client.get(f"/app/{pupil_launch.id}/").status_code == 200
    refused = client.get(f"/app/{teacher_launch.id}/")
    assert refused.status_code == 403
    assert "Tove Lärare" not in read_page(refused)


def test_a_launch_keeps_its_person_and_one_recorded_before_that_still_finds_them(client, lms):
    lms.launch(client, sub="3", roles=[INSTRUCTOR], name="Tove Lärare")
    launch = Launch.objects.get()
    person = Person.objects.get(organisation=launch.deployment.organisation, issuer=lms.issuer, sub="3")
    assert launch.person == person and person.name == "Tove Lärare"

    Launch.objects.filter(pk=launch.pk).update(person=None)  # as a launch recorded before launches kept it
    assert actor_for(Launch.objects.get()).person == person
    assert read_page(client.get(f"/app/{launch.id}/")).testids["tool-role"] == "Ämneslärare"


def test_the_same_person_keeps_two_courses_open_side_by_side(client, lms):
    lms.launch(client, context=COURSE)
    maths = Launch.objects.get()
    lms.launch(client, context={**COURSE, "id": "9", "label": "SV7A", "title": "Svenska 7A"})
    swedish = Launch.objects.exclude(pk=maths.pk).get()

    assert read_page(client.get(f"/app/{maths.id}/")).testids["course"] == "Matematik 7A (MA7A)"
    assert read_page(client.get(f"/app/{swedish.id}/")).testids["course"] == "Svenska 7A (SV7A)"


def test_a_launch_through_the_registrations_own_login_url_comes_back_to_its_own_launch_url(client, lms):
    registration_uuid = lms.registration.uuid
    auth = lms.login(client, path=f"/lti/login/{registration_uuid}/")
    assert auth.redirect_uri == f"http://testserver/lti/launch/{registration_uuid}/"

    response = lms.post_launch(client, auth, lms.id_token(lms.claims(nonce=auth.nonce)))
    _, page_response = landing(client, response)
    assert page_response.status_code == 200


def test_platform_keys_by_url_are_fetched_once_and_cached(key_set_server: KeySetServer, lms_by_url: Lms):
    for sub in ("3", "5", "6"):
        browser = Client()
        response = lms_by_url.launch(browser, sub=sub, roles=[LEARNER])
        assert response.status_code == 302, response.content[:300]
        assert browser.get(response["Location"]).status_code == 200

    assert Launch.objects.count() == 3
    assert key_set_server.fetches == 1


def test_after_the_platform_rotates_its_key_one_refresh_lets_the_launch_through(key_set_server, lms_by_url):
    assert lms_by_url.launch(Client()).status_code == 302
    assert key_set_server.fetches == 1

    lms_by_url.rotate_key(keep_old=False)
    browser = Client()
    response = lms_by_url.launch(browser)
    assert response.status_code == 302, response.content[:300]
    assert browser.get(response["Location"]).status_code == 200
    assert key_set_server.fetches == 2  # exactly one refresh for the unknown kid

    assert lms_by_url.launch(Client()).status_code == 302
    assert key_set_server.fetches == 2  # the refreshed key set is cached
    assert Launch.objects.count() == 3


def test_a_tool_with_two_public_addresses_answers_on_the_address_it_was_reached_at(client, settings):
    settings.ALLOWED_HOSTS = ["old.elevstod.example", "elevstod.example", "testserver"]
    settings.LTI_TOOL_ORIGINS = ["https://old.elevstod.example", "https://elevstod.example"]
    old = Lms.register("https://lms.example.test", "tool-1", ["1"], tool_url="https://old.elevstod.example")
    new = Lms(issuer=old.issuer, client_id=old.client_id, key=old.key, tool_url="https://elevstod.example")

    # Each login checks that redirect_uri is on the address it came in on, character for character.
    assert new.login(Client()).redirect_uri == "https://elevstod.example/lti/launch/"
    assert old.login(Client()).redirect_uri == "https://old.elevstod.example/lti/launch/"
    response = new.launch(client)
    assert response.status_code == 302, response.content[:300]
    # Behind a proxy that rewrites Host, the first configured address is the public one.
    behind_proxy = Lms(issuer=old.issuer, client_id=old.client_id, key=old.key)
    answer = behind_proxy.initiate_login(Client(), **behind_proxy.login_fields(
        target_link_uri="https://old.elevstod.example/lti/launch/"))
    assert "redirect_uri=https%3A%2F%2Fold.elevstod.example%2Flti%2Flaunch%2F" in answer["Location"]
