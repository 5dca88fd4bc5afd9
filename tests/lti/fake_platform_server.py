"""A Moodle-like LTI platform on a real local HTTP server, for dynamic registration tests.

It listens on 127.0.0.1 (random port) in a background thread and answers as Moodle 4.5's
`mod_lti` does (shared/fixtures/moodle, registration-rules.md):

- `<prefix>/mod/lti/openid-configuration.php`: the platform configuration from the fixture, every
  URL rewritten to this server (optionally under a sub-path such as `/moodle`, so the issuer is
  `http://127.0.0.1:PORT/moodle`);
- `<prefix>/mod/lti/openid-registration.php`: Moodle's checks on the tool's POST, in Moodle's
  order, with its plain-text 4xx answers, and on success an answer shaped like
  `registration-response.json` (client id = the registration token's `sub`, `deployment_id` = a new
  tool type id);
- `<prefix>/mod/lti/token.php`: a client-credentials answer like `token-response.json`, so a test
  can catch the JWT assertion the tool signs.

Moodle itself does not ask for the registration token on the configuration; this fake does (the
tool sends it there too), unless `require_token_for_configuration` is turned off. Every request is
recorded. A test can make it answer slowly (in its own thread: the test never sleeps) or with an
error status.
"""

from __future__ import annotations

import json
import re
import secrets
import string
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.conftest import moodle_fixture

MOODLE_FIXTURE_ROOT = "https://moodle.example.edu"
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
AGS_SCOPES = (
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
)
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
TOOL_SETTINGS_SCOPE = "https://purl.imsglobal.org/spec/lti-ts/scope/toolsetting"
# registration-rules.md, rule 7: present and non-empty, checked in this order.
REQUIRED_ATTRIBUTES = ("response_types", "initiate_login_uri", "redirect_uris", "client_name", "jwks_uri",
                       "token_endpoint_auth_method", TOOL_CONFIGURATION)
# mod/lti/locallib.php LTI_URL_DOMAIN_REGEX: host[:port] after an optional scheme and "www.".
_DOMAIN_REGEX = re.compile(r"(?:https?://)?(?:www\.)?([^/]+)(?:/|$)", re.IGNORECASE)
_SITE_KEY: rsa.RSAPrivateKey | None = None


def _site_key() -> rsa.RSAPrivateKey:
    """Moodle's site key signs its registration tokens; one per test run is enough."""
    global _SITE_KEY
    if _SITE_KEY is None:
        _SITE_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return _SITE_KEY


def moodle_domain(url: str) -> str:
    """`lti_get_domain_from_url`: what Moodle compares between `domain` and `target_link_uri`."""
    match = _DOMAIN_REGEX.match(url or "")
    return match.group(1) if match else ""


def _php_empty(value: Any) -> bool:
    return value is None or value is False or value in ("", "0", 0) or value == [] or value == {}


