"""A new broker from nothing to a verified receipt, with only documented commands, portal pages and
API calls (issue #20's "done when"; the README's walk-through): no shell, no demo data.

1. An operator creates the broker; its owner and an agent take their accounts by link.
2. The owner proposes the agent and applies; the operator grants the licence.
3. The owner makes the agent's API key.
4. The agent binds the broker's certificate with proof of possession.
5. A trader, onboarded the same way, proposes nothing: its owner issues a one-time code, and the
   broker proposes the mandate with it; the trader accepts.
6. The agent files a declaration signed with ``openssl cms``.
7. The receipt arrives within seconds and verifies offline with ``python -m audit.verify_receipt``.
"""

from __future__ import annotations

import base64
import datetime
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import time_machine
from cryptography.hazmat.primitives import serialization
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import TEST_PASSWORD, make_tax_code, totp_code
from tests.signatures.pki_factory import openssl_cms_sign

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent


def _command(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def _take_account(link: str, site: str, username: str) -> None:
    """The invited person opens the printed link and chooses a username and password."""
    answer = Client().post(
        link.removeprefix(site),
        {"username": username, "password1": TEST_PASSWORD, "password2": TEST_PASSWORD},
    )
    assert (answer.status_code, answer.url) == (302, reverse("login"))


def _signed_in_with_authenticator(username: str) -> Client:
    """A manager signs in and sets up an authenticator from the key the page shows (owners must)."""
    client = Client()
    assert client.post(reverse("login"), {"username": username, "password": TEST_PASSWORD}).status_code == 302
    page = client.post(reverse("mfa"), {"action": "begin"}).content.decode()
    secret = re.search(r'class="secret[^"]*">([^<]+)<', page).group(1).replace(" ", "")
    key = base64.b32decode(secret + "=" * (-len(secret) % 8)).hex()
    confirmed = client.post(reverse("mfa"), {"action": "confirm", "code": totp_code(key)})
    assert confirmed.status_code == 200, confirmed.content[:500]
    return client


def _api(key: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Api-Key {key}")


def _enterprise(kind, tax_code, name, owner, site) -> Client:
    link = _command(
        "create_organization", "--kind", kind, "--tax-code", tax_code, "--name", name,
        "--owner-email", f"{owner}@example.vn", "--owner-first-name", "Mai", "--owner-last-name", "Trần Thị",
        "--owner-id-number", "001190012345" if kind == "broker" else "001190054321",
    ).strip().splitlines()[-1]  # fmt: skip
    _take_account(link, site, owner)
    return _signed_in_with_authenticator(owner)


def test_a_new_broker_from_nothing_to_a_receipt_verified_offline(pki, settings, tmp_path):
    site = settings.SITE_URL.rstrip("/")
    # Customs trusts the CA that issues the enterprises' certificates: the issuing one.
    issuer = tmp_path / "issuing-ca.pem"
    issuer.write_bytes(pki.intermediate.certificate.public_bytes(serialization.Encoding.PEM))
    _command("add_trusted_issuer", str(issuer), "--name", "Issuing CA")

    # 1. The broker, its owner and an agent.
    broker_tax_code, trader_tax_code = make_tax_code(7101), make_tax_code(7102)
    owner = _enterprise("broker", broker_tax_code, "Công ty CP Đại lý Sao Băng", "mai.owner", site)
    agent_link = _command(
        "create_user", "--organization", broker_tax_code, "--email", "binh@saobang.vn",
        "--first-name", "Bình", "--last-name", "Lê Văn", "--id-number", "001090012345", "--role", "signer",
    ).strip().splitlines()[-1]  # fmt: skip
    _take_account(agent_link, site, "binh.agent")

    # 2. The owner proposes the agent and applies; the operator grants the licence.
    from accounts.models import User

    agent = User.objects.get(username="binh.agent")
    proposed = owner.post(reverse("agents"), {"user": agent.pk, "agent_number": "CC-0901-0042"})
    assert proposed.status_code == 302, proposed.content[:800]
    applied = owner.post(
        reverse("broker_licence"),
        {"contact_name": "Trần Thị Mai", "contact_phone": "0225 3842 111", "contact_email": "mai@saobang.vn"},
    )
    assert applied.status_code == 302, applied.content[:800]
    today = timezone.localdate()
    _command(
        "broker_licence", "grant", broker_tax_code, "--number", "DLHQ-0901/2026",
        "--issued-on", today.isoformat(), "--expires-on", (today + datetime.timedelta(days=1825)).isoformat(),
    )  # fmt: skip
    directory = Client().get(reverse("api_brokers"), {"q": broker_tax_code}).json()
    assert [entry["tax_code"] for entry in directory["results"]] == [broker_tax_code]

    # 3. The agent's key, printed once.
    agent_key = _command(
        "create_api_key", "--organization", broker_tax_code, "--user", "binh.agent",
        "--scopes", "read,declare,manage", "--days", "30",
    ).strip()  # fmt: skip
    me = _api(agent_key).get(reverse("api_me")).json()
    assert me["agent"]["number"] == "CC-0901-0042"
    assert (me["licence"]["number"], me["licence"]["status"]) == ("DLHQ-0901/2026", "active")

    # 4. The agent binds the broker's certificate: upload, the challenge file, the proof.
    broker_identity = pki.signer(company="Công ty CP Đại lý Sao Băng", tax_code=broker_tax_code, slot=71)
    uploaded = _api(agent_key).post(
        reverse("api_certificates"),
        {"certificate": base64.b64encode(broker_identity.cert_der).decode(), "signer_name": "Lê Văn Bình",
         "signer_id_number": "001090012345"},
        content_type="application/json",
    ).json()  # fmt: skip
    challenge = _api(agent_key).get(reverse("api_certificate_challenge", args=[uploaded["id"]])).content
    bound = (
        _api(agent_key)
        .post(
            reverse("api_certificate_proof", args=[uploaded["id"]]),
            {"signature": base64.b64encode(openssl_cms_sign(challenge, broker_identity)).decode()},
            content_type="application/json",
        )
        .json()
    )
    assert (bound["status"], bound["custodians"]) == ("active", ["binh.agent"])

    # 5. A trader onboarded the same way binds its own certificate (which verifies it), issues a
    # one-time code, and the broker's owner proposes the mandate with it.
    trader = _enterprise("trader", trader_tax_code, "Công ty TNHH Hòa Bình Mới", "lan.owner", site)
    trader_key = _command(
        "create_api_key", "--organization", trader_tax_code, "--user", "lan.owner", "--scopes", "read,manage"
    ).strip()
    trader_identity = pki.signer(company="Công ty TNHH Hòa Bình Mới", tax_code=trader_tax_code, slot=72)
    trader_cert = _api(trader_key).post(
        reverse("api_certificates"),
        {"certificate": base64.b64encode(trader_identity.cert_der).decode(), "signer_name": "Trần Thị Lan",
         "signer_id_number": "001190054321"},
        content_type="application/json",
    ).json()  # fmt: skip
    trader_proof = openssl_cms_sign(trader_cert["challenge"].encode(), trader_identity)
    _api(trader_key).post(
        reverse("api_certificate_proof", args=[trader_cert["id"]]),
        {"signature": base64.b64encode(trader_proof).decode()},
        content_type="application/json",
    )
    issued = trader.post(reverse("mandate_codes"), {"action": "issue"}).content.decode()
    code = re.search(r'class="secret">([A-Z0-9]{4}-[A-Z0-9]{4})<', issued).group(1)
    owner_key = _command(
        "create_api_key", "--organization", broker_tax_code, "--user", "mai.owner", "--scopes", "read,manage"
    ).strip()
    proposal = _api(owner_key).post(
        reverse("api_authorizations"),
        {"trader_tax_code": trader_tax_code, "authorization_code": code, "scopes": ["import"],
         "representation": "direct", "contract_number": "HĐ-0901/2026", "valid_from": today.isoformat(),
         "valid_until": (today + datetime.timedelta(days=365)).isoformat()},
        content_type="application/json",
    )  # fmt: skip
    assert proposal.status_code == 201, proposal.content
    accepted = _api(trader_key).post(reverse("api_authorization_accept", args=[proposal.json()["id"]]))
    assert accepted.json()["status"] == "active"

    # 6. The agent files a declaration signed with openssl cms.
    document = b"<ToKhai so='10900000001'><Loai>import</Loai></ToKhai>"
    filed = _api(agent_key).post(
        reverse("api_declarations"),
        {"number": "10900000001", "kind": "import", "trader_tax_code": trader_tax_code,
         "document": base64.b64encode(document).decode(),
         "signature": base64.b64encode(openssl_cms_sign(document, broker_identity)).decode()},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="7f0c1d2e-0901-4c3b-9a55-000000000001",
    )  # fmt: skip
    assert filed.status_code == 201, filed.content
    assert filed.json()["signature"]["agent_number"] == "CC-0901-0042"

    # 7. The receipt: not ready at once, ready seconds later, and it verifies offline.
    receipt_url = filed.json()["receipt"]
    first = _api(agent_key).get(receipt_url)
    if first.status_code == 409:
        assert first.json()["code"] == "receipt_not_ready"
        if not settings.CELERY_TASK_ALWAYS_EAGER:
            _command("seal_audit")  # the worker's seal after the commit, which a test never makes
        with time_machine.travel(
            timezone.now() + datetime.timedelta(seconds=settings.AUDIT_CHECKPOINT_SECONDS)
        ):
            if not settings.CELERY_TASK_ALWAYS_EAGER:
                _command("seal_audit")  # what beat's sweep does every 10 s with workers
            first = _api(agent_key).get(receipt_url)
    assert first.status_code == 200, first.content
    (tmp_path / "receipt.json").write_text(json.dumps(first.json()))
    (tmp_path / "audit.pem").write_bytes(Client().get(reverse("audit-public-key-pem")).content)
    verified = subprocess.run(
        [sys.executable, "-m", "audit.verify_receipt", "receipt.json", "--public-key", "audit.pem"],
        cwd=tmp_path, env={"PYTHONPATH": str(ROOT)}, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert verified.returncode == 0 and verified.stdout.strip().endswith("receipt OK"), verified.stdout
