"""The tool's private keys at rest: a copy of the database alone does not give them away, and the
key-encryption key rotates without losing them (deploy/README.md, "The tool's private keys at rest")."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.db import connection
from django.test import override_settings

from lti_plugin.lti import keys
from lti_plugin.lti.models import ToolKey

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def table_dump() -> str:
    """Every column of every row of the key table, as text: what any dump of the database holds."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {ToolKey._meta.db_table}")
        return "\n".join(" | ".join(str(value) for value in row) for row in cursor.fetchall())


@override_settings(KEY_ENCRYPTION_KEYS=[OLD])
def test_a_dump_holds_no_private_key_and_is_useless_without_the_environments_key(db):
    key = keys.signing_key()
    pem = keys.private_pem(key)
    dump = table_dump()

    assert "PRIVATE KEY" not in dump
    assert not [line for line in pem.splitlines()[1:-1] if line in dump]
    with override_settings(KEY_ENCRYPTION_KEYS=[NEW]), pytest.raises(InvalidToken):
        keys.decrypt_secret(ToolKey.objects.get(pk=key.pk).private_key_encrypted)


def test_the_key_encryption_key_rotates_without_losing_the_tools_keys(db):
    with override_settings(KEY_ENCRYPTION_KEYS=[OLD]):
        key = keys.signing_key()
        pem = keys.private_pem(key)
    # The operator puts a new key first and keeps the old one after it: the stored key still opens...
    with override_settings(KEY_ENCRYPTION_KEYS=[NEW, OLD]):
        assert keys.private_pem(ToolKey.objects.get(pk=key.pk)) == pem
        # ...and what is encrypted from now on needs only the new key.
        token = keys.encrypt_secret("x")
    with override_settings(KEY_ENCRYPTION_KEYS=[NEW]):
        assert keys.decrypt_secret(token) == "x"
