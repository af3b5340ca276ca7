"""Demo data for the embedded set-up: a trader, a licensed broker, their staff and an officer.

Idempotent: existing rows are kept (a changed password is not reset unless --reset-passwords).
Refuses to run with DEBUG off unless --allow-production, since the demo passwords are public.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Organization, User
from accounts.services.mfa import mfa_enabled, mfa_required
from accounts.services.organizations import organization_create
from accounts.services.users import user_create
from audit.models import Flag
from audit.services.flags import flag_raise
from brokers.models import AgentStaff, BrokerLicence
from brokers.periods import report_period_containing
from brokers.services.agents import agent_register
from brokers.services.licences import broker_licence_grant
from officers.services.compliance import compliance_classify_all
from officers.services.groups import officer_group_set, officer_groups_sync
from signatures.demo_pki import demo_pki
from signatures.models import TrustedIssuer
from signatures.services import trust

TRADER = {
    "tax_code": "0100686209",
    "name": "Công ty TNHH Xuất nhập khẩu Hòa Bình (demo)",
    "province": "Hà Nội",
    "address": "1 Tràng Tiền, Hoàn Kiếm, Hà Nội",
    "email": "contact@hoabinh-demo.example",
}
BROKER = {
    "tax_code": "0301234562",
    "name": "Công ty CP Đại lý Hải quan Sao Mai (demo)",
    "province": "TP. Hồ Chí Minh",
    "address": "2 Nguyễn Huệ, Quận 1, TP. Hồ Chí Minh",
    "email": "contact@saomai-demo.example",
}
LICENCE_NUMBER = "DLHQ-0001/2026"

# (username, role, organisation key, first name, last name, password, agent number)
PEOPLE = [
    ("hoabinh.owner", User.Role.OWNER, "trader", "Lan", "Nguyễn Thị", "amber-lantern-river-1975", None),
    ("hoabinh.signer", User.Role.SIGNER, "trader", "Minh", "Trần Văn", "copper-heron-meadow-2048", None),
    ("saomai.owner", User.Role.OWNER, "broker", "Hùng", "Lê Quốc", "violet-harbour-kettle-3310", None),
    (
        "saomai.agent",
        User.Role.SIGNER,
        "broker",
        "Mai",
        "Phạm Thị",
        "granite-orchid-ferry-5821",
        "DL-0001-0042",
    ),
    ("officer.demo", User.Role.OFFICER, None, "Quang", "Đỗ Minh", "silver-monsoon-ledger-7734", None),
]


DEMO_TOTP_KEY_BASE32 = "GNCUIT2DKNDU6VSEIVGU6MBSGAZDMMBR"  # 20 bytes, as authenticator apps expect
DEMO_TOTP_KEY_HEX = base64.b32decode(DEMO_TOTP_KEY_BASE32).hex()


class Command(BaseCommand):
    help = "Create (or keep) the demo trader, broker, their staff and an officer; print the sign-in names."

    def add_arguments(self, parser):
        parser.add_argument("--reset-passwords", action="store_true", help="set the demo passwords again")
        parser.add_argument("--allow-production", action="store_true", help="run even with DEBUG off")

    def handle(self, *args, reset_passwords: bool, allow_production: bool, **options):
        if not settings.DEBUG and not allow_production:
            raise CommandError("seed_demo creates accounts with published passwords; refusing with DEBUG off")
        with transaction.atomic():
            organizations = {
                "trader": self._organization(Organization.Kind.TRADER, TRADER),
                "broker": self._organization(Organization.Kind.BROKER, BROKER),
            }
            licence = BrokerLicence.objects.filter(organization=organizations["broker"]).first()
            if licence is None:
                licence = broker_licence_grant(
                    organization=organizations["broker"],
                    number=LICENCE_NUMBER,
                    issued_by="Cục Hải quan (demo)",
                    # Issued this period, so the demo broker owes no past operations report.
                    issued_on=report_period_containing(timezone.localdate()).start,
                    actor=None,
                )
            rows = []
            for username, role, org_key, first, last, password, agent_number in PEOPLE:
                user = User.objects.filter(username=username).first()
                if user is None:
                    user = user_create(
                        username=username,
                        email=f"{username}@demo.example",
                        role=role,
                        organization=organizations[org_key] if org_key else None,
                        password=password,
                        first_name=first,
                        last_name=last,
                        is_staff=role == User.Role.OFFICER,
                        actor=None,
                    )
                elif reset_passwords:
                    user.set_password(password)
                    user.save(update_fields=["password"])
                if agent_number and not AgentStaff.objects.filter(user=user).exists():
                    agent_register(
                        user=user,
                        licence=licence,
                        agent_number=agent_number,
                        joined_on=licence.issued_on,
                        actor=None,
                    )
                if mfa_required(user) and not mfa_enabled(user):
                    # A published authenticator key, like the published passwords: demo only.
                    TOTPDevice.objects.create(
                        user=user, name="demo authenticator", key=DEMO_TOTP_KEY_HEX, confirmed=True
                    )
                rows.append((username, password, user.get_role_display(), organizations.get(org_key)))

        self._demo_pki()
        self._officer_console(organizations)
        self.stdout.write("Demo accounts (sign in at /accounts/login/; the officer also at /officers/):")
        for username, password, role, organization in rows:
            where = organization.name if organization else "Customs"
            self.stdout.write(f"  {username:<16} {password:<28} {role} · {where}")
        self.stdout.write(
            f"Owners and the officer also give a code from an authenticator app holding the key "
            f"{DEMO_TOTP_KEY_BASE32} (e.g. `oathtool --totp -b {DEMO_TOTP_KEY_BASE32}`)."
        )

    def _demo_pki(self) -> None:
        """A demo CA the demo trusts, and certificates with keys to bind (docs/certificates.md)."""
        directory = settings.DATA_DIR / "demo-pki"
        files = demo_pki(
            directory,
            {"hoabinh": (TRADER["tax_code"], TRADER["name"]), "saomai": (BROKER["tax_code"], BROKER["name"])},
        )
        fingerprint = hashlib.sha256(
            x509.load_pem_x509_certificate(files["ca"].read_bytes()).public_bytes(serialization.Encoding.DER)
        ).hexdigest()
        if not TrustedIssuer.objects.filter(fingerprint_sha256=fingerprint).exists():
            trust.trusted_issuer_add(data=files["ca"].read_bytes(), name="CSG Demo CA", actor=None)
        self.stdout.write(
            f"Demo certificates and keys to bind: {directory}/hoabinh.pem, hoabinh.key (trader),"
        )
        self.stdout.write(f"  saomai.pem, saomai.key (broker); their CA ({directory}/ca.pem) is trusted.")

    def _officer_console(self, organizations: dict) -> None:
        """The officer console's groups, the demo officer as an administrator, and a couple of
        flags so its dashboard and queue have something to show; then a first classification."""
        officer = User.objects.get(username="officer.demo")
        if not officer.groups.filter(name__startswith="officer ").exists():
            officer_group_set(officer=officer, groups=["administrator"])
        else:
            officer_groups_sync()
        trader = organizations["trader"]
        if not Flag.objects.filter(organization=trader).exists():
            with transaction.atomic():
                flag_raise(
                    kind="foreign_party_device",
                    severity=Flag.Severity.MEDIUM,
                    organization=trader,
                    user=User.objects.get(username="hoabinh.signer"),
                    explanation="Demo: the trader's signer signed in from a device the broker's agent uses.",
                    evidence={"demo": True},
                )
                flag_raise(
                    kind="certificate_foreign_use",
                    severity=Flag.Severity.HIGH,
                    organization=trader,
                    explanation="Demo: the trader's certificate was presented by another organisation.",
                    evidence={"demo": True, "used_by": organizations["broker"].tax_code},
                )
        compliance_classify_all()

    def _organization(self, kind: str, data: dict) -> Organization:
        existing = Organization.objects.filter(tax_code=data["tax_code"]).first()
        if existing:
            return existing
        return organization_create(kind=kind, status=Organization.Status.ACTIVE, actor=None, **data)
