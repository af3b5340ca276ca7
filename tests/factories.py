"""factory_boy factories, one per model."""

from __future__ import annotations

import datetime
import random

import factory
from stdnum.vn import mst

from accounts.models import Organization, User
from brokers.models import AgentStaff, BrokerLicence

TEST_PASSWORD = "quiet-lantern-orchard-4471"


def make_tax_code(seed: int | None = None) -> str:
    rng = random.Random(seed)
    while True:
        base = "0" + "".join(rng.choice("0123456789") for _ in range(8))
        code = base + mst.calc_check_digit(base)
        if mst.is_valid(code):
            return code


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    kind = Organization.Kind.TRADER
    tax_code = factory.Sequence(lambda n: make_tax_code(n))
    name = factory.Sequence(lambda n: f"Công ty TNHH Thử nghiệm {n}")
    province = "Hà Nội"
    email = factory.Sequence(lambda n: f"org{n}@example.test")
    status = Organization.Status.ACTIVE


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.Sequence(lambda n: f"user{n}@example.test")
    first_name = "Văn"
    last_name = "Nguyễn"
    organization = factory.SubFactory(OrganizationFactory)
    role = User.Role.VIEWER

    @factory.post_generation
    def password(obj, create, extracted, **kwargs):
        obj.set_password(extracted or TEST_PASSWORD)
        if create:
            obj.save(update_fields=["password"])


class OfficerFactory(UserFactory):
    organization = None
    role = User.Role.OFFICER
    is_staff = True


class BrokerLicenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BrokerLicence

    organization = factory.SubFactory(OrganizationFactory, kind=Organization.Kind.BROKER)
    number = factory.Sequence(lambda n: f"DLHQ-{n:04d}")
    issued_by = "Cục Hải quan"
    issued_on = datetime.date(2026, 1, 5)


class AgentStaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AgentStaff

    licence = factory.SubFactory(BrokerLicenceFactory)
    user = factory.SubFactory(
        UserFactory, organization=factory.SelfAttribute("..licence.organization"), role=User.Role.SIGNER
    )
    agent_number = factory.Sequence(lambda n: f"DL-{n:06d}")
    joined_on = datetime.date(2026, 1, 5)
