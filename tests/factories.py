"""factory_boy factories, one per model."""

from __future__ import annotations

import datetime
import random

import factory
from stdnum.vn import mst

from accounts.models import Organization, User
from brokers.models import AgentProposal, AgentStaff, BrokerLicence, LicenceApplication

TEST_PASSWORD = "quiet-lantern-orchard-4471"
# The authenticator secret of every factory-made account whose role requires a second factor.
TEST_TOTP_KEY = "3132333435363738393031323334353637383930"


def totp_code(key: str = TEST_TOTP_KEY, at: float | None = None) -> str:
    """The code an authenticator with ``key`` shows now (or at the Unix time ``at``)."""
    from django_otp.oath import TOTP

    generator = TOTP(bytes.fromhex(key), step=30, t0=0, digits=6)
    if at is not None:
        generator.time = at
    return f"{generator.token():06d}"


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

    @factory.post_generation
    def authenticator(obj, create, extracted, **kwargs):
        """Owners and officers must have a second factor (MFA_REQUIRED_ROLES); they get one with
        ``TEST_TOTP_KEY`` unless ``authenticator=False``."""
        if not create or extracted is False:
            return
        if extracted or obj.role in ("owner", "officer"):
            from django_otp.plugins.otp_totp.models import TOTPDevice

            TOTPDevice.objects.create(user=obj, name="authenticator", key=TEST_TOTP_KEY, confirmed=True)


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


class AgentProposalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AgentProposal

    organization = factory.SubFactory(OrganizationFactory, kind=Organization.Kind.BROKER)
    user = factory.SubFactory(
        UserFactory, organization=factory.SelfAttribute("..organization"), role=User.Role.SIGNER
    )
    agent_number = factory.Sequence(lambda n: f"CC-{n:06d}")


class LicenceApplicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LicenceApplication

    organization = factory.SubFactory(OrganizationFactory, kind=Organization.Kind.BROKER)
    contact_name = "Trần Thị Mai"
    contact_phone = "+84912345678"
    contact_email = factory.Sequence(lambda n: f"contact{n}@example.vn")
