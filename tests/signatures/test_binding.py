"""Binding a signing certificate (DESIGN §5 rules 1 and 3, §7): every check has its own code and
refuses without binding anything; proof of possession with the real openssl command line."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from cryptography.hazmat.primitives import hashes, serialization
from django.utils import timezone

from accounts.models import Notification, Organization
from audit.models import AuditEvent, Flag
from core.errors import ApplicationError
from signatures.models import Certificate, CertificateCustodian
from signatures.services.binding import certificate_prove, certificate_upload
from signatures.services.trust import crl_import, trusted_issuer_set_status
from tests.factories import OrganizationFactory, UserFactory
from tests.signatures.helpers import crl_bytes, trust
from tests.signatures.pki_factory import make_crl, openssl_cms_sign, openssl_dgst_sign, resign_with_weak_hash

pytestmark = pytest.mark.django_db

SIGNER = {"signer_name": "Nguyễn Thị Lan", "signer_id_number": "001203004567", "signer_title": "Giám đốc"}


@pytest.fixture
def trusted(pki):
    return trust(pki.intermediate)


@pytest.fixture
def holder(pki, trader):
    """The trader's own signing certificate and key."""
    return pki.signer(tax_code=trader.tax_code, slot=5)


def upload(actor, identity_or_bytes, **details):
    data = identity_or_bytes if isinstance(identity_or_bytes, bytes) else identity_or_bytes.cert_pem
    return certificate_upload(actor=actor, data=data, **(SIGNER | details))


def refused_code(call) -> str:
    with pytest.raises(ApplicationError) as refusal:
        call()
    return refusal.value.code


def test_upload_then_raw_proof_binds_and_verifies_the_enterprise(trusted, holder, trader, trader_owner):
    Organization.objects.filter(pk=trader.pk).update(status="pending_verification")
    certificate = upload(trader_owner, holder)
    assert certificate.status == "pending_proof"
    assert certificate.challenge.startswith(f"csg-proof-of-possession:{trader.tax_code}:")
    assert (certificate.subject_tax_code, certificate.signer_id_number) == (trader.tax_code, "001203004567")
    proof = openssl_dgst_sign(certificate.challenge.encode(), holder)
    bound = certificate_prove(certificate=certificate, proof=proof, actor=trader_owner)
    assert bound.status == "active" and bound.bound_at is not None
    trader.refresh_from_db()
    assert trader.status == "active"
    actions = list(AuditEvent.objects.order_by("pk").values_list("action", flat=True))
    assert actions[-3:] == ["certificate.uploaded", "certificate.bound", "organization.verified"]
    assert Notification.objects.filter(user=trader_owner, kind="certificate_bound").exists()


@pytest.mark.parametrize("form", ["cms", "cms-noattr", "raw-ec"])
def test_cms_and_ec_proofs_bind_too(pki, trusted, trader, trader_owner, form):
    holder = pki.signer(tax_code=trader.tax_code, key="p256" if form == "raw-ec" else "rsa2048", slot=6)
    certificate = upload(trader_owner, holder)
    challenge = certificate.challenge.encode()
    if form == "raw-ec":
        proof = openssl_dgst_sign(challenge, holder)
    else:
        proof = openssl_cms_sign(challenge, holder, noattr=form == "cms-noattr")
    assert certificate_prove(certificate=certificate, proof=proof, actor=trader_owner).status == "active"


def test_a_signer_who_binds_becomes_the_first_custodian(trusted, holder, trader_signer):
    certificate = upload(trader_signer, holder)
    certificate_prove(
        certificate=certificate,
        proof=openssl_dgst_sign(certificate.challenge.encode(), holder),
        actor=trader_signer,
    )
    assert list(CertificateCustodian.objects.values_list("user", flat=True)) == [trader_signer.pk]


def test_viewers_and_declarants_cannot_bind(trusted, holder, trader):
    for role in ("viewer", "declarant"):
        member = UserFactory(organization=trader, role=role)
        assert refused_code(lambda member=member: upload(member, holder)) == "not_allowed"
    assert not Certificate.objects.exists()


