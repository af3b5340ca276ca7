"""The second factor's recovery codes: a django-otp device holding single-use codes, kept as digests."""

from __future__ import annotations

import secrets

from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, ThrottlingMixin


class RecoveryCodeDevice(ThrottlingMixin, Device):
    """One-time recovery codes for when the authenticator is lost. Unlike django-otp's static
    device, only a keyed digest of each code is stored, so a copy of the database does not sign
    anyone in."""

    class Meta(Device.Meta):
        verbose_name = _("recovery codes")
        verbose_name_plural = _("recovery codes")

    def get_throttle_factor(self) -> int:
        return 1

    def remaining(self) -> int:
        return self.codes.filter(used_at__isnull=True).count()

    def verify_token(self, token) -> bool:
        allowed, _details = self.verify_is_allowed()
        if not allowed:
            return False
        # Spent with a conditional update: two concurrent sign-ins cannot both use one code.
        spent = self.codes.filter(digest=RecoveryCode.digest_of(str(token)), used_at__isnull=True).update(
            used_at=timezone.now()
        )
        if spent:
            self.throttle_reset()
        else:
            self.throttle_increment()
        return bool(spent)


class RecoveryCode(models.Model):
    ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread
    LENGTH = 12  # 60 bits

    device = models.ForeignKey(RecoveryCodeDevice, on_delete=models.CASCADE, related_name="codes")
    digest = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("recovery code")
        verbose_name_plural = _("recovery codes")
        constraints = [models.UniqueConstraint(fields=["device", "digest"], name="recovery_code_unique")]

    def __str__(self) -> str:
        return f"{self.device_id}: {'used' if self.used_at else 'unused'}"

    @classmethod
    def generate(cls) -> str:
        code = "".join(secrets.choice(cls.ALPHABET) for _ in range(cls.LENGTH))
        return f"{code[:4]}-{code[4:8]}-{code[8:]}"

    @staticmethod
    def digest_of(code: str) -> str:
        normalised = code.replace("-", "").replace(" ", "").upper().encode()
        key = salted_hmac("accounts.recovery-code", normalised, algorithm="sha256")
        return key.hexdigest()
