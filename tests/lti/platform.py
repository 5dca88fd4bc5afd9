"""An independent LTI 1.3 platform for the tests, written from the 1EdTech specifications.

It plays the LMS and the person's browser: the OIDC third-party login initiation (LTI Core 1.3
§4.1), the authentication response with a signed id_token (1EdTech Security Framework 1.0 §5.1),
and the auto-posted form to the tool's redirect_uri. Claims are shaped as Moodle 4.5 shapes them
(shared/fixtures/moodle/README.md).

It shares no code with the tool: not with the demo platform (lti_plugin/lti/demo, which signs with
PyJWT) and not with the verifier (pylti1p3 + PyJWT). Keys and signatures come from jwcrypto, and an
unsigned (`alg: none`) token is put together by hand as RFC 7519 §6.1 describes it, so a mistake on
one side cannot cancel the same mistake on the other. The PyPI package `lti1p3platform` was tried
first and not used: it signs with PyJWT, always adds `azp` (Moodle never does), cannot shape the
JOSE header or make the broken tokens the refusal tests need, and sends the login initiation as a
GET redirect where Moodle posts a form.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.http import HttpResponse
from django.test import Client
from jwcrypto import jwk, jws, jwt

from lti_plugin.lti.models import Registration
from lti_plugin.lti.registration import register_manually

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
DL_CLAIM = "https://purl.imsglobal.org/spec/lti-dl/claim/"
MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
INSTRUCTOR = MEMBERSHIP + "Instructor"
LEARNER = MEMBERSHIP + "Learner"
MENTOR = MEMBERSHIP + "Mentor"
SYSTEM_ADMIN = "http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator"
INSTITUTION_ADMIN = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"

# The course Moodle's fixtures use (README "The placeholder world").
COURSE = {"id": "2", "label": "MA7A", "title": "Matematik 7A", "type": ["CourseSection"]}

# LTI claims that may be named by their last segment in overrides: `message_type=...`.
LTI_CLAIMS = {
    "message_type", "version", "deployment_id", "target_link_uri", "resource_link", "context", "roles",
    "role_scope_mentor", "launch_presentation", "custom", "tool_platform", "lis", "ext",
}
DL_CLAIMS = {"deep_linking_settings", "content_items", "data"}


class _Drop:
    def __repr__(self) -> str:
        return "DROP"


DROP: Any = _Drop()
"""Pass as a claim, header or form value to leave it out altogether."""


def new_key(kid: str | None = None) -> jwk.JWK:
    """A fresh RSA-2048 signing key with a 20-hex-digit kid, as Moodle makes them."""
    return jwk.JWK.generate(kty="RSA", size=2048, kid=kid or secrets.token_hex(10), alg="RS256", use="sig")


def claim_name(name: str) -> str:
    """`message_type` -> the full claim URI; top-level and full names stay as they are."""
    if name in LTI_CLAIMS:
        return CLAIM + name
    if name in DL_CLAIMS:
        return DL_CLAIM + name
    return name


def apply(target: dict[str, Any], changes: Mapping[str, Any], *, rename: bool = True) -> dict[str, Any]:
    for name, value in changes.items():
        key = claim_name(name) if rename else name
        if value is DROP:
            target.pop(key, None)
        else:
            target[key] = value
    return target


def _b64(data: dict[str, Any]) -> str:
    return jws.base64url_encode(json.dumps(data, separators=(",", ":")).encode())


@dataclass
class AuthRequest:
    """The tool's authentication request, as the platform receives it after the login redirect."""

    url: str
    params: dict[str, str]
    response: HttpResponse

    @property
    def state(self) -> str:
        return self.params["state"]

    @property
    def nonce(self) -> str:
        return self.params["nonce"]

    @property
    def redirect_uri(self) -> str:
        return self.params["redirect_uri"]


@dataclass
class Attempt:
    """The last launch the platform made: what it was asked, what it signed."""

    auth: AuthRequest
    claims: dict[str, Any]
    id_token: str


