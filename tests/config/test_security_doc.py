"""docs/security.md names, for each promise, the tests that prove it: every file and test it names
exists, so a promise cannot outlive its proof unnoticed."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = re.compile(r"`((?:tests|bench)/[\w/.-]*)(?:::(\w+))?`")


def test_every_test_the_security_document_names_exists():
    text = (ROOT / "docs" / "security.md").read_text()
    references = REFERENCE.findall(text)
    assert len(references) >= 30
    missing = []
    for path, name in references:
        target = ROOT / path
        if not target.exists():
            missing.append(path)
        elif name and not re.search(rf"^def {name}\(", target.read_text(), re.M):
            missing.append(f"{path}::{name}")
    assert missing == []
