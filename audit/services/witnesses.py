"""Witnessing: an independent key co-signs the log's checkpoints once it has checked them."""

from __future__ import annotations

import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import transaction
from django.utils import timezone

from audit import keys
from audit.merkle import consistency_proof, verify_consistency
from audit.models import Action, AuditCheckpoint, AuditWitnessSignature
from audit.selectors import StoredTreeSource, checkpoint_body_bytes
from audit.services.events import audit_event_record
from audit.verify_receipt import key_id


def _now() -> datetime.datetime:
    return timezone.now()


class WitnessRefusal(Exception):
    """The witness will not co-sign: the checkpoint's signature or consistency does not hold."""


def audit_checkpoints_witness(
    *, private_key: Ed25519PrivateKey, now: datetime.datetime | None = None
) -> list[int]:
    """Co-sign, with an independent key, every checkpoint this witness has not signed yet.

    Before signing, the witness checks the log's own signature and that each new tree is a
    consistent extension of the last one it signed (RFC 6962 consistency proof), so a log that
    rewrote history cannot obtain its signature. Raises ``WitnessRefusal`` naming the checkpoint.
    """
    witness_id = key_id(private_key.public_key())
    public_pem = keys.public_key_pem(private_key.public_key())
    trusted = keys.trusted_public_keys()
    signed = []
    last_signed = (
        AuditCheckpoint.objects.filter(witness_signatures__key_id=witness_id).order_by("-sequence").first()
    )
    pending = AuditCheckpoint.objects.exclude(witness_signatures__key_id=witness_id).order_by("sequence")
    if last_signed:
        pending = pending.filter(sequence__gt=last_signed.sequence)
    for checkpoint in pending:
        body = checkpoint_body_bytes(checkpoint)
        log_key = trusted.get(checkpoint.key_id)
        try:
            if log_key is None:
                raise InvalidSignature
            log_key.verify(bytes(checkpoint.signature), body)
        except InvalidSignature:
            raise WitnessRefusal(
                f"checkpoint #{checkpoint.sequence}: the log's signature does not verify"
            ) from None
        if last_signed is not None:
            proof = consistency_proof(
                StoredTreeSource(checkpoint.tree_size), last_signed.tree_size, checkpoint.tree_size
            )
            if not verify_consistency(
                last_signed.tree_size,
                checkpoint.tree_size,
                bytes(last_signed.root_hash),
                bytes(checkpoint.root_hash),
                proof,
            ):
                raise WitnessRefusal(
                    f"checkpoint #{checkpoint.sequence} is not consistent with #{last_signed.sequence}"
                )
        with transaction.atomic():
            AuditWitnessSignature.objects.create(
                checkpoint=checkpoint,
                key_id=witness_id,
                public_key_pem=public_pem,
                signature=private_key.sign(body),
                signed_at=now or _now(),
            )
            audit_event_record(
                action=Action.AUDIT_WITNESSED,
                target=checkpoint,
                data={"witness_key_id": witness_id, "sequence": checkpoint.sequence},
            )
        signed.append(checkpoint.sequence)
        last_signed = checkpoint
    return signed
