import pytest
from django.test import Client

from tests.officers.helpers import console_sign_in, officer_in


@pytest.fixture
def console(db):
    """A client signed in at the console as an officer of the given groups: ``console("registrar")``."""

    def make(*groups: str) -> Client:
        # English, so tests can read the words (the site defaults to Vietnamese).
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        officer = officer_in(*groups)
        response = console_sign_in(client, officer.username)
        assert response.status_code == 302, response
        client.officer = officer
        return client

    return make


from tests.signatures.conftest import pki  # noqa: E402,F401 - the session's test PKI, shared
from tests.signatures.test_declarations import World  # noqa: E402


@pytest.fixture
def world(pki, trader, trader_owner, trader_signer, broker, broker_owner, broker_agent, officer):  # noqa: F811
    """The cast with bound certificates and an import mandate (tests/signatures/test_declarations.py)."""
    return World(pki, trader, trader_owner, trader_signer, broker, broker_owner, broker_agent, officer)
