"""Logging: text or JSON lines, a request id on every line, and redaction of secrets.

Redaction happens on the formatted line (message, extras and traceback alike) because secrets
reach logs by routes no call site controls, e.g. a database error quoting the row it refused.
"""

from __future__ import annotations

import logging
import re

from django.views.debug import SafeExceptionReporterFilter
from pythonjsonlogger.json import JsonFormatter

from core.context import current_context

REDACTED = "[redacted]"

SENSITIVE_NAME = re.compile(
    r"pass(word|wd|phrase)?|secret|token|api[-_]?key|authorization|cookie|signature|private|"
    r"id[-_]?number|cccd|cmnd|otp|totp|recovery",
    re.IGNORECASE,
)

_SCRUBBERS: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)", re.DOTALL),
        "[redacted private key]",
    ),
    (re.compile(r"(Api-Key|Bearer|Basic|Token)\s+[^\s\"',;]+", re.IGNORECASE), r"\1 " + REDACTED),
    (
        re.compile(
            r"(?P<name>[\w-]*(?:pass(?:word|wd|phrase)?|secret|token|api[-_]?key|id[-_]?number|cccd|cmnd)[\w-]*)"
            r"(?P<sep>\"?\s*[=:]\s*\"?|\)=\()(?P<value>[^\s\"',;&)]+)",
            re.IGNORECASE,
        ),
        r"\g<name>\g<sep>" + REDACTED,
    ),
    # One-time tokens in the paths of emailed links (invitations, e-mail checks, "was this you?"):
    # a "not me" link read from a log could suspend an account's certificates.
    (re.compile(r"(/(?:invitation|verify-email|sign-in-review)/)[^/\s\"'?#]+"), r"\1" + REDACTED),
    # Citizen ID numbers (CCCD: 12 digits, starting with a 0xx province code) wherever they stand
    # alone; declaration numbers, also 12 digits, start with 1 or 3 and stay readable.
    (re.compile(r"(?<![\d-])0\d{11}(?![\d-])"), REDACTED),
]


def redact(text: str) -> str:
    for pattern, replacement in _SCRUBBERS:
        text = pattern.sub(replacement, text)
    return text


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        context = current_context()
        record.request_id = context.request_id or "-"
        record.channel = context.channel
        for name in list(vars(record)):
            if SENSITIVE_NAME.search(name) and name not in _STANDARD_ATTRIBUTES:
                setattr(record, name, REDACTED)
        return True


_STANDARD_ATTRIBUTES = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class RedactingJsonFormatter(JsonFormatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def build_logging(log_format: str, level: str) -> dict:
    formatter = "json" if log_format == "json" else "text"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "core.logging.RequestIdFilter"}},
        "formatters": {
            "text": {
                "()": "core.logging.RedactingFormatter",
                "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
            },
            "json": {
                "()": "core.logging.RedactingJsonFormatter",
                "fmt": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(channel)s %(message)s",
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            },
        },
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": formatter, "filters": ["request_id"]},
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django": {"level": level, "propagate": True},
            # The dev server's access log would print query strings, which may carry one-time tokens.
            "django.server": {"level": "WARNING", "propagate": True},
            "celery": {"level": level, "propagate": True},
        },
    }


class SensitiveExceptionReporterFilter(SafeExceptionReporterFilter):
    """Error reports hide ID numbers, keys and signatures as well as Django's defaults."""

    hidden_settings = re.compile(
        "API|TOKEN|KEY|SECRET|PASS|SIGNATURE|COOKIE|ID_NUMBER|DATABASE_URL|REDIS_URL|EMAIL_URL", flags=re.I
    )

    def get_post_parameters(self, request):
        parameters = super().get_post_parameters(request)
        if not parameters:
            return parameters
        cleansed = parameters.copy()
        for name in cleansed:
            if SENSITIVE_NAME.search(name):
                cleansed[name] = self.cleansed_substitute
        return cleansed