def _bad_inputs(pki, trader):
    now = datetime.datetime.now(datetime.UTC)
    leaf = pki.signer(tax_code=trader.tax_code, slot=7)
    sha1 = resign_with_weak_hash(
        pki.signer(tax_code=trader.tax_code, slot=7).certificate, pki.intermediate.key, "sha1"
    )
    pem = leaf.cert_pem
    return {
        "certificate_too_large": b"-" * (64 * 1024 + 1),
        "certificate_malformed": b"\x30\x82\x01\x00garbage",
        "certificate_bundle": pem + pki.intermediate.cert_pem,
        "truncated": leaf.cert_der[:200],
        "certificate_not_end_entity": pki.ca("Rogue CA", issuer=pki.intermediate).cert_pem,
        "certificate_expired": pki.signer(
            tax_code=trader.tax_code,
            slot=7,
            not_before=now - datetime.timedelta(days=400),
            not_after=now - datetime.timedelta(days=1),
        ).cert_pem,
        "certificate_not_yet_valid": pki.signer(
            tax_code=trader.tax_code, slot=7, not_before=now + datetime.timedelta(days=2)
        ).cert_pem,
        "certificate_weak_algorithm": sha1.public_bytes(serialization.Encoding.PEM),
        "rsa1024": pki.signer(tax_code=trader.tax_code, key="rsa1024", slot=7).cert_pem,
        "certificate_key_usage": pki.signer(tax_code=trader.tax_code, slot=7, usage=None).cert_pem,
        "certificate_untrusted": pki.signer(tax_code=trader.tax_code, slot=7, issuer=pki.other_root).cert_pem,
        "certificate_no_tax_code": pki.signer(tax_code=None, slot=7).cert_pem,
        "certificate_tax_code_mismatch": pki.signer(
            tax_code="0100686209" if trader.tax_code != "0100686209" else "0301234562", slot=7
        ).cert_pem,
    }


EXPECTED = {
    "truncated": "certificate_malformed",
    "rsa1024": "certificate_weak_algorithm",
}


@pytest.mark.parametrize(
    "case",
    [
        "certificate_too_large", "certificate_malformed", "certificate_bundle", "truncated",
        "certificate_not_end_entity", "certificate_expired", "certificate_not_yet_valid",
        "certificate_weak_algorithm", "rsa1024", "certificate_key_usage", "certificate_untrusted",
        "certificate_no_tax_code", "certificate_tax_code_mismatch",
    ],
)  # fmt: skip
def test_each_bad_certificate_has_its_own_code_and_binds_nothing(pki, trusted, trader, trader_owner, case):
    data = _bad_inputs(pki, trader)[case]
    assert refused_code(lambda: upload(trader_owner, data)) == EXPECTED.get(case, case)
    assert not Certificate.objects.exists()
    rejected = AuditEvent.objects.get(action="certificate.rejected")
    assert rejected.data["code"] == EXPECTED.get(case, case)


def test_a_revoked_certificate_is_refused(pki, trusted, holder, trader_owner):
    crl_import(data=crl_bytes(make_crl(pki.intermediate, revoked=[holder.certificate])), actor=None)
    assert refused_code(lambda: upload(trader_owner, holder)) == "certificate_revoked"


def test_a_retired_issuer_no_longer_vouches(trusted, holder, trader_owner):
    trusted_issuer_set_status(issuer=trusted[0], status="retired", actor=None)
    assert refused_code(lambda: upload(trader_owner, holder)) == "certificate_untrusted"


def test_a_broker_presenting_the_traders_certificate_is_refused_and_flagged(
    pki, trusted, trader_owner, broker_owner
):
    trader_holder = pki.signer(tax_code=trader_owner.organization.tax_code, slot=8)
    first = upload(trader_owner, trader_holder)
    certificate_prove(
        certificate=first,
        proof=openssl_dgst_sign(first.challenge.encode(), trader_holder),
        actor=trader_owner,
    )
    assert refused_code(lambda: upload(broker_owner, trader_holder)) == "certificate_shared"
    flag = Flag.objects.get(kind="certificate_shared")
    assert (flag.organization, flag.user, flag.severity) == (broker_owner.organization, broker_owner, "high")
    assert flag.evidence["other_organizations"] == [str(trader_owner.organization_id)]
    assert not Certificate.objects.filter(organization=broker_owner.organization).exists()


def test_sharing_is_refused_and_flagged_even_with_a_matching_tax_code(pki, trusted, trader, trader_owner):
    # A sister organisation with the same tax code cannot exist, so simulate the lending case
    # directly: another organisation row already holds this fingerprint.
    holder = pki.signer(tax_code=trader.tax_code, slot=9)
    other = OrganizationFactory()
    Certificate.objects.create(
        organization=other, issuer=trusted[0], der=holder.cert_der,
        fingerprint_sha256=holder.certificate.fingerprint(hashes.SHA256()).hex(), serial_number="1",
        subject="x", subject_tax_code=trader.tax_code, issuer_name="x", not_before=timezone.now(),
        not_after=timezone.now() + datetime.timedelta(days=30), signer_name="x",
        signer_id_number="001203004567",
        status="active", uploaded_by=UserFactory(organization=other), challenge="x",
        challenge_expires_at=timezone.now(),
    )  # fmt: skip
    assert refused_code(lambda: upload(trader_owner, holder)) == "certificate_shared"
    flag = Flag.objects.get(kind="certificate_shared")
    assert (flag.severity, flag.organization, flag.user) == ("high", trader, trader_owner)
    assert flag.evidence["other_organizations"] == [str(other.pk)]
    assert Certificate.objects.filter(organization=trader).count() == 0