@dataclass
class Lms:
    """A real LTI 1.3 platform: its own RSA key and JWKS, registered with the tool, signs every id_token."""

    issuer: str
    client_id: str
    deployment_id: str = "1"
    tool_url: str = "http://testserver"
    auth_login_url: str = ""
    key: jwk.JWK = field(default_factory=new_key)
    retired_keys: list[jwk.JWK] = field(default_factory=list)
    registration: Registration | None = None
    last: Attempt | None = None

    def __post_init__(self) -> None:
        self.auth_login_url = self.auth_login_url or self.issuer + "/mod/lti/auth.php"

    # -- registration and keys ------------------------------------------------------------------
    @classmethod
    def register(cls, issuer: str, client_id: str, deployment_ids: Iterable[str] = ("1",),
                 key_set_url: str | None = None, **options: Any) -> Lms:
        """A platform registered in the tool by its operator: keys inline, or by `key_set_url`."""
        deployment_ids = list(deployment_ids)
        lms = cls(issuer=issuer, client_id=client_id, deployment_id=deployment_ids[0], **options)
        lms.registration = register_manually(
            issuer=issuer, client_id=client_id, auth_login_url=lms.auth_login_url,
            auth_token_url=issuer + "/mod/lti/token.php", key_set_url=key_set_url or "",
            key_set=None if key_set_url else lms.jwks(), deployment_ids=deployment_ids,
            name="Test LMS " + issuer,
        )
        return lms

    def jwks(self) -> dict[str, Any]:
        """The public key set the platform publishes: the signing key, then keys not yet retired."""
        return {"keys": [key.export_public(as_dict=True) for key in [self.key, *self.retired_keys]]}

    def rotate_key(self, *, keep_old: bool = True) -> jwk.JWK:
        """Sign with a new key from now on; the old one stays published unless `keep_old` is False."""
        if keep_old:
            self.retired_keys.insert(0, self.key)
        self.key = new_key()
        return self.key

    # -- the OIDC login ---------------------------------------------------------------------------
    def login_fields(self, login_hint: str = "3", **params: Any) -> dict[str, str]:
        """The form Moodle posts to the tool's initiate_login_uri (exactly these six fields)."""
        fields = {
            "iss": self.issuer,
            "target_link_uri": self.tool_url + "/lti/launch/",
            "login_hint": login_hint,
            "lti_message_hint": json.dumps({"cmid": 42, "launchid": f"ltilaunch7_{secrets.randbelow(2**31)}"},
                                           separators=(",", ":")),
            "client_id": self.client_id,
            "lti_deployment_id": self.deployment_id,
        }
        return apply(fields, params, rename=False)

    def initiate_login(self, client: Client, *, method: str = "post", path: str = "/lti/login/",
                       headers: Mapping[str, str] | None = None, **fields: Any) -> HttpResponse:
        """The browser submits the platform's login-initiation form to the tool; the raw answer."""
        return self._send(client, method, self.tool_url + path, fields, headers)

    def login(self, client: Client, *, fields: Mapping[str, str] | None = None, path: str = "/lti/login/",
              headers: Mapping[str, str] | None = None, **params: Any) -> AuthRequest:
        """Run the login initiation and check the authentication request the tool sends us.

        `fields` replaces the whole form (a fixture's exact fields); `params` change single fields.
        """
        sent = dict(fields) if fields is not None else self.login_fields(**params)
        response = self.initiate_login(client, path=path, headers=headers, **sent)
        assert response.status_code == 302, (response.status_code, response.content[:500])
        url = response["Location"]
        base, _, query = url.partition("?")
        assert base == self.auth_login_url, url
        parsed = parse_qs(query, keep_blank_values=True, strict_parsing=True)
        assert all(len(values) == 1 for values in parsed.values()), parsed
        params_back = {name: values[0] for name, values in parsed.items()}
        expected = {
            "scope": "openid", "response_type": "id_token", "response_mode": "form_post", "prompt": "none",
            "client_id": self.client_id, "login_hint": sent["login_hint"],
            "redirect_uri": self.tool_url + path.replace("/login/", "/launch/"),
        }
        if sent.get("lti_message_hint"):
            expected["lti_message_hint"] = sent["lti_message_hint"]  # unchanged, byte for byte
        for name, value in expected.items():
            assert params_back.get(name) == value, (name, params_back.get(name), value)
        assert set(params_back) == set(expected) | {"state", "nonce"}, sorted(params_back)
        assert len(params_back["state"]) >= 16 and len(params_back["nonce"]) >= 16, params_back
        return AuthRequest(url=url, params=params_back, response=response)

    # -- the id_token ----------------------------------------------------------------------------
    def claims(self, *, nonce: str, sub: Any = "3", roles: Any = (INSTRUCTOR,), context: Any = COURSE,
               name: str | None = "Tove Lärare", locale: str = "sv",
               message_type: str = "LtiResourceLinkRequest", **overrides: Any) -> dict[str, Any]:
        """An id_token payload in Moodle 4.5's shape: exp = iat + 60, one string aud, no azp, roles sorted."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "nonce": nonce,
            "iat": now,
            "exp": now + 60,
            "iss": self.issuer,
            "aud": self.client_id,
            CLAIM + "deployment_id": self.deployment_id,
            CLAIM + "target_link_uri": self.tool_url + "/lti/launch/",
            "sub": sub,
            CLAIM + "lis": {"person_sourcedid": "", "course_section_sourcedid": ""},
            CLAIM + "roles": sorted(roles) if roles is not DROP else DROP,
            CLAIM + "context": context,
            CLAIM + "message_type": message_type,
        }
        if message_type == "LtiDeepLinkingRequest":
            claims[CLAIM + "launch_presentation"] = {"locale": locale}
        else:
            claims[CLAIM + "resource_link"] = {"title": "Elevstöd", "description": "", "id": "7"}
        if name:
            given, _, family = name.partition(" ")
            claims.update({"given_name": given, "family_name": family, "name": name})
            claims[CLAIM + "ext"] = {"user_username": given.lower(), "lms": "moodle-2"}
        else:
            claims[CLAIM + "ext"] = {"lms": "moodle-2"}
        if message_type != "LtiDeepLinkingRequest":
            claims[CLAIM + "launch_presentation"] = {
                "locale": locale, "document_target": "iframe",
                "return_url": f"{self.issuer}/mod/lti/return.php?course=2&launch_container=3&instanceid=7"
                              "&sesskey=Xy7Pq2Rs9T",
            }
        claims[CLAIM + "tool_platform"] = {
            "product_family_code": "moodle", "version": "2024100710.07",
            "guid": "92bd00b6ed0d8e8a78ef8ebdb943266d", "name": "Kommunskolan", "description": "Kommunskolans Moodle",
        }
        claims[CLAIM + "version"] = "1.3.0"
        course_id = str(context.get("id", "")) if isinstance(context, dict) else ""
        claims[CLAIM + "custom"] = {"course_id": course_id}
        if message_type == "LtiDeepLinkingRequest":
            claims[DL_CLAIM + "deep_linking_settings"] = {
                "accept_types": ["ltiResourceLink"],
                "accept_presentation_document_targets": ["frame", "iframe", "window"],
                "accept_copy_advice": False, "accept_multiple": True, "accept_unsigned": False,
                "auto_create": False, "can_confirm": False,
                "deep_link_return_url": f"{self.issuer}/mod/lti/contentitem_return.php?course=2&id=3"
                                        "&sesskey=Xy7Pq2Rs9T",
                "title": "Elevstöd", "text": "",
            }
        claims = {name: value for name, value in claims.items() if value is not DROP}
        return apply(claims, overrides)

    def id_token(self, claims: Mapping[str, Any], header: Mapping[str, Any] | None = None,
                 key: jwk.JWK | None = None) -> str:
        """Sign under Moodle's JOSE header {typ, alg RS256, kid}; `header` changes/DROPs fields."""
        key = key or self.key
        protected = apply({"typ": "JWT", "alg": "RS256", "kid": key.get("kid")}, header or {}, rename=False)
        if protected.get("alg") == "none":
            return f"{_b64(protected)}.{_b64(dict(claims))}."  # RFC 7519 §6.1: an empty signature
        token = jwt.JWT(header=protected, claims=dict(claims))
        token.make_signed_token(key)
        return token.serialize()

    # -- the launch --------------------------------------------------------------------------------
    def post_launch(self, client: Client, auth: AuthRequest, id_token: Any, *, state: Any = None,
                    method: str = "post", **fields: Any) -> HttpResponse:
        """The platform's auto-submitted form: id_token and state posted to the redirect_uri."""
        data = {"id_token": id_token, "state": auth.state if state is None else state}
        data = apply(data, fields, rename=False)
        data = {name: value for name, value in data.items() if value is not DROP}
        return self._send(client, method, auth.redirect_uri, data, None)

    def launch(self, client: Client, *, sub: Any = "3", roles: Any = (INSTRUCTOR,), context: Any = COURSE,
               header: Mapping[str, Any] | None = None, key: jwk.JWK | None = None,
               login: Mapping[str, Any] | None = None, **overrides: Any) -> HttpResponse:
        """Login, sign an id_token with the tool's nonce, post it back; the tool's answer."""
        hint = sub if isinstance(sub, str) and sub else "3"
        auth = self.login(client, **{"login_hint": hint, **(login or {})})
        nonce = overrides.pop("nonce", auth.nonce)
        claims = self.claims(nonce=nonce, sub=sub, roles=roles, context=context, **overrides)
        token = self.id_token(claims, header=header, key=key)
        self.last = Attempt(auth=auth, claims=claims, id_token=token)
        return self.post_launch(client, auth, token)

    # -- the browser --------------------------------------------------------------------------------
    @staticmethod
    def _send(client: Client, method: str, url: str, data: Mapping[str, Any],
              headers: Mapping[str, str] | None) -> HttpResponse:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        data = {name: value for name, value in data.items() if value is not DROP}
        send = client.post if method == "post" else client.get
        return send(path, data, secure=parts.scheme == "https",
                    headers={"host": parts.netloc, **(headers or {})})


