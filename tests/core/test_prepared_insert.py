"""core.prepared.PreparedInsert: a compiled-once INSERT writes exactly the row ``save()`` writes."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.db.models.signals import pre_save
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from accounts.models import Notification, Organization
from audit.models import AuditEvent
from core.prepared import PreparedInsert
from signatures.models import Declaration
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

insert_declaration = PreparedInsert(Declaration)
insert_notification = PreparedInsert(Notification)
insert_event = PreparedInsert(AuditEvent)


def _columns(model, pk):
    row = model.objects.filter(pk=pk).values().get()
    return {name: value for name, value in row.items() if name not in ("id", "created_at")}


def test_writes_the_row_save_writes_for_each_call():
    trader = OrganizationFactory()
    for number, document in (("A-1", b"<ToKhai/>\x00\xff"), ("A-2", b""), ("A-3", bytes(range(256)) * 40)):
        prepared = insert_declaration(
            Declaration(trader=trader, number=number, kind="import", document=document, document_sha256="ab")
        )
        saved = Declaration.objects.create(
            trader=trader, number=number + "x", kind="import", document=document, document_sha256="ab"
        )
        assert prepared.pk is not None and prepared.pk != saved.pk
        assert not prepared._state.adding and prepared._state.db == "default"
        assert {**_columns(Declaration, prepared.pk), "number": ""} == {
            **_columns(Declaration, saved.pk),
            "number": "",
        }
        assert bytes(Declaration.objects.get(pk=prepared.pk).document) == document
        # auto_now_add ran: the row has the time the instance was given.
        assert Declaration.objects.get(pk=prepared.pk).created_at == prepared.created_at is not None


def test_json_and_nullable_columns_round_trip():
    user = UserFactory()
    for params in ({"numbers": ["1", "2"], "tên": "Hòa Bình"}, {}, {"nested": {"none": None}}):
        prepared = insert_notification(Notification(user=user, kind="report_due", params=params))
        assert Notification.objects.get(pk=prepared.pk).params == params
    event = insert_event(
        AuditEvent(
            action="declaration.signed", data={"n": 1}, occurred_at=timezone.now(), ip="", target_type="t"
        )
    )
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.data, stored.actor_id, stored.organization_id, stored.action) == (
        {"n": 1},
        None,
        None,
        "declaration.signed",
    )


def test_a_unique_violation_raises_and_spoils_the_transaction_as_save_does():
    trader = OrganizationFactory()
    insert_declaration(
        Declaration(trader=trader, number="D-1", kind="import", document=b"x", document_sha256="a")
    )
    with transaction.atomic():
        with pytest.raises(IntegrityError):
            insert_declaration(
                Declaration(trader=trader, number="D-1", kind="import", document=b"y", document_sha256="b")
            )
        # Marked for rollback, like the ORM's save: no half-done work can be committed after it.
        with pytest.raises(TransactionManagementError):
            Organization.objects.count()
    assert Declaration.objects.filter(trader=trader, number="D-1").count() == 1


def test_refuses_a_saved_instance_an_explicit_key_and_another_model():
    trader = OrganizationFactory()
    saved = Declaration.objects.create(
        trader=trader, number="S-1", kind="import", document=b"", document_sha256=""
    )
    with pytest.raises(TypeError):
        insert_declaration(saved)
    with pytest.raises(TypeError):
        insert_declaration(Declaration(pk=10**9, trader=trader, number="S-2", kind="import", document=b""))
    with pytest.raises(TypeError):
        insert_declaration(Notification(user=UserFactory(), kind="report_due"))
    assert not Declaration.objects.filter(number__in=["S-2"]).exists()


def test_an_unsaved_related_object_is_refused_as_save_refuses_it():
    with pytest.raises(ValueError):
        insert_declaration(
            Declaration(trader=Organization(name="unsaved"), number="U-1", kind="import", document=b"")
        )


def test_receivers_of_pre_save_still_run():
    seen = []

    def listen(sender, instance, **kwargs):
        seen.append(instance.number)

    pre_save.connect(listen, sender=Declaration)
    try:
        declaration = insert_declaration(
            Declaration(trader=OrganizationFactory(), number="R-1", kind="import", document=b"")
        )
    finally:
        pre_save.disconnect(listen, sender=Declaration)
    assert seen == ["R-1"] and Declaration.objects.filter(pk=declaration.pk).exists()


def test_models_that_save_their_own_way_are_refused():
    class Custom(Notification):
        def save(self, *args, **kwargs):  # pragma: no cover - never called
            raise AssertionError

        class Meta:
            app_label = "accounts"
            proxy = True

    with pytest.raises(TypeError):
        PreparedInsert(Custom)
