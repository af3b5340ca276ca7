"""csg-sign prove and csg-sign file against the live test server: a trader binds its certificate with
one command, and a broker files a declaration with its own key on a token."""

from __future__ import annotations

import pytest

from brokers.services.api_keys import api_key_create
from signatures.models import Certificate, Declaration, SignatureRecord
from signatures.services.binding import certificate_upload
from tests.csg_sign.conftest import P12_PASSPHRASE, write_p12
from tests.signatures.helpers import trust

DOCUMENT = "<ToKhai so='{number}'><Loai>import</Loai><TriGia>1250000000</TriGia></ToKhai>"


@pytest.fixture
def key_of():
    def make(holder, manager, scopes):
        _key, secret = api_key_create(actor=manager, holder=holder, name="csg-sign", scopes=scopes)
        return secret

    return make


def upload(actor, identity) -> Certificate:
    return certificate_upload(
        actor=actor, data=identity.cert_pem, signer_name="Nguyễn Văn An", signer_id_number="001203004567"
    )


def test_prove_binds_the_certificate_on_the_token(
    live_server, token, pki, trader_owner, trader_signer, key_of
):
    trust(pki.intermediate)
    token.put("hoa-binh", pki.signer(tax_code=trader_signer.organization.tax_code, slot=74), "0d")
    # Three keys on the token: prove picks the one whose certificate is the one being bound.
    pending = upload(trader_signer, token.keys["hoa-binh"])
    secret = key_of(trader_signer, trader_owner, ["read", "manage"])

    result = token.run(
        "prove", str(pending.pk), "--api", live_server.url,
        "--pkcs11-module", str(token.module), "--pin-env", "TOKEN_PIN",
        env={"CSG_API_KEY": secret},
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert result.stdout == f"certificate {pending.pk} is active: {pending.subject}\n"
    pending.refresh_from_db()
    assert pending.status == Certificate.Status.ACTIVE
    assert list(pending.custodians.all()) == [trader_signer]
    assert secret not in result.stdout + result.stderr


def test_prove_with_a_p12(live_server, token, pki, trader_owner, key_of):
    trust(pki.intermediate)
    identity = pki.signer(key="p256", slot=72, tax_code=trader_owner.organization.tax_code)
    write_p12(token.directory / "company.p12", identity, [pki.intermediate.certificate])
    pending = upload(trader_owner, identity)

    result = token.run(
        "prove", str(pending.pk), "--api", live_server.url + "/api/v1/", "--pkcs12", "company.p12",
        "--pin-env", "P12", env={"CSG_API_KEY": key_of(trader_owner, trader_owner, ["manage", "read"]),
                                 "P12": P12_PASSPHRASE},
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    pending.refresh_from_db()
    assert pending.status == Certificate.Status.ACTIVE


def test_prove_refuses_a_key_that_is_not_the_certificates(live_server, token, pki, trader_owner, key_of):
    trust(pki.intermediate)
    token.put("hoa-binh", pki.signer(tax_code=trader_owner.organization.tax_code, slot=74), "0d")
    pending = upload(trader_owner, token.keys["hoa-binh"])

    result = token.run(
        "prove", str(pending.pk), "--api", live_server.url, *token.token_args("ec"),
        env={"CSG_API_KEY": key_of(trader_owner, trader_owner, ["read", "manage"])},
    )  # fmt: skip

    assert result.returncode == 2
    assert result.stderr == (
        f"csg-sign: error: the key chosen signs for {token.keys['ec'].certificate.subject.rfc4514_string()}, "
        f"not for certificate {pending.pk} ({pending.subject}); choose its key with --key-label\n"
    )
    pending.refresh_from_db()
    assert pending.status == Certificate.Status.PENDING_PROOF


def test_prove_of_another_enterprises_certificate_finds_nothing(
    live_server, token, pki, trader_owner, outsider, key_of
):
    trust(pki.intermediate)
    token.put("hoa-binh", pki.signer(tax_code=trader_owner.organization.tax_code, slot=74), "0d")
    pending = upload(trader_owner, token.keys["hoa-binh"])

    result = token.run(
        "prove", str(pending.pk), "--api", live_server.url, *token.token_args("ec"),
        env={"CSG_API_KEY": key_of(outsider, outsider, ["read", "manage"])},
    )  # fmt: skip

    assert result.returncode == 2
    assert result.stderr == (
        f"csg-sign: error: no certificate {pending.pk} in your enterprise (see the portal's Certificates)\n"
    )
    pending.refresh_from_db()
    assert pending.status == Certificate.Status.PENDING_PROOF


def test_an_api_key_the_server_does_not_know_shows_the_servers_code_and_detail(live_server, token):
    result = token.run(
        "prove", "1", "--api", live_server.url, *token.token_args("ec"), env={"CSG_API_KEY": "abc.def"}
    )

    assert result.returncode == 2
    code_and_detail = result.stderr.removeprefix("csg-sign: error: the server refused (HTTP 401): ")
    code, _, detail = code_and_detail.partition(": ")
    assert (code, detail.endswith(".\n"), result.stderr.count("\n")) == ("authentication_failed", True, 1)


def test_without_an_api_key(live_server, token):
    result = token.run(
        "prove", "1", "--api", live_server.url, *token.token_args("ec"), env={"CSG_API_KEY": ""}
    )

    assert result.returncode == 2
    assert result.stderr == (
        "csg-sign: error: set CSG_API_KEY to your API key (the portal's API keys page makes one)\n"
    )


# --- filing ----------------------------------------------------------------------------------------


@pytest.fixture
def broker_token(token, world):
    """The token also holds the broker's own key (bound, the agent its custodian) and the trader's."""
    token.put("sao-mai", world.broker_key, "0b")
    token.put("hoa-binh", world.trader_key, "0c")
    return token


def file(token, live_server, secret, key_label, number="10900000001", **changes):
    (token.directory / "declaration.xml").write_text(DOCUMENT.format(number=number))
    options = {"--number": number, "--kind": "import", "--trader": "0100686209"} | changes
    argv = [item for pair in options.items() for item in pair]
    return token.run(
        "file", "declaration.xml", *argv, "--api", live_server.url, *token.token_args(key_label),
        env={"CSG_API_KEY": secret},
    )  # fmt: skip


def test_a_broker_files_a_declaration_signed_on_its_token(live_server, broker_token, world, key_of):
    secret = key_of(world.broker_agent, world.broker_owner, ["read", "declare"])

    result = file(broker_token, live_server, secret, "sao-mai", **{"--trader": world.trader.tax_code})

    assert result.returncode == 0, result.stderr
    declaration = Declaration.objects.get(number="10900000001")
    record = SignatureRecord.objects.get(declaration=declaration)
    assert record.outcome == SignatureRecord.Outcome.ACCEPTED
    assert record.signer == world.broker_agent
    assert result.stdout == (
        f"accepted: declaration {declaration.pk} (10900000001)\n"
        f"receipt: {live_server.url}/api/v1/declarations/{declaration.pk}/receipt\n"
    )


def test_a_key_without_the_read_scope_still_files(live_server, broker_token, world, key_of):
    secret = key_of(world.broker_agent, world.broker_owner, ["declare"])

    result = file(broker_token, live_server, secret, "sao-mai", **{"--trader": world.trader.tax_code})

    assert result.returncode == 0, result.stderr
    assert SignatureRecord.objects.get().outcome == SignatureRecord.Outcome.ACCEPTED


def test_filing_with_a_certificate_of_another_tax_code_is_refused_before_signing(
    live_server, broker_token, world, key_of
):
    secret = key_of(world.broker_agent, world.broker_owner, ["read", "declare"])

    # The trader's own certificate, on a token in the broker's hands (DESIGN §5 rule 2).
    result = file(broker_token, live_server, secret, "hoa-binh", **{"--trader": world.trader.tax_code})

    assert result.returncode == 2
    assert result.stderr == (
        f"csg-sign: error: the certificate is for tax code {world.trader.tax_code}, not "
        f"{world.broker.tax_code}, the enterprise this API key files for; sign with your own "
        "enterprise's certificate\n"
    )
    assert not SignatureRecord.objects.exists()


def test_a_refused_filing_shows_the_servers_code_and_detail(live_server, broker_token, world, key_of):
    secret = key_of(world.broker_agent, world.broker_owner, ["read", "declare"])

    # The mandate covers imports only.
    result = file(
        broker_token,
        live_server,
        secret,
        "sao-mai",
        **{"--trader": world.trader.tax_code, "--kind": "export"},
    )

    assert result.returncode == 2
    record = SignatureRecord.objects.get()
    assert record.outcome == SignatureRecord.Outcome.REJECTED
    assert result.stderr.startswith("csg-sign: error: the server refused (HTTP 403): authorization_scope: ")
    assert result.stderr.endswith(f' ({{"signature_record": {record.pk}}})\n')
