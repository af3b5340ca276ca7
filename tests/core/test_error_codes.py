"""Every error code the source can raise is in the documented list (config/error_codes.py), which
is the enum of ``Error.code`` in the OpenAPI schema."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from drf_spectacular.generators import SchemaGenerator

from core.error_codes import ERROR_CODES, ERROR_STATUSES, statuses_of

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


# --- each code with its HTTP status --------------------------------------------------------------

# Statuses a raise implies without naming one: ApplicationError's default, a signing refusal's.
DEFAULT_STATUS = {"ApplicationError": 400, "CertificateRefused": 400, "SigningRefused": 422}


def _raised_with_status() -> set[tuple[str, int, str]]:
    """(code, status, where) for every raise whose code and status the source spells out."""
    found = set()
    for app in ("core", "accounts", "audit", "brokers", "signatures", "risk", "officers", "config"):
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name not in DEFAULT_STATUS:
                    continue
                keywords = {keyword.arg: keyword.value for keyword in node.keywords}
                code = keywords.get("code")
                status = keywords.get("status_code")
                if name == "SigningRefused":
                    code = node.args[0] if node.args else code
                    status = node.args[2] if len(node.args) > 2 else status
                if not (isinstance(code, ast.Constant) and isinstance(code.value, str)):
                    continue  # a code passed through (error.code): checked where it is first raised
                if status is None:
                    status_value = DEFAULT_STATUS[name]
                elif isinstance(status, ast.Constant) and isinstance(status.value, int):
                    status_value = status.value
                else:
                    continue
                found.add((code.value, status_value, f"{path.relative_to(ROOT)}:{node.lineno}"))
    return found


def test_every_raise_answers_the_status_documented_for_its_code():
    raised = _raised_with_status()
    assert len(raised) > 100, "the scan found too little to prove anything"
    wrong = sorted((code, status, where) for code, status, where in raised if status not in statuses_of(code))
    assert wrong == []


def test_the_table_covers_every_code_and_only_real_statuses():
    assert set(ERROR_STATUSES) == ERROR_CODES
    assert all(statuses and set(statuses) <= set(range(400, 600)) for statuses in ERROR_STATUSES.values())
    assert ERROR_STATUSES["not_found"] == (404,) and ERROR_STATUSES["too_many_refusals"] == (429,)


def test_the_schema_names_the_codes_of_each_error_answer():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"]["/api/v1/declarations/"]["post"]
    for status, codes in (
        ("422", ["signature_invalid"]),
        ("403", ["no_active_authorization"]),
        ("429", ["too_many_refusals"]),
    ):
        description = operation["responses"][status]["description"]
        assert all(f"`{code}`" in description for code in codes), (status, description)
    assert "`not_found`" not in operation["responses"]["422"]["description"]


def test_the_api_manual_lists_every_code_with_its_statuses():
    manual = (ROOT / "docs" / "api.md").read_text()
    rows = dict(re.findall(r"^\| `([a-z0-9_]+)` \| ([0-9, ]+) \|", manual, re.M))
    assert {
        code: tuple(int(s) for s in statuses.split(", ")) for code, statuses in rows.items()
    } == ERROR_STATUSES
