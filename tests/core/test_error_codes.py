"""Every error code the source can raise is in the documented list (config/error_codes.py), which
is the enum of ``Error.code`` in the OpenAPI schema."""

from __future__ import annotations

import re
from pathlib import Path

from drf_spectacular.generators import SchemaGenerator

from core.error_codes import ERROR_CODES

ROOT = Path(__file__).resolve().parents[2]
KEYWORD = re.compile(r"""\bcode\s*=\s*["']([a-z][a-z0-9_]*)["']""")
POSITIONAL = re.compile(
    r"""\b(?:SigningRefused|CertificateRefused|CertificateError|SignatureError)\(\s*["']([a-z][a-z0-9_]*)["']""",
    re.S,
)
# Codes named as data rather than at a raise: the certificate states the signing path maps to codes,
# and codes collected before one error is raised (``errors[name], code = [...], "figure_negative"``).
MAPPED = re.compile(r""":\s*["']((?:certificate|signature)_[a-z_]+)["'],""")
COLLECTED = re.compile(r"""(?:\bcode\s*=\s*[^\n]*,\s*|codes\.append\()["']([a-z][a-z0-9_]*)["']""")


def _codes_in_source() -> set[str]:
    found = set()
    for app in ("accounts", "audit", "brokers", "signatures", "config"):
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            text = path.read_text()
            found |= (
                set(KEYWORD.findall(text))
                | set(POSITIONAL.findall(text))
                | set(MAPPED.findall(text))
                | set(COLLECTED.findall(text))
            )
    return found


def test_every_code_the_source_raises_is_documented():
    found = _codes_in_source()
    assert len(found) > 80, "the scan found too little to prove anything"
    assert sorted(found - ERROR_CODES) == []


def test_the_schema_lists_them_as_the_enum_of_error_code():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    code = schema["components"]["schemas"]["Error"]["properties"]["code"]
    enum = schema["components"]["schemas"][code["allOf"][0]["$ref"].rsplit("/", 1)[1]]["enum"]
    assert set(enum) == ERROR_CODES
