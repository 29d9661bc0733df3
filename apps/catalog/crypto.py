"""Upstream API keys are encrypted at rest with Fernet.

The key comes from FIELD_ENCRYPTION_KEY, or is derived from SECRET_KEY when that is unset
(so a fresh install works; set FIELD_ENCRYPTION_KEY in production so rotating SECRET_KEY
does not orphan stored credentials)."""
import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


def _fernet() -> Fernet:
    key = settings.FIELD_ENCRYPTION_KEY
    if not key:
        key = base64.urlsafe_b64encode(hashlib.sha256(("atelier-fields:" + settings.SECRET_KEY).encode()).digest()).decode()
    return Fernet(key.encode() if isinstance(key, str) else key)


def encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode() if plain else ""


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("Stored credential cannot be decrypted with the current key.") from exc
