"""The tool's RSA keys: generated on first use, stored encrypted, rotated without breaking anything.

Rotation makes a new key the signing key and gives the old one a retire date; /lti/jwks/ publishes
every key until its retire date, so a platform that cached our key set, or a token signed a moment
before the rotation, still verifies.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import timedelta
from functools import lru_cache

from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from jwcrypto.jwk import JWK

from .models import ToolKey


def _fernet() -> MultiFernet:
    keys = list(settings.KEY_ENCRYPTION_KEYS)
    if not keys:
        # Embedded default only (production refuses to start without KEY_ENCRYPTION_KEYS):
        # a key derived from this installation's SECRET_KEY.
        digest = hashlib.sha256(b"elevstod-key-encryption:" + settings.SECRET_KEY.encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    return MultiFernet([Fernet(key.encode()) for key in keys])


def encrypt_secret(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt_secret(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()


def generate_rsa_pem() -> str:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def public_jwk_of(private_pem: str, kid: str) -> dict:
    jwk = JWK.from_pem(private_pem.encode())
    public = json.loads(jwk.export_public())
    public.update({"kid": kid, "alg": "RS256", "use": "sig"})
    return public


def _new_key() -> ToolKey:
    pem = generate_rsa_pem()
    kid = JWK.from_pem(pem.encode()).thumbprint()  # RFC 7638, the kid pylti1p3 derives too
    return ToolKey.objects.create(kid=kid, public_jwk=public_jwk_of(pem, kid),
                                  private_key_encrypted=encrypt_secret(pem))


def signing_key() -> ToolKey:
    """The newest key not scheduled for retirement; made on first use."""
    key = ToolKey.objects.filter(retire_at__isnull=True).order_by("-created_at").first()
    # Two processes starting at once may both make one; the newer signs, both are published.
    return key if key is not None else _new_key()


def private_pem(key: ToolKey) -> str:
    return decrypt_secret(key.private_key_encrypted)


@lru_cache(maxsize=32)
def _loaded_private_key(kid: str, encrypted: str) -> rsa.RSAPrivateKey:
    # Immutable key material, parsed once per process (OpenSSL's RSA check costs ~50 ms a load);
    # keyed by the ciphertext too, so a changed row is never served from here.
    loaded = serialization.load_pem_private_key(decrypt_secret(encrypted).encode(), password=None)
    assert isinstance(loaded, rsa.RSAPrivateKey)
    return loaded


def private_key(key: ToolKey) -> rsa.RSAPrivateKey:
    """The key object to sign with (PyJWT takes it as it takes a PEM)."""
    return _loaded_private_key(key.kid, key.private_key_encrypted)


def public_pem(key: ToolKey) -> str:
    return JWK(**key.public_jwk).export_to_pem().decode()


def public_jwks() -> dict:
    return {"keys": [key.public_jwk for key in published_keys()]}


@transaction.atomic
def rotate(*, retire_after: timedelta | None = None) -> tuple[ToolKey, list[ToolKey]]:
    """Start signing with a new key; keep the old ones published for `retire_after`."""
    retire_after = retire_after if retire_after is not None else timedelta(days=settings.LTI_KEY_RETIRE_AFTER_DAYS)
    retire_at = timezone.now() + retire_after
    old = list(ToolKey.objects.select_for_update().filter(retire_at__isnull=True))
    for key in old:
        key.retire_at = retire_at
        key.save(update_fields=["retire_at"])
    return _new_key(), old


def published_keys() -> list[ToolKey]:
    signing_key()
    return list(ToolKey.objects.published())
