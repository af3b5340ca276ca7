"""The README's walk-through: the demo trader binds its certificate with the exact openssl commands."""

from __future__ import annotations

import io
import subprocess

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from config.management.commands.seed_demo import DEMO_TOTP_KEY_HEX
from signatures.models import Certificate
from tests.factories import totp_code

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "command",
    [
        "openssl dgst -sha256 -sign {pki}/hoabinh.key -out proof.sig challenge.txt",
        "openssl cms -sign -binary -outform DER -in challenge.txt -signer {pki}/hoabinh.pem "
        "-inkey {pki}/hoabinh.key -out proof.sig",
    ],
)
def test_the_demo_trader_binds_its_certificate_as_the_readme_says(client, settings, tmp_path, command):
    settings.DEBUG = True
    settings.DATA_DIR = tmp_path
    call_command("seed_demo", stdout=io.StringIO())
    pki = tmp_path / "demo-pki"
    client.post(reverse("login"), {"username": "hoabinh.owner", "password": "amber-lantern-river-1975"})
    TOTPDevice.objects.filter(user__username="hoabinh.owner").update(last_t=-1)
    client.post(reverse("login_verify"), {"code": totp_code(DEMO_TOTP_KEY_HEX)})
    response = client.post(
        reverse("certificate_upload"),
        {
            "certificate": SimpleUploadedFile("hoabinh.cer", (pki / "hoabinh.cer").read_bytes()),
            "signer_name": "Nguyễn Thị Lan",
            "signer_id_number": "001203004567",
        },
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    certificate = Certificate.objects.get()
    work = tmp_path / "work"
    work.mkdir()
    (work / "challenge.txt").write_bytes(
        client.get(reverse("certificate_challenge", args=[certificate.pk])).content
    )
    subprocess.run(command.format(pki=pki).split(), cwd=work, check=True, capture_output=True)
    proof = SimpleUploadedFile("proof.sig", (work / "proof.sig").read_bytes())
    client.post(reverse("certificate_proof", args=[certificate.pk]), {"proof": proof})
    certificate.refresh_from_db()
    assert certificate.status == "active"
