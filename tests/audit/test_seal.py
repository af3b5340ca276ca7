from __future__ import annotations

import datetime
import hashlib

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from audit import selectors
from audit.canonical import ZERO_HASH
from audit.keys import signing_key
from audit.merkle import ListSource, consistency_proof, inclusion_proof, merkle_root, verify_consistency
from audit.models import Action, AuditCheckpoint, AuditEvent, AuditTreeNode
from audit.selectors import (
    StoredTreeSource,
    audit_consistency_build,
    audit_receipt_build,
    checkpoint_body_bytes,
    event_canonical_bytes,
)
from audit.services.events import audit_event_record
from audit.services.sealing import audit_seal
from audit.verification import audit_verify
from audit.verify_receipt import verify_receipt
from tests.audit.helpers import record_many

pytestmark = pytest.mark.django_db


def _chain_by_hand(events) -> list[bytes]:
    chain, out = ZERO_HASH, []
    for event in events:
        chain = hashlib.sha256(chain + event_canonical_bytes(event)).digest()
        out.append(chain)
    return out


def test_sealing_gives_contiguous_positions_and_the_documented_hashes():
    record_many(5)
    result = audit_seal()
    assert result.sealed == 5
    events = list(AuditEvent.objects.order_by("position"))
    assert [e.position for e in events] == [0, 1, 2, 3, 4]
    assert [bytes(e.chain_hash) for e in events] == _chain_by_hand(events)
    assert [bytes(e.leaf_hash) for e in events] == [
        hashlib.sha256(b"\x00" + event_canonical_bytes(e)).digest() for e in events
    ]
    assert all(e.sealed_at is not None for e in events)


def test_sealing_again_changes_nothing():
    record_many(3)
    audit_seal()
    before = list(AuditEvent.objects.order_by("id").values_list("position", "chain_hash", "sealed_at"))
    result = audit_seal()
    assert result.sealed == 0
    assert (
        list(AuditEvent.objects.order_by("id").values_list("position", "chain_hash", "sealed_at")) == before
    )


def test_positions_follow_what_the_sealer_sees_not_primary_keys():
    # Ids are handed out at INSERT, visibility comes at COMMIT: a transaction that took id 5 may
    # commit after one that took id 10000 was already sealed. It must go after it, not fork the chain.
    now = timezone.now()
    AuditEvent(id=10_000, occurred_at=now, action="organization.created", channel="system").save(
        force_insert=True
    )
    audit_seal()
    AuditEvent(id=5, occurred_at=now, action="organization.created", channel="system").save(force_insert=True)
    audit_seal()
    assert dict(AuditEvent.objects.values_list("id", "position")) == {10_000: 0, 5: 1}
    assert audit_verify().ok


def test_a_checkpoint_closes_every_n_events(settings):
    settings.AUDIT_CHECKPOINT_EVENTS = 4
    settings.AUDIT_SEAL_BATCH = 3
    record_many(10)
    result = audit_seal()
    assert result.checkpoints == [1, 2]
    assert list(AuditCheckpoint.objects.values_list("sequence", "tree_size")) == [(1, 4), (2, 8)]


def test_a_checkpoint_closes_when_the_oldest_uncovered_event_is_older_than_the_interval(settings):
    settings.AUDIT_CHECKPOINT_SECONDS = 60
    with time_machine.travel(datetime.datetime(2026, 11, 23, 8, 0, tzinfo=datetime.UTC), tick=False):
        record_many(3)
        assert audit_seal().checkpoints == []
    with time_machine.travel(datetime.datetime(2026, 11, 23, 8, 0, 59, tzinfo=datetime.UTC), tick=False):
        assert audit_seal().checkpoints == []
    with time_machine.travel(datetime.datetime(2026, 11, 23, 8, 1, tzinfo=datetime.UTC), tick=False):
        assert audit_seal().checkpoints == [1]
        assert audit_seal().checkpoints == []  # nothing new to cover


