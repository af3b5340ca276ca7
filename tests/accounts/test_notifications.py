"""In-portal notifications and their emails: a new device, password and MFA changes, lock-outs.
The email task carries the notification's id only."""

from __future__ import annotations

import html
import re

import pytest
from celery import signals
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import translation

from accounts.devices import describe_user_agent
from accounts.models import Notification
from accounts.notices import notification_text
from accounts.services.mail import notification_email
from accounts.services.notifications import notification_send
from tests.factories import TEST_PASSWORD
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
)


def test_the_first_sign_in_is_not_a_new_device_but_another_device_is(trader_signer):
    laptop, phone = Client(HTTP_USER_AGENT=FIREFOX), Client(HTTP_USER_AGENT=IPHONE)
    sign_in(laptop, "trader.signer")
    sign_in(laptop, "trader.signer")
    assert not Notification.objects.exists()
    sign_in(phone, "trader.signer", REMOTE_ADDR="198.51.100.7")
    notice = Notification.objects.get()
    assert (notice.user, notice.kind) == (trader_signer, "new_device")
    assert notice.params["network"] == "198.51.100.0/24"
    assert "iOS" in notice.params["device"]
    # The same phone again is no longer new.
    sign_in(phone, "trader.signer")
    assert Notification.objects.count() == 1


def test_a_failed_sign_in_from_a_new_device_tells_nothing(trader_signer):
    sign_in(Client(), "trader.signer")
    Client().post("/accounts/login/", {"username": "trader.signer", "password": "wrong" + TEST_PASSWORD})
    assert not Notification.objects.filter(kind="new_device").exists()


def test_the_email_task_carries_only_the_id(trader_signer, django_capture_on_commit_callbacks):
    ran = []

    def capture(sender=None, args=None, kwargs=None, **_kwargs):
        ran.append((sender.name, tuple(args or ()), kwargs))

    signals.task_prerun.connect(capture)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            notification = notification_send(user=trader_signer, kind="password_changed")
    finally:
        signals.task_prerun.disconnect(capture)
    assert ran == [("accounts.tasks.notify_by_email", (notification.pk,), {})]
    notification.refresh_from_db()
    assert notification.emailed_at is not None
    assert [message.to for message in mail.outbox] == [[trader_signer.email]]
    # A redelivered task does not send it twice.
    assert notification_email(notification_id=notification.pk) is False
    assert len(mail.outbox) == 1


def test_the_text_is_in_the_readers_language(trader_signer):
    notification = notification_send(
        user=trader_signer, kind="role_changed", email=False, organization="Hòa Bình", role="viewer"
    )
    with translation.override("en"):
        english = notification_text(notification)
    with translation.override("vi"):
        vietnamese = notification_text(notification)
    assert "Viewer" in english and english != vietnamese
    assert "Hòa Bình" in vietnamese


def test_each_person_sees_only_their_own_and_can_mark_them_read(client, trader_signer, outsider):
    notification_send(user=trader_signer, kind="password_changed", email=False)
    notification_send(user=outsider, kind="mfa_enabled", email=False)
    sign_in(client, "trader.signer")
    page = client.get(reverse("notifications"))
    assert [n.kind for n in page.context["page"]] == ["password_changed"]
    assert page.context["unread_notifications"] == 1
    assert '<span class="badge">1</span></a>' in page.content.decode()  # the navigation's count
    client.post(reverse("notifications"))
    assert client.get(reverse("notifications")).context["unread_notifications"] == 0
    assert Notification.objects.get(user=outsider).read_at is None


@pytest.mark.parametrize(
    ("user_agent", "expected"),
    [
        (FIREFOX, "Firefox 140 on Linux"),
        (IPHONE, "Mobile Safari 17 on iOS 17 (iPhone)"),
        ("curl/8.5.0", "curl 8"),
        ("", "unknown device"),
        ("\x00\x01garbage", "unknown device"),
    ],
)
def test_device_descriptions(user_agent, expected):
    with translation.override("en"):
        assert describe_user_agent(user_agent) == expected


