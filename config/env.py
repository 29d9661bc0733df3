"""Strict typed readers of environment variables for config/settings.py.

A value that cannot be parsed stops the process at start with the variable's name, instead of
reading as a default (a typo in `SECURE_COOKIES=ture` must not silently mean false)."""
from __future__ import annotations

import os
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off"}


def _raw(name: str) -> str | None:
    """The variable's value, or None when unset or empty (an empty value means the default)."""
    value = os.environ.get(name)
    if value is None or not value.strip():
        return None
    return value.strip()


def env_str(name: str, default: str = "") -> str:
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    if value.lower() in TRUE:
        return True
    if value.lower() in FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean: use true or false (also 1/0, yes/no, on/off).")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number.") from None
    _check_range(name, number, minimum, maximum)
    return number


def env_float(name: str, default: float, *, minimum: float | None = None, maximum: float | None = None) -> float:
    value = _raw(name)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a number.") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ImproperlyConfigured(f"{name}={value!r} is not a finite number.")
    _check_range(name, number, minimum, maximum)
    return number


def env_decimal(name: str, default: str, *, minimum: str | None = None) -> Decimal:
    """A decimal number (money factors are never floats)."""
    value = _raw(name) or default
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ImproperlyConfigured(f"{name}={value!r} is not a decimal number.") from None
    if not number.is_finite():
        raise ImproperlyConfigured(f"{name}={value!r} is not a finite number.")
    _check_range(name, number, Decimal(minimum) if minimum is not None else None, None)
    return number


def _check_range(name, number, minimum, maximum):
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} is below the minimum of {minimum}.")
    if maximum is not None and number > maximum:
        raise ImproperlyConfigured(f"{name}={number} is above the maximum of {maximum}.")


def env_choice(name: str, default: str, choices: tuple[str, ...] | list[str]) -> str:
    value = _raw(name)
    if value is None:
        return default
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} is not one of: {', '.join(choices)}.")
    return value


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def secret_key_or_refuse(key_file: Path) -> str:
    """SECRET_KEY from the environment, else from the file `make run` writes on first use."""
    value = _raw("SECRET_KEY")
    if value is None:
        try:
            value = key_file.read_text().strip() or None
        except FileNotFoundError:
            value = None
    if value is None:
        raise ImproperlyConfigured(
            f"SECRET_KEY is not set and {key_file} does not exist. Set SECRET_KEY to a long random value, "
            "or run `make run` once: it generates that file (python -m config.keys)."
        )
    if len(value) < 32:
        raise ImproperlyConfigured("SECRET_KEY is shorter than 32 characters; use a long random value.")
    return value


def fernet_key_or_refuse(*, required: bool) -> str:
    """FIELD_ENCRYPTION_KEY, checked to be a Fernet key; required in production, where deriving it
    from SECRET_KEY would orphan every stored upstream credential when SECRET_KEY rotates."""
    value = _raw("FIELD_ENCRYPTION_KEY")
    if value is None:
        if required:
            raise ImproperlyConfigured(
                "FIELD_ENCRYPTION_KEY must be set in production (ATELIER_PRODUCTION=true). Generate one with: "
                "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
            )
        return ""
    from cryptography.fernet import Fernet

    try:
        Fernet(value.encode())
    except ValueError:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY is not a Fernet key (32 bytes, url-safe base64, 44 characters)."
        ) from None
    return value
