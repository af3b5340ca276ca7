from __future__ import annotations

import pytest

from tests.signatures.pki_factory import Pki


@pytest.fixture(scope="session")
def pki() -> Pki:
    return Pki()