def test_checkpoints_are_signed_chained_and_carry_the_root_of_the_events(settings):
    settings.AUDIT_CHECKPOINT_EVENTS = 3
    record_many(7)
    audit_seal()
    first, second = AuditCheckpoint.objects.order_by("sequence")
    leaves = [bytes(e.leaf_hash) for e in AuditEvent.objects.order_by("position")]
    assert bytes(first.root_hash) == merkle_root(leaves[:3])
    assert bytes(second.root_hash) == merkle_root(leaves[:6])
    assert bytes(second.prev_checkpoint_hash) == hashlib.sha256(checkpoint_body_bytes(first)).digest()
    assert bytes(second.chain_hash) == bytes(AuditEvent.objects.get(position=5).chain_hash)
    signing_key().public_key().verify(bytes(second.signature), checkpoint_body_bytes(second))


def test_stored_nodes_match_the_leaves_across_batches(settings):
    settings.AUDIT_SEAL_BATCH = 100
    record_many(600)
    audit_seal()
    leaves = [bytes(e) for e in AuditEvent.objects.order_by("position").values_list("leaf_hash", flat=True)]
    rows = AuditTreeNode.objects.values_list("level", "index", "hash")
    nodes = {(level, index): bytes(value) for level, index, value in rows}
    assert nodes == {(8, 0): merkle_root(leaves[:256]), (8, 1): merkle_root(leaves[256:512])}


def test_many_levels_of_nodes_and_proofs_from_them(settings, small_tree_blocks):
    settings.AUDIT_SEAL_BATCH = 37
    settings.AUDIT_CHECKPOINT_EVENTS = 100
    record_many(300)
    audit_seal()
    leaves = [bytes(e) for e in AuditEvent.objects.order_by("position").values_list("leaf_hash", flat=True)]
    levels = set(AuditTreeNode.objects.values_list("level", flat=True))
    assert levels == {2, 4, 6, 8}
    memory = ListSource(leaves)
    for level, index, value in AuditTreeNode.objects.values_list("level", "index", "hash"):
        assert bytes(value) == memory.subtree_hash(index << level, 1 << level)
    stored = StoredTreeSource(300)
    for leaf_index in range(300):
        assert inclusion_proof(stored, leaf_index, 300) == inclusion_proof(memory, leaf_index, 300)
    for first in (1, 7, 64, 100, 199, 256):
        assert consistency_proof(stored, first, 300) == consistency_proof(memory, first, 300)
    assert audit_verify().ok


def test_every_receipt_verifies_offline(settings):
    settings.AUDIT_CHECKPOINT_EVENTS = 50
    events = record_many(120)
    audit_seal()
    public = [signing_key().public_key()]
    for event in events:
        event.refresh_from_db()
        if event.position >= 100:
            continue
        result = verify_receipt(audit_receipt_build(event=event, disclose_network=True), public)
        assert result.ok, (event.position, result.problems)


def test_a_receipt_waits_for_a_checkpoint():
    (event,) = record_many(1)
    with pytest.raises(selectors.AuditNotSealed, match="not sealed"):
        audit_receipt_build(event=event, disclose_network=True)
    audit_seal()
    event.refresh_from_db()
    with pytest.raises(selectors.AuditNotSealed, match="no checkpoint"):
        audit_receipt_build(event=event, disclose_network=True)


def test_consistency_proofs_between_checkpoints_verify(settings):
    settings.AUDIT_CHECKPOINT_EVENTS = 13
    record_many(80)
    audit_seal()
    checkpoints = list(AuditCheckpoint.objects.order_by("sequence"))
    for first in checkpoints:
        for second in checkpoints:
            if first.tree_size > second.tree_size:
                continue
            proof = [bytes.fromhex(n) for n in audit_consistency_build(first=first, second=second)["proof"]]
            assert verify_consistency(
                first.tree_size, second.tree_size, bytes(first.root_hash), bytes(second.root_hash), proof
            )


@pytest.mark.django_db(transaction=True)
def test_the_seal_task_is_what_commits_trigger(settings):
    settings.AUDIT_CHECKPOINT_EVENTS = 2
    with transaction.atomic():
        audit_event_record(action=Action.ORGANIZATION_CREATED)
        audit_event_record(action=Action.ORGANIZATION_CREATED)
    assert AuditEvent.objects.filter(position__isnull=True).count() == 0
    assert AuditCheckpoint.objects.count() == 1
