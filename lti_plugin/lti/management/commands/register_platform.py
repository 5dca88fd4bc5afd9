"""Register a platform by hand and print the values to paste into the LMS."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import IntegrityError

from lti_plugin.lti.errors import LtiRefusal
from lti_plugin.lti.registration import ToolUrls, register_manually
from lti_plugin.support.models import Organisation


def _is_web_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
        return parts.scheme in ("https", "http") and bool(parts.hostname)
    except ValueError:
        return False


class Command(BaseCommand):
    help = "Register an LTI 1.3 platform manually (active at once) and print the tool's values for the LMS."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--issuer", required=True)
        parser.add_argument("--client-id", required=True)
        parser.add_argument("--auth-login-url", required=True, help="the platform's OIDC authorization URL")
        parser.add_argument("--token-url", required=True, help="the platform's access token URL")
        parser.add_argument("--key-set-url", default="", help="the platform's JWKS URL")
        parser.add_argument("--key-set-file", default="", help="a JSON key set file, instead of a URL")
        parser.add_argument("--deployment-id", action="append", default=[], dest="deployment_ids")
        parser.add_argument("--organisation", default="", help="id or name of an existing organisation")
        parser.add_argument("--name", default="")
        parser.add_argument("--tool-url", default="http://127.0.0.1:8000", help="this tool's public base URL")

    def handle(self, *args: object, **options: object) -> None:
        for option in ("auth_login_url", "token_url", "key_set_url"):
            value = str(options[option])
            if value and not _is_web_url(value):
                raise CommandError(f"--{option.replace('_', '-')} is not an http(s) URL: {value!r}")
        key_set = None
        if options["key_set_file"]:
            try:
                with open(str(options["key_set_file"]), encoding="utf-8") as handle:
                    key_set = json.load(handle)
            except (OSError, ValueError) as error:
                raise CommandError(f"Cannot read the key set file: {error}") from None
            if not isinstance(key_set, dict) or not isinstance(key_set.get("keys"), list):
                raise CommandError('The key set file is not a JSON key set ({"keys": [...]}).')
        organisation = None
        if options["organisation"]:
            ref = str(options["organisation"])
            organisation = (Organisation.objects.filter(pk=int(ref)).first() if ref.isdigit()
                            else Organisation.objects.filter(name=ref).first())
            if organisation is None:
                raise CommandError(f"No organisation {ref!r}")
        try:
            registration = register_manually(
                issuer=str(options["issuer"]), client_id=str(options["client_id"]),
                auth_login_url=str(options["auth_login_url"]), auth_token_url=str(options["token_url"]),
                key_set_url=str(options["key_set_url"]), key_set=key_set,
                deployment_ids=list(options["deployment_ids"]),  # type: ignore[arg-type]
                organisation=organisation, name=str(options["name"]),
            )
        except LtiRefusal as refusal:
            raise CommandError(str(refusal.message)) from None
        except IntegrityError:
            raise CommandError("That issuer and client id are already registered.") from None
        self.stdout.write(f"Registered {registration} (organisation: {registration.organisation}).")
        self.stdout.write("Paste these into the platform:")
        for label, value in ToolUrls.for_base(str(options["tool_url"])).as_rows():
            self.stdout.write(f"  {label}: {value}")