class RegistrationError(Exception):
    """A registration_exception in Moodle: a status and a short plain-text reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # names in lower case
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return {key: values[0] for key, values in parse_qs(self.body.decode()).items()}


@dataclass
class IssuedToken:
    sub: str
    scope: str


@dataclass
class FakeMoodle:
    """A Moodle 4.5 site as seen by a tool registering itself. Use as a context manager."""

    path_prefix: str = ""
    # The issuer the configuration names; None = this server's own base URL (the honest answer).
    issuer_override: str | None = None
    require_token_for_configuration: bool = True
    configuration_status: int = 200
    # Force an answer to the registration POST instead of Moodle's checks: (status, plain-text body).
    registration_error: tuple[int, str] | None = None
    omit_client_id: bool = False
    # Seconds to wait before answering, per endpoint ("configuration", "registration"): longer than
    # the tool's timeout makes it give up. `stall_body` sends the headers first and then waits.
    delays: dict[str, float] = field(default_factory=dict)
    stall_body: bool = False
    next_type_id: int = 3  # Moodle's tool type id, which is the deployment id
    requests: list[RecordedRequest] = field(default_factory=list)
    tools: dict[str, dict[str, Any]] = field(default_factory=dict)  # client id -> registration answer
    _tokens: dict[str, IssuedToken] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _release: threading.Event = field(default_factory=threading.Event)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------------
    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.block_on_close = False
        server.platform = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="fake-moodle", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._release.set()  # a slow answer still waiting ends now
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # -- addresses --------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        assert self._server is not None, "start the fake platform first"
        return self._server.server_address[1]

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """Moodle's `$CFG->wwwroot`."""
        return self.origin + self.path_prefix.rstrip("/")

    @property
    def issuer(self) -> str:
        return self.issuer_override if self.issuer_override is not None else self.base_url

    @property
    def configuration_url(self) -> str:
        return self.base_url + "/mod/lti/openid-configuration.php"

    @property
    def registration_url(self) -> str:
        return self.base_url + "/mod/lti/openid-registration.php"

    @property
    def token_url(self) -> str:
        return self.base_url + "/mod/lti/token.php"

    @property
    def authorization_url(self) -> str:
        return self.base_url + "/mod/lti/auth.php"

    @property
    def jwks_url(self) -> str:
        return self.base_url + "/mod/lti/certs.php"

    def configuration(self) -> dict[str, Any]:
        text = json.dumps(moodle_fixture("openid-configuration.json"))
        config = json.loads(text.replace(MOODLE_FIXTURE_ROOT, self.base_url))
        config["issuer"] = self.issuer
        return config

    # -- what the platform did --------------------------------------------------------------------
    def issue_token(self, *, client_id: str | None = None, scope: str = "reg") -> str:
        """What `startltiadvregistration.php` puts in `registration_token` (a new client id as `sub`)."""
        sub = client_id or "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(15))
        now = int(time.time())
        token = jwt.encode({"sub": sub, "scope": scope, "iat": now, "exp": now + 3600}, _site_key(),
                           algorithm="RS256", headers={"kid": "8f3c2a1b9d0e7f6a5b4c"})
        with self._lock:
            self._tokens[token] = IssuedToken(sub=sub, scope=scope)
        return token

    def received(self, path_suffix: str, method: str | None = None) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests
                    if r.path.endswith(path_suffix) and (method is None or r.method == method)]

    @property
    def configuration_requests(self) -> list[RecordedRequest]:
        return self.received("/mod/lti/openid-configuration.php")

    @property
    def registration_posts(self) -> list[RecordedRequest]:
        return self.received("/mod/lti/openid-registration.php", "POST")

    # -- Moodle's logic ---------------------------------------------------------------------------
    def _token_from(self, headers: dict[str, str]) -> IssuedToken | None:
        auth = headers.get("authorization", "")
        if not auth.startswith("Bearer "):
            return None
        token = auth[len("Bearer "):]
        try:
            jwt.decode(token, _site_key().public_key(), algorithms=["RS256"])
        except jwt.InvalidTokenError:
            return None
        with self._lock:
            return self._tokens.get(token)

    def register(self, headers: dict[str, str], body: bytes) -> dict[str, Any]:
        """mod/lti/openid-registration.php for a POST; raises RegistrationError as Moodle answers."""
        if not headers.get("authorization", "").startswith("Bearer "):
            raise RegistrationError(401, "missing_registration_token")
        token = self._token_from(headers)
        if token is None:
            # Moodle lets this exception reach its generic error page (rule 3).
            raise RegistrationError(500, "<html><body><p>Invalid registration token</p></body></html>")
        with self._lock:
            if token.scope == "reg" and token.sub in self.tools:
                raise RegistrationError(401, "token_already_used")
        if token.scope == "reg-update":
            with self._lock:
                type_ids = {answer[TOOL_CONFIGURATION]["deployment_id"] for answer in self.tools.values()}
            if token.sub not in type_ids:
                raise RegistrationError(400, "Unknown client")
            raise RegistrationError(400, "Unsupported operation")  # updates are out of this fake's scope
        if token.scope != "reg":
            raise RegistrationError(403, "Incorrect scope")
        try:
            request = json.loads(body)
        except ValueError:
            request = None
        if not isinstance(request, dict):
            raise RegistrationError(400, f"missing required attribute {REQUIRED_ATTRIBUTES[0]}")
        answer = self.registration_to_config(request, client_id=token.sub)
        with self._lock:
            self.tools[token.sub] = answer
        return answer

    def registration_to_config(self, request: dict[str, Any], *, client_id: str) -> dict[str, Any]:
        """registration_helper::registration_to_config + config_to_registration, in Moodle's order."""
        for name in REQUIRED_ATTRIBUTES:
            if _php_empty(request.get(name)):
                raise RegistrationError(400, f"missing required attribute {name}")
        tool_config = request[TOOL_CONFIGURATION]
        if not isinstance(tool_config, dict) or _php_empty(tool_config.get("domain")):
            raise RegistrationError(400, "missing_domain")
        domain = moodle_domain(str(tool_config["domain"]))
        target_link_uri = tool_config.get("target_link_uri") or f"https://{domain}"
        if domain != moodle_domain(str(target_link_uri)):
            raise RegistrationError(400, "domain_targetlinkuri_mismatch")
        response_types = request["response_types"]
        if not isinstance(response_types, list) or "id_token" not in response_types:
            raise RegistrationError(400, "invalid_response_types")
        if not isinstance(request["redirect_uris"], list):
            raise RegistrationError(400, "invalid_redirect_uris")
        if request["token_endpoint_auth_method"] != "private_key_jwt":
            raise RegistrationError(400, "invalid_token_endpoint_auth_method")
        if not _php_empty(request.get("application_type")) and request["application_type"] != "web":
            raise RegistrationError(400, "invalid_application_type")

        asked = str(request.get("scope") or "").split()
        scopes = list(AGS_SCOPES) if any(scope in AGS_SCOPES for scope in asked) else []
        scopes += [scope for scope in (NRPS_SCOPE, TOOL_SETTINGS_SCOPE) if scope in asked]
        asked_claims = tool_config.get("claims") or []
        claims = ["sub", "iss"]
        if {"name", "given_name", "family_name"} & set(asked_claims):
            claims += ["name", "family_name", "given_name"]
        if "email" in asked_claims:
            claims.append("email")
        messages = [{"type": "LtiDeepLinkingRequest", "target_link_uri": m.get("target_link_uri", "")}
                    for m in (tool_config.get("messages") or [])
                    if isinstance(m, dict) and m.get("type") == "LtiDeepLinkingRequest"][:1]
        with self._lock:
            type_id = self.next_type_id
            self.next_type_id += 1
        answer_config: dict[str, Any] = {
            "version": "1.3.0",
            "deployment_id": str(type_id),
            "target_link_uri": target_link_uri,
            "domain": domain,
            "description": tool_config.get("description", ""),
        }
        if messages:
            answer_config["messages"] = messages
        if tool_config.get("custom_parameters"):
            answer_config["custom_parameters"] = tool_config["custom_parameters"]
        answer_config["claims"] = claims
        return {
            "client_id": client_id,
            "response_types": ["id_token"],
            "jwks_uri": request["jwks_uri"],
            "initiate_login_uri": request["initiate_login_uri"],
            "grant_types": ["client_credentials", "implicit"],
            "redirect_uris": request["redirect_uris"],
            "application_type": "web",
            "token_endpoint_auth_method": "private_key_jwt",
            "client_name": request["client_name"],
            "logo_uri": request.get("logo_uri", ""),
            "scope": " ".join(scopes),
            TOOL_CONFIGURATION: answer_config,
        }

    def wait(self, what: str) -> None:
        delay = self.delays.get(what)
        if delay:
            self._release.wait(delay)


