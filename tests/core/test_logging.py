from __future__ import annotations

import io
import json
import logging
import logging.config

import pytest

from core.context import RequestContext, bound_context
from core.logging import build_logging, redact

SECRETS = [
    ("password=hunter2-correct-horse", "hunter2-correct-horse"),
    ('{"password": "s3cr3t-value"}', "s3cr3t-value"),
    ("Authorization: Api-Key abc123.def456", "abc123.def456"),
    ("national_id_number=001203004567", "001203004567"),
    ("Key (national_id_number)=(079203001234) already exists.", "079203001234"),
    ("the citizen 036188001122 signed", "036188001122"),
    ("Not Found: /accounts/invitation/Zx9_kQ2-longtoken/", "Zx9_kQ2-longtoken"),
    ('"GET /accounts/verify-email/eyJ1c2VyIjo0fQ:1tX/ HTTP/1.1" 200', "eyJ1c2VyIjo0fQ:1tX"),
    ("GET /risk/sign-in-review/AbC123notme?answer=no", "AbC123notme"),
    (
        "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ\n-----END PRIVATE KEY-----",
        "MC4CAQAwBQYDK2VwBCIEIJ",
    ),
]


@pytest.mark.parametrize(("text", "secret"), SECRETS)
def test_redact_removes_secrets(text, secret):
    assert secret not in redact(text)


def test_redact_keeps_tax_codes_and_ordinary_text():
    line = "trader 0100686209-199 (0100686209) signed declaration 105123456789"
    assert redact(line) == line
    assert redact("declaration accepted") == "declaration accepted"


def _capture(log_format: str):
    stream = io.StringIO()
    config = build_logging(log_format, "INFO")
    config["handlers"]["console"]["stream"] = stream
    config["loggers"]["capture"] = {"level": "INFO", "handlers": ["console"], "propagate": False}
    logging.config.dictConfig(config)
    return stream, logging.getLogger("capture")


@pytest.fixture(autouse=True)
def _restore_logging(settings):
    yield
    logging.config.dictConfig(settings.LOGGING)


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_every_line_carries_the_request_id_and_no_secret(log_format):
    stream, logger = _capture(log_format)
    with bound_context(RequestContext(request_id="req-12345678", channel="portal")):
        logger.info("login attempt password=%s", "hunter2-correct-horse", extra={"api_key": "abc.def"})
        try:
            raise ValueError("Key (national_id_number)=(079203001234) already exists")
        except ValueError:
            logger.exception("insert failed")
    output = stream.getvalue()
    assert "req-12345678" in output
    for secret in ("hunter2-correct-horse", "abc.def", "079203001234"):
        assert secret not in output
    if log_format == "json":
        lines = [json.loads(line) for line in output.strip().splitlines()]
        assert lines[0]["request_id"] == "req-12345678"
        assert lines[0]["level"] == "INFO"
        assert lines[0]["channel"] == "portal"
        assert "exc_info" in lines[1]


@pytest.mark.django_db
def test_requests_get_an_id_in_the_response_and_keep_a_sane_incoming_one(client):
    generated = client.get("/healthz")["X-Request-ID"]
    assert len(generated) == 32
    assert client.get("/healthz", HTTP_X_REQUEST_ID="proxy-req-0001")["X-Request-ID"] == "proxy-req-0001"
    assert client.get("/healthz", HTTP_X_REQUEST_ID="bad id\nx")["X-Request-ID"] != "bad id\nx"


def test_error_reports_hide_id_numbers_and_keys(rf, settings):
    from core.logging import SensitiveExceptionReporterFilter

    request = rf.post("/x", {"national_id_number": "079203001234", "password": "p", "name": "Lan"})
    cleaned = SensitiveExceptionReporterFilter().get_post_parameters(request)
    assert cleaned["national_id_number"] != "079203001234"
    assert cleaned["password"] != "p"
    assert cleaned["name"] == "Lan"
    safe_settings = SensitiveExceptionReporterFilter().get_safe_settings()
    assert (
        safe_settings["AUDIT_SIGNING_KEY"] != settings.AUDIT_SIGNING_KEY or settings.AUDIT_SIGNING_KEY is None
    )
    assert safe_settings["SECRET_KEY"] != settings.SECRET_KEY


@pytest.mark.django_db
def test_a_refused_link_token_never_reaches_the_request_log(client):
    stream, _logger = _capture("text")
    logging.getLogger("django.request").handlers = logging.getLogger("capture").handlers
    response = client.get("/accounts/invitation/Zx9kQ2-a-one-time-token/")
    assert response.status_code == 400  # a link that is not one: logged as a bad request
    client.get("/accounts/invitation/Zx9kQ2-a-one-time-token/missing/")  # no route: logged as not found
    output = stream.getvalue()
    assert "/accounts/invitation/[redacted]/" in output
    assert "Zx9kQ2-a-one-time-token" not in output


def test_gunicorns_access_log_is_redacted_too():
    import datetime

    from gunicorn.config import Config

    from core.gunicorn_logging import RedactingLogger

    class Response:
        status, sent, headers = "200 OK", 512, [("Content-Type", "text/html")]

    environ = {
        "REQUEST_METHOD": "GET", "RAW_URI": "/risk/sign-in-review/AbC123notme/?answer=no",
        "PATH_INFO": "/risk/sign-in-review/AbC123notme/", "QUERY_STRING": "answer=no",
        "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "203.0.113.9",
        "HTTP_REFERER": "https://csg.example/accounts/invitation/Zx9kQ2-token/",
    }  # fmt: skip
    headers = [("AUTHORIZATION", "Api-Key abc123.def456"), ("REFERER", environ["HTTP_REFERER"])]
    atoms = RedactingLogger(Config()).atoms(Response(), headers, environ, datetime.timedelta(seconds=0))
    line = " ".join(str(value) for value in atoms.values())
    for secret in ("AbC123notme", "Zx9kQ2-token", "abc123.def456"):
        assert secret not in line
    assert atoms["U"] == "/risk/sign-in-review/[redacted]/" and atoms["s"] == "200"