class KeySetServer:
    """The platform's JWKS URL over real HTTP, from a thread on 127.0.0.1; counts the tool's fetches."""

    def __init__(self) -> None:
        self.lms: Lms | None = None
        self.fetches = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                with server._lock:
                    server.fetches += 1
                body = json.dumps(server.lms.jwks() if server.lms else {"keys": []}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/mod/lti/certs.php"

    def start(self) -> KeySetServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


# -- reading the tool's pages, as a person would ------------------------------------------------------
class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.by_testid: dict[str, list[str]] = {}
        self.forms: list[dict[str, Any]] = []
        self._open: list[tuple[str, str | None]] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag in ("script", "style"):
            self._skip += 1
        if tag == "form":
            self.forms.append({"id": attributes.get("id"), "action": attributes.get("action"),
                               "method": (attributes.get("method") or "get").lower(), "fields": {}})
        if tag == "input" and self.forms and attributes.get("name"):
            self.forms[-1]["fields"][attributes["name"]] = attributes.get("value") or ""
        if tag not in ("input", "meta", "link", "br", "img"):
            self._open.append((tag, attributes.get("data-testid")))
            if attributes.get("data-testid"):
                self.by_testid.setdefault(attributes["data-testid"], [])

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index][0] == tag:
                del self._open[index:]
                break

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self.text.append(data)
        for _, testid in self._open:
            if testid:
                self.by_testid[testid].append(data)


@dataclass
class Page:
    """What a person sees on one of the tool's pages."""

    text: str
    testids: dict[str, str]
    forms: list[dict[str, Any]]

    def __contains__(self, words: str) -> bool:
        return words in self.text


def read_page(response: HttpResponse) -> Page:
    parser = _Page()
    parser.feed(response.content.decode())
    return Page(text=" ".join(" ".join(parser.text).split()),
                testids={key: " ".join("".join(value).split()) for key, value in parser.by_testid.items()},
                forms=parser.forms)