class _Handler(BaseHTTPRequestHandler):
    server_version = "Apache"
    sys_version = ""

    @property
    def platform(self) -> FakeMoodle:
        return self.server.platform  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: object) -> None:  # quiet test output
        pass

    def _record(self) -> RecordedRequest:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        recorded = RecordedRequest(method=self.command, path=parts.path, query=parse_qs(parts.query),
                                   headers={k.lower(): v for k, v in self.headers.items()}, body=body)
        with self.platform._lock:
            self.platform.requests.append(recorded)
        return recorded

    def _send(self, status: int, body: str, content_type: str, *, delay_key: str = "") -> None:
        data = body.encode("utf-8")
        if delay_key and not self.platform.stall_body:
            self.platform.wait(delay_key)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if delay_key and self.platform.stall_body:
            self.wfile.flush()
            self.platform.wait(delay_key)
        with suppress(BrokenPipeError, ConnectionResetError):  # the tool may have given up waiting
            self.wfile.write(data)

    def _text(self, status: int, text: str, *, delay_key: str = "") -> None:
        content_type = "text/html; charset=utf-8" if text.startswith("<") else "text/plain; charset=utf-8"
        self._send(status, text, content_type, delay_key=delay_key)

    def _json(self, status: int, payload: Any, *, delay_key: str = "") -> None:
        # PHP's json_encode escapes slashes; any JSON parser reads it the same.
        self._send(status, json.dumps(payload).replace("/", "\\/"), "application/json; charset=utf-8",
                   delay_key=delay_key)

    def _route(self) -> str:
        path = urlsplit(self.path).path
        prefix = self.platform.path_prefix.rstrip("/")
        if prefix and not path.startswith(prefix + "/"):
            return ""
        return path[len(prefix):]

    def do_GET(self) -> None:  # http.server's naming
        recorded = self._record()
        route = self._route()
        platform = self.platform
        if route == "/mod/lti/openid-configuration.php":
            if platform.require_token_for_configuration and platform._token_from(recorded.headers) is None:
                self._text(401, "missing_registration_token", delay_key="configuration")
            elif platform.configuration_status != 200:
                self._text(platform.configuration_status, "<html><body>Error</body></html>",
                           delay_key="configuration")
            else:
                self._json(200, platform.configuration(), delay_key="configuration")
        elif route == "/mod/lti/openid-registration.php":
            self._text(400, "Unsupported operation")
        else:
            self._text(404, "<html><body>Not found</body></html>")

    def do_POST(self) -> None:
        recorded = self._record()
        route = self._route()
        platform = self.platform
        if route == "/mod/lti/openid-registration.php":
            if platform.registration_error is not None:
                status, text = platform.registration_error
                self._text(status, text, delay_key="registration")
                return
            try:
                answer = platform.register(recorded.headers, recorded.body)
            except RegistrationError as error:
                self._text(error.status, error.reason, delay_key="registration")
                return
            if platform.omit_client_id:
                answer = {key: value for key, value in answer.items() if key != "client_id"}
            self._json(200, answer, delay_key="registration")
        elif route == "/mod/lti/token.php":
            form = recorded.form()
            if form.get("grant_type") != "client_credentials" or not form.get("client_assertion"):
                self._json(400, {"error": "invalid_request"})
            elif not form.get("scope"):
                self._json(400, {"error": "invalid_scope"})
            else:
                self._json(200, moodle_fixture("token-response.json"))
        else:
            self._text(404, "<html><body>Not found</body></html>")

    def do_PUT(self) -> None:
        self._record()
        self._text(400, "Unsupported operation")


@contextmanager
def fake_moodle(**options: Any) -> Iterator[FakeMoodle]:
    """A running fake Moodle for the duration of the block."""
    with FakeMoodle(**options) as platform:
        yield platform
