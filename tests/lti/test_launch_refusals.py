"""Launches the tool must refuse: a 4xx, a page that says why, no launch, no session, nothing kept.

The person here reads English (launch locale `en`, Accept-Language `en`) so the reasons can be quoted;
one test at the end checks the Swedish default.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.http import HttpResponse
from django.test import Client
from jwcrypto import jwk, jws

from lti_plugin.lti.launch import STATE_COOKIE_PREFIX
from lti_plugin.lti.models import Deployment, Launch, OidcState, Status, UsedNonce
from lti_plugin.lti.registration import register_manually

from .platform import DROP, Lms, new_key, read_page

START = datetime(2025, 10, 31, 8, 0, tzinfo=UTC)


@pytest.fixture
def client() -> Client:
    """A browser whose person reads English."""
    return Client(headers={"accept-language": "en"})


def launch(lms: Lms, client: Client, **kwargs) -> HttpResponse:
    return lms.launch(client, locale="en", **kwargs)


def assert_refused(response: HttpResponse, client: Client, *, status: int, code: str, says: str,
                   launches: int = 0, nonces: int = 0) -> None:
    """A 4xx, the refusal page with its reason; no launch, no session, no used nonce."""
    assert response.status_code == status, (response.status_code, response.content[:600])
    page = read_page(response)
    assert "Could not open Elevstöd" in page
    assert says in page, page.text
    assert f"Reason code for your IT support: {code}" in page
    assert Launch.objects.count() == launches
    assert UsedNonce.objects.count() == nonces
    assert not client.session.get("lti_launches")
    assert "Location" not in response


# -- signature and keys ---------------------------------------------------------------------------------
def test_a_token_signed_with_another_key_under_the_platforms_kid_is_refused(client, lms):
    forger = new_key(kid=lms.key.get("kid"))

    response = launch(lms, client, key=forger)

    assert_refused(response, client, status=401, code="signature",
                   says="The launch token's signature is not valid.")


def test_an_unknown_kid_is_refused_after_exactly_one_key_set_refresh(client, key_set_server, lms_by_url):
    assert lms_by_url.launch(Client()).status_code == 302  # the key set is now cached

    response = launch(lms_by_url, client, key=new_key())

    assert_refused(response, client, status=401, code="kid_unknown", launches=1, nonces=1,
                   says="The launch token was signed with a key the platform has not published.")
    assert key_set_server.fetches == 2  # the first fetch, then one refresh for the unknown kid

    assert launch(lms_by_url, Client(), key=new_key()).status_code == 401
    assert key_set_server.fetches == 2  # a stream of forged kids cannot make us hammer the platform


def test_a_token_without_kid_is_refused(client, lms):
    response = launch(lms, client, header={"kid": DROP})

    assert_refused(response, client, status=400, code="kid_missing",
                   says="The launch token names no signing key (kid).")


def test_an_unsigned_alg_none_token_is_refused(client, lms):
    response = launch(lms, client, header={"alg": "none"})

    assert_refused(response, client, status=400, code="alg",
                   says="The launch token must be signed with RS256.")


def test_a_hs256_token_keyed_with_the_platforms_public_key_is_refused(client, lms):
    public_pem = lms.key.export_to_pem()  # public half: anyone can fetch it
    secret = jwk.JWK(kty="oct", k=jws.base64url_encode(public_pem))

    response = launch(lms, client, header={"alg": "HS256"}, key=secret)

    assert_refused(response, client, status=400, code="alg",
                   says="The launch token must be signed with RS256.")


# -- times ------------------------------------------------------------------------------------------------
def test_a_token_without_exp_is_refused(client, lms):
    response = launch(lms, client, exp=DROP)

    assert_refused(response, client, status=400, code="claim_missing",
                   says="The launch token lacks a required claim: exp.")


def _sign_then_post_later(lms: Lms, client: Client, *, sign_at: int, post_at: int) -> HttpResponse:
    """Log in at START, sign `sign_at` seconds later (the platform's clock), post at `post_at`."""
    with time_machine.travel(START, tick=False) as traveller:
        auth = lms.login(client)
        traveller.shift(sign_at)
        token = lms.id_token(lms.claims(nonce=auth.nonce, locale="en"))  # Moodle: exp = iat + 60
        traveller.shift(post_at - sign_at)
        return lms.post_launch(client, auth, token)


def test_a_token_expired_beyond_the_clock_skew_is_refused(client, lms):
    response = _sign_then_post_later(lms, client, sign_at=0, post_at=60 + 61)

    assert_refused(response, client, status=401, code="expired",
                   says="The launch token has expired. Start again from your course.")


def test_a_token_expired_within_the_clock_skew_is_accepted(client, lms):
    response = _sign_then_post_later(lms, client, sign_at=0, post_at=60 + 30)

    assert response.status_code == 302
    assert Launch.objects.count() == 1


def test_a_token_issued_beyond_the_clock_skew_in_the_future_is_refused(client, lms):
    response = _sign_then_post_later(lms, client, sign_at=90, post_at=0)  # the platform's clock is 90 s fast

    assert_refused(response, client, status=401, code="iat_future",
                   says="The launch token was issued in the future. Check the platform's clock.")


def test_a_token_issued_within_the_clock_skew_in_the_future_is_accepted(client, lms):
    response = _sign_then_post_later(lms, client, sign_at=30, post_at=0)

    assert response.status_code == 302
    assert Launch.objects.count() == 1


def test_a_token_issued_longer_ago_than_its_lifetime_is_refused(client, lms):
    response = launch(lms, client, iat=int(START.timestamp()), exp=2**31 - 1)

    assert_refused(response, client, status=401, code="iat_too_old",
                   says="The launch token has expired. Start again from your course.")


# -- nonce ------------------------------------------------------------------------------------------------
def test_a_token_without_nonce_is_refused(client, lms):
    response = launch(lms, client, nonce=DROP)

    assert_refused(response, client, status=400, code="nonce_missing",
                   says="The launch token carries no nonce.")


def test_the_same_id_token_posted_twice_is_refused_the_second_time(client, lms):
    assert launch(lms, client).status_code == 302
    first = Launch.objects.get()
    auth, token = lms.last.auth, lms.last.id_token

    again = lms.post_launch(client, auth, token)  # the same browser: its state cookie was cleared

    assert again.status_code == 400
    assert "Reason code for your IT support: state_cookie_mismatch" in read_page(again)
    # Someone who copied the form and forges the state cookie in their own browser gets no further.
    attacker = Client(headers={"accept-language": "en"})
    attacker.cookies[STATE_COOKIE_PREFIX + auth.state] = auth.state
    replay = lms.post_launch(attacker, auth, token)

    assert_refused(replay, attacker, status=400, code="state_unknown", launches=1, nonces=1,
                   says="This login has expired or was already used. Start again from your course.")
    assert list(Launch.objects.all()) == [first]


def test_an_id_token_replayed_into_a_new_login_is_refused(client, lms):
    assert launch(lms, client).status_code == 302
    used = lms.last
    fresh_browser = Client(headers={"accept-language": "en"})
    new_login = lms.login(fresh_browser)

    response = lms.post_launch(fresh_browser, new_login, used.id_token)

    assert_refused(response, fresh_browser, status=400, code="nonce_mismatch", launches=1, nonces=1,
                   says="The launch token does not belong to this login (nonce).")


# -- audience, issuer, client, deployment -----------------------------------------------------------
def test_a_token_for_another_registration_of_the_same_platform_is_refused(client, lms):
    register_manually(issuer=lms.issuer, client_id="tool-1-course-9", auth_login_url=lms.auth_login_url,
                      auth_token_url="", key_set=lms.jwks(), deployment_ids=["9"])

    response = launch(lms, client, aud="tool-1-course-9")

    assert_refused(response, client, status=403, code="aud_mismatch",
                   says="The launch token is not addressed to this tool (client id).")


def test_a_token_for_an_unknown_client_id_is_refused(client, lms):
    response = launch(lms, client, aud="someone-elses-tool")

    assert_refused(response, client, status=403, code="aud_mismatch",
                   says="The launch token is not addressed to this tool (client id).")


def test_a_login_for_an_unknown_client_id_is_refused(client, lms):
    response = lms.initiate_login(client, **lms.login_fields(client_id="someone-elses-tool"))

    assert_refused(response, client, status=403, code="iss_unknown",
                   says="This platform is not registered with the tool.")
    assert not OidcState.objects.exists()


def test_several_audiences_without_azp_are_refused(client, lms):
    response = launch(lms, client, aud=[lms.client_id, "another-tool"])

    assert_refused(response, client, status=400, code="azp_missing",
                   says="The launch token has several audiences and no authorized party.")


def test_azp_naming_another_client_is_refused(client, lms):
    response = launch(lms, client, aud=[lms.client_id, "another-tool"], azp="another-tool")

    assert_refused(response, client, status=403, code="aud_mismatch",
                   says="The launch token is not addressed to this tool (client id).")


def test_azp_outside_the_audiences_is_refused(client, lms):
    response = launch(lms, client, aud=lms.client_id, azp="another-tool")

    assert_refused(response, client, status=400, code="azp_mismatch",
                   says="The launch token's authorized party is not among its audiences.")


def test_a_token_from_an_unknown_issuer_is_refused(client, lms):
    response = launch(lms, client, iss="https://moodle.elsewhere.example")

    assert_refused(response, client, status=403, code="iss_unknown",
                   says="This platform is not registered with the tool.")


def test_an_unknown_deployment_is_refused(client, lms):
    response = launch(lms, client, deployment_id="99")

    assert_refused(response, client, status=403, code="deployment_unknown",
                   says="This deployment of the tool is not registered.")
    # (the nonce was stored before the deployment check; the refusal rolled it back)


def test_a_pending_deployment_is_refused(client, lms):
    Deployment.objects.create(registration=lms.registration, organisation=lms.registration.organisation,
                              deployment_id="2", status=Status.PENDING)

    response = launch(lms, client, deployment_id="2")

    assert_refused(response, client, status=403, code="deployment_pending",
                   says="This deployment is waiting for approval by the tool's administrator.")


def test_a_pending_registration_cannot_start_a_login(client, lms):
    lms.registration.status = Status.PENDING
    lms.registration.save()

    response = lms.initiate_login(client, **lms.login_fields())

    assert_refused(response, client, status=403, code="registration_pending",
                   says="This platform's registration is waiting for approval by the tool's administrator.")
    assert not OidcState.objects.exists()


def test_a_registration_set_back_to_pending_during_the_login_is_refused_at_launch(client, lms):
    auth = lms.login(client)
    lms.registration.status = Status.PENDING
    lms.registration.save()

    response = lms.post_launch(client, auth, lms.id_token(lms.claims(nonce=auth.nonce, locale="en")))

    assert_refused(response, client, status=403, code="registration_pending",
                   says="This platform's registration is waiting for approval by the tool's administrator.")


# -- the message --------------------------------------------------------------------------------------
def test_a_token_without_message_type_is_refused(client, lms):
    response = launch(lms, client, message_type=DROP)

    assert_refused(response, client, status=400, code="message_type",
                   says="The tool does not accept this kind of LTI message.")


def test_an_unknown_message_type_is_refused(client, lms):
    response = launch(lms, client, message_type="LtiSubmissionReviewRequest")

    assert_refused(response, client, status=400, code="message_type",
                   says="The tool does not accept this kind of LTI message.")


def test_an_lti_version_other_than_1_3_0_is_refused(client, lms):
    response = launch(lms, client, version="1.1")

    assert_refused(response, client, status=400, code="version",
                   says="The tool accepts LTI version 1.3.0 only.")


@pytest.mark.parametrize(("claim", "overrides"), [
    ("sub", {"sub": DROP}),
    ("roles", {"roles": DROP}),
    ("resource_link.id", {"resource_link": {"title": "Elevstöd", "description": ""}}),
    ("deployment_id", {"deployment_id": DROP}),
])
def test_a_resource_link_launch_missing_a_required_claim_is_refused(client, lms, claim, overrides):
    response = launch(lms, client, **overrides)

    assert_refused(response, client, status=400, code="claim_missing",
                   says=f"The launch token lacks a required claim: {claim}.")


def test_a_launch_pointing_at_another_site_is_refused(client, lms):
    response = launch(lms, client, target_link_uri="https://elevstod.evil.example/lti/launch/")

    assert_refused(response, client, status=400, code="target_link_uri",
                   says="The launch points at an address that is not this tool's.")


def test_a_launch_pointing_at_another_page_of_ours_is_refused(client, lms):
    response = launch(lms, client, target_link_uri="http://testserver/admin/")

    assert_refused(response, client, status=400, code="target_link_uri",
                   says="The launch points at an address that is not this tool's.")


# -- state --------------------------------------------------------------------------------------------
def _login_and_sign(lms: Lms, client: Client):
    auth = lms.login(client)
    return auth, lms.id_token(lms.claims(nonce=auth.nonce, locale="en"))


def test_a_launch_without_state_is_refused(client, lms):
    auth, token = _login_and_sign(lms, client)

    response = lms.post_launch(client, auth, token, state=DROP)

    assert_refused(response, client, status=400, code="state_missing",
                   says="The launch carries no state. Start again from your course.")


@pytest.mark.parametrize("cookie", ["missing", "mismatched"])
def test_a_launch_whose_state_cookie_is_missing_or_different_is_refused(client, lms, cookie):
    auth, token = _login_and_sign(lms, client)
    name = STATE_COOKIE_PREFIX + auth.state
    assert client.cookies[name].value == auth.state
    if cookie == "missing":
        del client.cookies[name]  # the browser dropped our cookie (third-party cookies blocked)
    else:
        client.cookies[name] = "state-from-another-login"

    response = lms.post_launch(client, auth, token)

    assert_refused(response, client, status=400, code="state_cookie_mismatch",
                   says="Your browser did not keep the login cookie. "
                        "Open the tool in a new window and try again.")
    assert OidcState.objects.filter(state=auth.state).exists()  # the real login may still finish


def test_a_state_the_tool_never_issued_is_refused(client, lms):
    auth, token = _login_and_sign(lms, client)
    forged = "state-forged-by-someone"
    client.cookies[STATE_COOKIE_PREFIX + forged] = forged

    response = lms.post_launch(client, auth, token, state=forged)

    assert_refused(response, client, status=400, code="state_unknown",
                   says="This login has expired or was already used. Start again from your course.")


def test_a_login_left_open_too_long_is_refused(client, lms):
    with time_machine.travel(START, tick=False) as traveller:
        auth = lms.login(client)
        traveller.shift(601)  # past LTI_STATE_LIFETIME_SECONDS
        token = lms.id_token(lms.claims(nonce=auth.nonce, locale="en"))  # fresh: only the state is old
        response = lms.post_launch(client, auth, token)

    assert_refused(response, client, status=400, code="state_unknown",
                   says="This login has expired or was already used. Start again from your course.")


# -- how it arrives -------------------------------------------------------------------------------------
def test_an_id_token_sent_by_get_is_refused(client, lms):
    auth, token = _login_and_sign(lms, client)

    response = lms.post_launch(client, auth, token, method="get")

    assert_refused(response, client, status=405, code="method",
                   says="A launch must be posted by the platform, not opened as a link.")
    assert response["Allow"] == "POST"


def test_the_platforms_error_answer_is_shown_not_crashed_on(client, lms):
    auth = lms.login(client)

    # Moodle's failure: a POST to redirect_uri with `error` (+ description) and `state`, no id_token.
    response = lms.post_launch(client, auth, DROP, error="access_denied",
                               error_description="The user is not logged in to Moodle.")

    assert_refused(response, client, status=403, code="platform_error",
                   says="The platform refused the login: The user is not logged in to Moodle.")


def test_the_platforms_bare_error_code_is_shown(client, lms):
    auth = lms.login(client)

    response = lms.post_launch(client, auth, DROP, error="invalid_request")

    assert_refused(response, client, status=403, code="platform_error",
                   says="The platform refused the login: invalid_request")


# -- login initiation ------------------------------------------------------------------------------------
def test_a_login_from_an_unknown_issuer_is_refused(client, lms):
    response = lms.initiate_login(client, **lms.login_fields(iss="https://moodle.elsewhere.example"))

    assert_refused(response, client, status=403, code="iss_unknown",
                   says="This platform is not registered with the tool.")
    assert not OidcState.objects.exists()
    assert not [name for name in response.cookies if name.startswith(STATE_COOKIE_PREFIX)]


def test_a_login_for_a_target_that_is_not_ours_is_refused(client, lms):
    fields = lms.login_fields(target_link_uri="https://elevstod.evil.example/lti/launch/")

    response = lms.initiate_login(client, **fields)

    assert_refused(response, client, status=400, code="target_link_uri",
                   says="The launch points at an address that is not this tool's.")
    assert not OidcState.objects.exists()
    assert not [name for name in response.cookies if name.startswith(STATE_COOKIE_PREFIX)]


# -- language -------------------------------------------------------------------------------------------
def test_a_refusal_speaks_swedish_by_default(lms):
    browser = Client()

    response = lms.launch(browser, key=new_key(kid=lms.key.get("kid")))  # locale sv, as Moodle sends

    assert response.status_code == 401
    page = read_page(response)
    assert '<html lang="sv">' in response.content.decode()
    assert "Elevstöd kunde inte öppnas" in page
    assert "Starttokens signatur är inte giltig." in page
    assert not Launch.objects.exists()