def test_the_sign_in_history_shows_device_descriptions(client, trader_signer):
    client.defaults["HTTP_USER_AGENT"] = FIREFOX
    sign_in(client, "trader.signer")
    with translation.override("en"):
        page = client.get(reverse("signin_history"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Firefox 140 on Linux" in page


def test_a_mandate_notice_names_its_status_and_kinds_by_label_in_the_readers_language(world):
    from brokers.services.mandates import authorization_accept, authorization_grant, authorization_revoke

    today = world.mandate.valid_from
    mandate = authorization_grant(
        actor=world.trader_owner, broker=world.broker, scopes=["export", "transit"], representation="direct",
        contract_number="HĐ-09", valid_from=today, valid_until=world.mandate.valid_until,
    )  # fmt: skip
    authorization_accept(mandate=mandate, actor=world.broker_owner)
    authorization_revoke(mandate=mandate, actor=world.trader_owner, reason="Hết hợp đồng")
    invited = Notification.objects.filter(user=world.broker_owner, kind="mandate_invited").latest("pk")
    revoked = Notification.objects.filter(user=world.trader_owner, kind="mandate_changed").latest("pk")
    with translation.override("vi"):
        assert "(Xuất khẩu, Quá cảnh)" in notification_text(invited)
        assert notification_text(revoked).endswith(": Bị thu hồi.")
    with translation.override("en"):
        assert "(Export, Transit)" in notification_text(invited)
        assert notification_text(revoked).endswith(": Revoked.")


def test_a_contact_change_notice_names_the_fields_in_words(trader_signer):
    notification = notification_send(
        user=trader_signer, kind=Notification.Kind.CONTACT_CHANGED, email=False, fields="email, phone"
    )
    with translation.override("vi"):
        assert "(địa chỉ email, điện thoại)" in notification_text(notification)


# Notices stored before their parameters were labelled: raw choice codes, a mandate's kinds joined.
OLD_ROWS = [
    ("mandate_changed", {"trader": "Hòa Bình", "broker": "Sao Mai", "status": "revoked"}),
    ("mandate_changed", {"trader": "Hòa Bình", "broker": "Sao Mai", "status": "suspended"}),
    ("mandate_invited", {"party": "Sao Mai", "scopes": "import, transit"}),
    ("role_changed", {"organization": "Hòa Bình", "role": "signer"}),
    ("invitation_accepted", {"person": "Trần Thị Lan", "role": "declarant"}),
    ("case_closed", {"case": 7, "organization": "Hòa Bình", "outcome": "confirmed_misuse"}),
]
CODES = ["revoked", "suspended", "import", "transit", "signer", "declarant", "confirmed_misuse"]
LABELS = {
    "vi": [
        ": Bị thu hồi.",
        ": Bị tạm dừng do giấy phép đại lý hải quan bị tạm dừng.",
        "(Nhập khẩu, Quá cảnh)",
        ": Người ký.",
        "với vai trò Người khai hải quan.",
        "Kết quả: Xác nhận có lạm dụng.",
    ],
    "en": [
        ": Revoked.",
        ": Suspended with the broker's licence.",
        "(Import, Transit)",
        ": Signer.",
        "joined as Declarant.",
        "Outcome: Confirmed misuse.",
    ],
}


@pytest.mark.parametrize("language", ["vi", "en"])
def test_old_notices_holding_choice_codes_read_by_their_labels(client, trader_signer, language):
    Notification.objects.bulk_create(
        Notification(user=trader_signer, kind=kind, params={"username": "trader.signer", **params})
        for kind, params in OLD_ROWS
    )
    sign_in(client, "trader.signer")
    with translation.override(language):
        page = client.get(reverse("notifications"), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    sentences = html.unescape(" ".join(re.findall(r"<p>(.*?)</p>", page, re.S)))
    for label in LABELS[language]:
        assert label in sentences
    for code in CODES:
        assert not re.search(rf"\b{code}\b", sentences), code
