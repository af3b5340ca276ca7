from __future__ import annotations

import pytest

from accounts.models import Organization
from accounts.services.organizations import organization_verify
from audit.models import AuditEvent
from core.errors import ApplicationError
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


def test_an_officer_verifies_a_pending_enterprise_once(officer):
    pending = OrganizationFactory(status=Organization.Status.PENDING_VERIFICATION)
    organization_verify(organization=pending, actor=officer, reason="documents checked")
    organization_verify(organization=pending, actor=officer, reason="again")
    pending.refresh_from_db()
    assert pending.status == "active" and pending.verified_at is not None
    events = AuditEvent.objects.filter(action="organization.verified", target_id=str(pending.pk))
    assert list(events.values_list("data", flat=True)) == [{"reason": "documents checked"}]


def test_members_cannot_verify_their_own_or_anyone_elses_enterprise(trader_owner):
    pending = trader_owner.organization
    Organization.objects.filter(pk=pending.pk).update(status="pending_verification")
    with pytest.raises(ApplicationError) as refused:
        organization_verify(organization=pending, actor=trader_owner, reason="trust me")
    assert refused.value.code == "not_allowed"
    pending.refresh_from_db()
    assert pending.status == "pending_verification"
