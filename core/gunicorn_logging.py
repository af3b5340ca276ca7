"""gunicorn's access log with the application's redaction (``core.logging.redact``) applied to every
field: request line, path, query, referer and headers. gunicorn logs requests itself, outside
Django's logging, so the redacting formatter never sees them. Used with
``--logger-class core.gunicorn_logging.RedactingLogger``."""

from __future__ import annotations

from gunicorn.glogging import Logger

from core.logging import redact


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {name: redact(value) if isinstance(value, str) else value for name, value in atoms.items()}