def test_proof_errors(pki, trusted, holder, trader_owner):
    certificate = upload(trader_owner, holder)
    stranger = pki.signer(tax_code=trader_owner.organization.tax_code, slot=10)
    wrong_key = openssl_dgst_sign(certificate.challenge.encode(), stranger)
    assert (
        refused_code(lambda: certificate_prove(certificate=certificate, proof=wrong_key, actor=trader_owner))
        == "proof_invalid"
    )
    wrong_text = openssl_dgst_sign(b"something else", holder)
    assert (
        refused_code(lambda: certificate_prove(certificate=certificate, proof=wrong_text, actor=trader_owner))
        == "proof_invalid"
    )
    assert (
        refused_code(lambda: certificate_prove(certificate=certificate, proof=b"garbage", actor=trader_owner))
        == "proof_invalid"
    )
    certificate.refresh_from_db()
    assert certificate.status == "pending_proof"
    # An old challenge's signature does not answer a new one.
    old_proof = openssl_dgst_sign(certificate.challenge.encode(), holder)
    renewed = upload(trader_owner, holder)
    assert renewed.pk == certificate.pk and renewed.challenge != certificate.challenge
    assert (
        refused_code(lambda: certificate_prove(certificate=renewed, proof=old_proof, actor=trader_owner))
        == "proof_invalid"
    )
    good = openssl_dgst_sign(renewed.challenge.encode(), holder)
    certificate_prove(certificate=renewed, proof=good, actor=trader_owner)
    # Replaying the proof that worked.
    assert (
        refused_code(lambda: certificate_prove(certificate=renewed, proof=good, actor=trader_owner))
        == "challenge_used"
    )
    assert refused_code(lambda: upload(trader_owner, holder)) == "certificate_already_bound"


def test_an_expired_challenge_is_refused(trusted, holder, trader_owner, settings):
    certificate = upload(trader_owner, holder)
    proof = openssl_dgst_sign(certificate.challenge.encode(), holder)
    later = timezone.now() + datetime.timedelta(seconds=settings.CERTIFICATE_CHALLENGE_SECONDS + 1)
    with time_machine.travel(later):
        assert (
            refused_code(lambda: certificate_prove(certificate=certificate, proof=proof, actor=trader_owner))
            == "challenge_expired"
        )
    certificate.refresh_from_db()
    assert certificate.status == "pending_proof"


def test_revoked_between_upload_and_proof_is_refused(pki, trusted, holder, trader_owner):
    certificate = upload(trader_owner, holder)
    crl_import(data=crl_bytes(make_crl(pki.intermediate, revoked=[holder.certificate])), actor=None)
    certificate.refresh_from_db()
    assert certificate.status == "revoked"
    proof = openssl_dgst_sign(certificate.challenge.encode(), holder)
    assert (
        refused_code(lambda: certificate_prove(certificate=certificate, proof=proof, actor=trader_owner))
        == "challenge_used"
    )


def test_another_enterprise_cannot_prove_our_upload(trusted, holder, trader_owner, outsider):
    certificate = upload(trader_owner, holder)
    proof = openssl_dgst_sign(certificate.challenge.encode(), holder)
    assert (
        refused_code(lambda: certificate_prove(certificate=certificate, proof=proof, actor=outsider))
        == "not_found"
    )


def test_the_trust_chain_may_end_at_a_trusted_root_with_the_intermediate_also_trusted(
    pki, trader, trader_owner
):
    trust(pki.root)
    holder = pki.signer(tax_code=trader.tax_code, slot=11, issuer=pki.root)
    assert (
        upload(trader_owner, holder).issuer.fingerprint_sha256
        == pki.root.certificate.fingerprint(hashes.SHA256()).hex()
    )


def test_a_branch_certificate_binds_to_the_branch_only(pki, trusted, trader_owner):
    branch = OrganizationFactory(tax_code=trader_owner.organization.tax_code + "-001")
    branch_owner = UserFactory(organization=branch, role="owner")
    holder = pki.signer(tax_code=branch.tax_code, slot=12)
    assert upload(branch_owner, holder).subject_tax_code == branch.tax_code
    assert refused_code(lambda: upload(trader_owner, holder)) == "certificate_shared"
    other = pki.signer(tax_code=branch.tax_code, slot=13)
    assert refused_code(lambda: upload(trader_owner, other)) == "certificate_tax_code_mismatch"
