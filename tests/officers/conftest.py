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
