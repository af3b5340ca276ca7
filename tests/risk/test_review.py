"""'Was this you?': single-use signed links for the user and the owner; outsiders and forgeries
are refused and recorded."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import KnownPlace, Notification, SignInReview, User, UserSession
from accounts.notices import notification_text, signin_review_link
from accounts.services.notifications import notification_send
from accounts.tokens import REVIEW_SALT, signin_review_read, signin_review_token
from audit.models import AuditEvent, Case, Flag
from risk.services.evaluation import signin_evaluate
from risk.services.reviews import signin_review_answer
from tests.helpers import sign_in
from tests.risk.conftest import BROKER_DEVICE, record

pytestmark = pytest.mark.django_db


@pytest.fixture
def evaluated(risky_signin, trader_owner):
    return signin_evaluate(event_id=risky_signin.pk)


def review_of(user) -> SignInReview:
    return SignInReview.objects.get(recipient=user)


def url(review) -> str:
    return reverse("signin_review", kwargs={"token": signin_review_token(review)})


def signed_in(username) -> Client:
    client = Client()
    assert sign_in(client, username).status_code == 302
    # The evaluation may have asked for a step-up; these tests are about the review itself.
    User.objects.filter(username=username).update(step_up_required_at=None)
    return client


def refusals(reason) -> int:
    return sum(e.data["reason"] == reason for e in AuditEvent.objects.filter(action="signin.review_refused"))


def test_the_user_and_the_owner_are_each_asked_by_email_and_in_the_portal(
    evaluated, trader_signer, trader_owner, mailoutbox
):
    reviews = SignInReview.objects.filter(event=evaluated)
    assert {r.recipient for r in reviews} == {trader_signer, trader_owner}
    assert len({r.nonce for r in reviews}) == 2
    notice = Notification.objects.get(user=trader_signer, kind="signin_review")
    with translation.override("en"):
        text = notification_text(notice)
    # The link is signed with a timestamp: two renderings a second apart differ, so it is read back.
    link = re.search(r"https?://\S+/accounts/sign-in-review/(\S+)/", text)
    assert signin_review_link(notice).startswith(link.group(0).split("/accounts/")[0])
    assert signin_review_read(link.group(1))["r"] == review_of(trader_signer).pk
    assert "device or network used by another enterprise" in text
    # The stored row carries the review's id, not the link.
    assert "sign-in-review" not in repr(notice.params)


def test_a_low_finding_alone_asks_nobody(settings, trader_signer, trader_owner):
    record(trader_signer, ago=datetime.timedelta(days=1))
    event = record(trader_signer, evaluated=False, device_id="another-device")
    signin_evaluate(event_id=event.pk)
    assert not SignInReview.objects.exists()
    settings.RISK_NOTIFY_SEVERITY = "low"
    Flag.objects.update(status="resolved")  # so that the next finding is a new flag
    event = record(trader_signer, evaluated=False, device_id="a-third-device")
    signin_evaluate(event_id=event.pk)
    assert SignInReview.objects.count() == 2


def test_the_page_shows_the_question_and_its_reasons(evaluated, trader_signer):
    client = signed_in("trader.signer")
    response = client.get(url(review_of(trader_signer)), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert b"another enterprise" in response.content and b'value="not_me"' in response.content


def test_this_was_me_closes_low_and_medium_flags_and_teaches_the_history(
    evaluated, trader_signer, trader_owner
):
    client = signed_in("trader.signer")
    response = client.post(url(review_of(trader_signer)), {"answer": "me"})
    assert response.status_code == 200
    flags = {f.kind: f for f in Flag.objects.filter(user=trader_signer)}
    assert flags["new_device"].status == "answered" and flags["new_device"].outcome == "confirmed_by_user"
    assert flags["foreign_party_device"].status == "open"  # high: for officers to judge
    assert set(KnownPlace.objects.filter(user=trader_signer).values_list("kind", "value")) == {
        ("device", BROKER_DEVICE),
        ("network", evaluated.network),
    }
    audit = AuditEvent.objects.get(action="signin.reviewed")
    assert (audit.actor, audit.data["answer"]) == (trader_signer, "me")
    answered = AuditEvent.objects.filter(action="flag.answered")
    assert {e.target_id for e in answered} == {str(f.pk) for f in flags.values() if f.status == "answered"}
    assert {e.data["outcome"] for e in answered} == {"confirmed_by_user"}
    # The next sign-in there is no longer a new device.
    again = record(trader_signer, evaluated=False, device_id=BROKER_DEVICE, ip=evaluated.ip)
    signin_evaluate(event_id=again.pk)
    again.refresh_from_db()
    assert "new_device" not in {r["detector"] for r in again.risk_reasons}


def test_a_link_works_once_and_the_first_answer_closes_the_others(evaluated, trader_signer, trader_owner):
    signer = signed_in("trader.signer")
    assert signer.post(url(review_of(trader_signer)), {"answer": "me"}).status_code == 200
    replay = signer.post(url(review_of(trader_signer)), {"answer": "not_me"}, HTTP_ACCEPT_LANGUAGE="en")
    assert replay.status_code == 400 and b"already been answered" in replay.content
    owner = signed_in("trader.owner")
    assert owner.post(url(review_of(trader_owner)), {"answer": "not_me"}).status_code == 400
    assert review_of(trader_owner).answer == "superseded"
    assert refusals("used") == 2
    assert not Flag.objects.filter(kind="abuse_report").exists()


def test_an_outsider_cannot_answer_someone_elses_question(evaluated, trader_signer, outsider):
    intruder = signed_in("outsider")
    for answer in ("me", "not_me"):
        response = intruder.post(url(review_of(trader_signer)), {"answer": answer})
        assert response.status_code == 403
    assert intruder.get(url(review_of(trader_signer))).status_code == 403
    assert review_of(trader_signer).answered_at is None
    assert refusals("not_yours") == 3
    refused = AuditEvent.objects.filter(action="signin.review_refused").first()
    assert refused.actor == outsider


def test_a_forged_or_garbled_link_is_refused_and_recorded(evaluated, trader_signer):
    client = signed_in("trader.signer")
    review = review_of(trader_signer)
    forged = signing.dumps({"r": review.pk, "n": "0" * 32}, salt=REVIEW_SALT)
    wrong_key = signing.dumps({"r": review.pk, "n": review.nonce}, salt=REVIEW_SALT, key="not-the-server-key")
    for token in (forged, wrong_key, "garbage", signin_review_token(review)[:-3] + "abc"):
        response = client.post(reverse("signin_review", kwargs={"token": token}), {"answer": "me"})
        assert response.status_code == 400
    assert refusals("forged") == 4
    assert review_of(trader_signer).answered_at is None


def test_an_expired_link_is_refused(evaluated, trader_signer):
    SignInReview.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    client = signed_in("trader.signer")
    assert client.post(url(review_of(trader_signer)), {"answer": "me"}).status_code == 400
    assert refusals("expired") == 1


def test_this_was_me_needs_the_recipient_signed_in(evaluated, trader_signer):
    response = Client().post(url(review_of(trader_signer)), {"answer": "me"})
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    assert review_of(trader_signer).answered_at is None


def test_a_nonsense_answer_changes_nothing(evaluated, trader_signer):
    client = signed_in("trader.signer")
    assert client.post(url(review_of(trader_signer)), {"answer": "maybe"}).status_code == 400
    assert review_of(trader_signer).answered_at is None


def test_this_was_not_me_from_the_link_alone_reports_misuse(
    evaluated, trader, trader_signer, trader_owner, signer_certificate, officer
):
    victim_session = signed_in("trader.signer")
    response = Client().post(url(review_of(trader_owner)), {"answer": "not_me"})
    assert response.status_code == 200
    trader_signer.refresh_from_db()
    signer_certificate.refresh_from_db()
    assert trader_signer.must_change_password
    assert not UserSession.objects.filter(user=trader_signer).exists()
    assert victim_session.get("/accounts/me/").status_code == 302
    assert signer_certificate.status == "suspended"
    report_flag = Flag.objects.get(kind="abuse_report")
    assert (report_flag.severity, report_flag.user, report_flag.organization) == (
        "high",
        trader_signer,
        trader,
    )
    denied = Flag.objects.get(kind="new_device")
    assert (denied.status, denied.outcome, denied.severity) == ("answered", "denied_by_user", "high")
    assert Notification.objects.filter(user=officer, kind="abuse_reported").exists()
    # A case is open for officers with the report and the disowned sign-in's finding.
    (case,) = Case.objects.all()
    assert (case.status, case.organization, case.opened_by) == ("open", trader, None)
    assert {report_flag, denied} <= set(case.flags.all())
    assert {flag.pk for flag in case.flags.all()} - {report_flag.pk} == {
        reason["flag"] for reason in evaluated.risk_reasons if reason.get("flag")
    }
    audit = AuditEvent.objects.get(action="signin.reviewed")
    assert (audit.actor, audit.data["answer"], audit.data["recipient"]) == (
        None,
        "not_me",
        str(trader_owner.pk),
    )


def test_an_officers_disowned_sign_in_is_handled_by_accounts_itself(officer):
    record(officer, ago=datetime.timedelta(days=1))
    for _attempt in range(2):
        record(officer, outcome="failed", factor="second_factor", ago=datetime.timedelta(minutes=1))
    event = record(
        officer, evaluated=False, device_id=BROKER_DEVICE, outcome="failed", factor="second_factor"
    )
    signin_evaluate(event_id=event.pk)
    review = SignInReview.objects.get(recipient=officer)
    signin_review_answer(token=signin_review_token(review), answer="not_me", actor=None)
    officer.refresh_from_db()
    assert officer.must_change_password
    assert Flag.objects.get(kind="misuse_reported").severity == "high"


def test_repeated_attempts_count_on_the_open_flag_and_ask_once(settings, trader_signer, trader_owner):
    settings.RISK_BRUTE_FORCE_FAILURES = 3
    settings.RISK_RESPONSES = {"low": [], "medium": ["step_up"], "high": []}
    for _attempt in range(6):
        event = record(trader_signer, outcome="failed", evaluated=False)
        signin_evaluate(event_id=event.pk)
    flag = Flag.objects.get(kind="brute_force")
    assert (flag.count, flag.severity) == (4, "medium")
    assert SignInReview.objects.count() == 2  # the user and the owner, once
    # Told once, in one notice carrying the question and the protection taken.
    (notice,) = Notification.objects.filter(user=trader_signer, kind__in=["risk_response", "signin_review"])
    assert (notice.kind, notice.params["responses"]) == ("signin_review", ["step_up"])
    assert AuditEvent.objects.filter(action="risk.response").count() == 4  # but each time protected


def test_the_confirmation_page_tells_of_the_answer_given(evaluated, trader_signer, trader_owner):
    """Each answer's page says what that answer did: "this was me" never reads as a misuse report,
    and "this was not me" never as a confirmation."""
    mine = signed_in("trader.signer").post(
        url(review_of(trader_signer)), {"answer": "me"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert mine.status_code == 200
    assert b"this sign-in was yours" in mine.content
    assert b"We reported the misuse" not in mine.content


def test_the_confirmation_page_of_not_me_tells_of_the_report(evaluated, trader_signer, trader_owner):
    response = Client().post(url(review_of(trader_owner)), {"answer": "not_me"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert b"We reported the misuse" in response.content
    assert b"this sign-in was yours" not in response.content


def test_the_answer_returned_is_the_one_stored(evaluated, trader_signer):
    review = review_of(trader_signer)
    answered = signin_review_answer(token=signin_review_token(review), answer="me", actor=trader_signer)
    assert (answered.answer, answered.answered_by) == ("me", trader_signer)
    assert answered.answered_at is not None


def test_one_sign_in_is_one_notice_carrying_all_its_reasons(
    settings, risky_signin, trader_signer, trader_owner
):
    """The new-device notice written at sign-in, the protection taken and the question asked are
    one notice for the person, not three."""
    settings.RISK_RESPONSES = {"low": [], "medium": [], "high": ["step_up"]}
    # As signin_record tells of a new device, naming its sign-in.
    notification_send(
        user=trader_signer, kind="new_device", device="Firefox", network=risky_signin.network,
        signin=risky_signin.pk,
    )  # fmt: skip
    Notification.objects.filter(user=trader_signer).update(read_at=timezone.now())
    signin_evaluate(event_id=risky_signin.pk)
    (notice,) = Notification.objects.filter(user=trader_signer)
    assert notice.kind == "signin_review" and notice.read_at is None
    assert {"new_device", "foreign_party_device"} <= set(notice.params["reasons"])
    assert notice.params["responses"] == ["step_up"] and notice.params["device"] == "Firefox"
    with translation.override("en"):
        text = notification_text(notice)
    assert "a new device" in text and "another enterprise" in text and "confirm it is you" in text
    # The owner's question is its own notice, about the same sign-in.
    assert Notification.objects.get(user=trader_owner).params["signin"] == risky_signin.pk


def test_the_portal_shows_a_notices_link_as_words(evaluated, trader_signer):
    page = signed_in("trader.signer").get(reverse("notifications"), HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    notices = html.split('class="notifications"', 1)[1].split("</ul>", 1)[0]
    (token,) = re.findall(r'<a href="/accounts/sign-in-review/([^"/]+)/">Answer: was this you\?</a>', notices)
    assert signin_review_read(token)["r"] == review_of(trader_signer).pk
    assert "http://" not in notices and "https://" not in notices
