"""Typed, strict readers for the environment.

django-environ parses the URLs; these helpers add what it leaves out: a value that is
present but malformed (``DEBUG=maybe``, ``DATABASE_URL=postgress://``) stops start-up with
one line that names the variable, instead of silently falling back to a default.
Secrets may come from ``NAME`` or from a file named by ``NAME_FILE`` (Docker secrets).
"""

from __future__ import annotations

import ipaddress
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}

DATABASE_SCHEMES = {"sqlite", "postgres", "postgresql", "pgsql", "psql"}
REDIS_SCHEMES = {"redis", "rediss"}

_environ = environ.Env()


class SettingsError(ImproperlyConfigured):
    """A configuration value is missing or malformed; the message names the variable."""


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise SettingsError(f"{name}: expected true/false (or 1/0, yes/no, on/off), got {value!r}")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise SettingsError(f"{name}: expected a whole number, got {value!r}") from None
    if minimum is not None and number < minimum:
        raise SettingsError(f"{name}: must be at least {minimum}, got {number}")
    if maximum is not None and number > maximum:
        raise SettingsError(f"{name}: must be at most {maximum}, got {number}")
    return number


def env_str(name: str, default: str) -> str:
    value = _raw(name)
    return default if value is None else value


def env_choice(name: str, default: str, choices: set[str]) -> str:
    value = env_str(name, default)
    if value not in choices:
        raise SettingsError(f"{name}: expected one of {', '.join(sorted(choices))}, got {value!r}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_networks(name: str) -> list[str]:
    """Comma-separated IP networks (``10.0.0.0/8``, ``2001:db8::/32``) or single addresses."""
    networks = env_list(name, [])
    for network in networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            raise SettingsError(f"{name}: {network!r} is not an IP address or network") from None
    return networks


def env_secret(name: str) -> str | None:
    """Read ``NAME`` or the file named by ``NAME_FILE``; never both."""
    direct = _raw(name)
    file_name = _raw(f"{name}_FILE")
    if direct and file_name:
        raise SettingsError(f"{name}: set either {name} or {name}_FILE, not both")
    if file_name:
        try:
            content = Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SettingsError(f"{name}_FILE: cannot read {file_name!r} ({exc.strerror})") from None
        if not content:
            raise SettingsError(f"{name}_FILE: {file_name!r} is empty")
        return content
    return direct


def env_database(name: str, default: str) -> dict:
    value = _raw(name) or default
    scheme = urlsplit(value).scheme
    if scheme not in DATABASE_SCHEMES:
        raise SettingsError(
            f"{name}: unsupported scheme {scheme or '(none)'!r}; expected postgres://user@host:port/name "
            "or sqlite:////absolute/path.sqlite3"
        )
    try:
        config = _environ.db_url_config(value)
    except (ValueError, ImproperlyConfigured) as exc:
        raise SettingsError(f"{name}: cannot parse ({exc})") from None
    if not config.get("NAME"):
        raise SettingsError(f"{name}: no database name in the URL")
    if scheme != "sqlite" and not config.get("HOST"):
        raise SettingsError(f"{name}: no host in the URL")
    if scheme != "sqlite":
        try:
            # urlsplit only validates the port when asked for it.
            urlsplit(value).port  # noqa: B018
        except ValueError as exc:
            raise SettingsError(f"{name}: {exc}") from None
    return config


def env_redis(name: str) -> str | None:
    value = _raw(name)
    if value is None:
        return None
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        raise SettingsError(f"{name}: {exc}") from None
    if parts.scheme not in REDIS_SCHEMES:
        raise SettingsError(
            f"{name}: unsupported scheme {parts.scheme or '(none)'!r}; expected redis://host:port/db"
        )
    if not parts.hostname:
        raise SettingsError(f"{name}: no host in the URL")
    database = parts.path.lstrip("/")
    if database and not database.isdigit():
        raise SettingsError(f"{name}: the database must be a number, got {database!r}")
    del port
    return value


def env_email(name: str, default: str) -> dict:
    value = _raw(name) or default
    try:
        return _environ.email_url_config(value)
    except (ValueError, KeyError, ImproperlyConfigured) as exc:
        raise SettingsError(f"{name}: cannot parse ({exc})") from None


def load_settings_or_exit() -> None:
    """Import the settings; on a configuration error print one line and exit with status 2.

    Used by ``manage.py``, WSGI and Celery so an operator sees ``configuration error: DATABASE_URL: ...``
    rather than a traceback.
    """
    from django.conf import settings

    try:
        settings.INSTALLED_APPS  # noqa: B018  (forces the import)
    except SettingsError as exc:
        sys.stderr.write(f"configuration error: {exc}\n")
        sys.exit(2)
