"""DESIGN §5 rule 4: what a password may not be."""

from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from accounts.models import Organization, User
from accounts.password_validation import fold, name_variants, phone_variants
from accounts.services.passwords import password_set
from accounts.services.users import user_create
from audit.models import AuditEvent
from config.management.commands.seed_demo import PEOPLE


@pytest.fixture
def person(db):
    organization = Organization(
        kind="trader",
        tax_code="0100686209-199",
        name="Công ty TNHH Hòa Bình",
        phone="024 3825 1234",
        email="lienhe@hoabinh.example",
    )
    return User(
        username="lan.nguyen",
        first_name="Lan",
        last_name="Nguyễn Thị",
        email="thanhlan@hoabinh.example",
        phone="0912345678",
        national_id_number="001203004567",
        organization=organization,
        role="owner",
    )


def codes(password: str, user) -> set[str]:
    try:
        validate_password(password, user)
    except ValidationError as error:
        return {item.code for item in error.error_list}
    return set()


@pytest.mark.parametrize(
    "password",
    [
        "lan.nguyen-likes-green-tea",  # username
        "neyugn.nal-likes-green-tea",  # username reversed
        "winter 0100686209 harbour gate",  # tax code
        "winter 9026860010 harbour gate",  # tax code reversed
        "winter 0100686209199 harbour",  # tax code with branch, no hyphen
        "call +84 912 345 678 ocean kite",  # phone, international and spaced
        "call 84912345678 ocean kite map",
        "thanhlan-orchid-river-2049",  # email name
        "cccd 001203004567 violet kite",  # ID number
        "CongTyHoaBinh-secure-lantern!",  # organisation name, accents and case ignored
        "congty hòa bình violet lantern",
        "hnibaoh ytgnoc violet lantern",  # organisation name reversed
        "violet-NGUYEN THI-lantern-kite",  # family name with accents
        "lienhe mountain river lantern",  # organisation's email name
    ],
)
def test_a_password_with_the_users_own_data_is_refused(person, password):
    assert "password_contains_personal_data" in codes(password, person)


def test_short_context_values_do_not_forbid_ordinary_words(person):
    person.first_name = "An"
    assert codes("an amber lantern by the river", person) == set()


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("short-pass", {"password_too_short", "password_too_weak"}),
        ("qazwsxedcrfvtgb", {"password_too_common", "password_too_weak"}),
        ("x" * 129, {"password_too_long", "password_too_weak"}),
        ("aaaaaaaaaaaaaaaaaaaa", {"password_too_weak"}),
        ("lan.nguyen", {"password_too_short", "password_contains_personal_data", "password_too_weak"}),
    ],
)
def test_every_reason_is_given_at_once_with_its_code(person, password, expected):
    assert codes(password, person) == expected


@pytest.mark.parametrize(
    "password",
    [
        "amber lantern river 1975 harbour",
        "correct horse battery staple",
        "x" * 20 + " zebra quokka 42",
        "the quiet harbour lantern glows above seventeen copper herons at dusk",
    ],
)
def test_good_passphrases_are_accepted(person, password):
    assert codes(password, person) == set()


def test_sixty_four_characters_are_always_allowed(settings):
    from accounts.password_validation import MaximumLengthValidator

    with pytest.raises(ValueError, match="at least 64"):
        MaximumLengthValidator(max_length=63)
    MaximumLengthValidator(max_length=64).validate("a" * 64)


def test_the_demo_passwords_meet_the_policy(db):
    for username, role, _org, first, last, password, _agent in PEOPLE:
        user = User(
            username=username, first_name=first, last_name=last, email=f"{username}@demo.example", role=role
        )
        assert codes(password, user) == set(), username


def test_folding_and_phone_variants():
    assert fold("Công ty TNHH Đại Lộc — Hòa Bình!") == "congtytnhhdailochoabinh"
    assert phone_variants("+84 91-234-5678") == {"84912345678", "912345678", "0912345678"}
    assert phone_variants("") == set()
    assert fold("Hòa Bình") in {fold(v) for v in name_variants("Công ty TNHH Hòa Bình")}
    assert fold("Sao Mai") in {fold(v) for v in name_variants("Công ty CP Đại lý Hải quan Sao Mai")}


def test_creating_an_account_with_a_refused_password_creates_nothing(trader, officer):
    with pytest.raises(ValidationError) as refused:
        user_create(
            username="minh.tran",
            email="minh@example.test",
            role="signer",
            organization=trader,
            actor=officer,
            password="minh.tran2024",
        )
    assert {"password_too_short", "password_contains_personal_data"} <= {
        e.code for e in refused.value.error_list
    }
    assert not User.objects.filter(username="minh.tran").exists()
    assert not AuditEvent.objects.filter(action="user.created").exists()


PASSPHRASES = [
    "amber lantern river 1975 harbour",
    "copper heron meadow 2048 quiet",
    "violet harbour kettle 3310 north",
    "granite orchid ferry 5821 south",
    "silver monsoon ledger 7734 east",
    "marble comet orchard 6102 west",
]


@pytest.fixture
def member(trader_owner):
    return trader_owner


def test_the_current_and_last_passwords_cannot_be_reused_or_reversed(member):
    password_set(user=member, password=PASSPHRASES[0], actor=member)
    password_set(user=member, password=PASSPHRASES[1], actor=member)
    for reused in (PASSPHRASES[0], PASSPHRASES[1], PASSPHRASES[0][::-1]):
        with pytest.raises(ValidationError) as refused:
            password_set(user=member, password=reused, actor=member)
        assert [e.code for e in refused.value.error_list] == ["password_reused"]
    member.refresh_from_db()
    assert member.check_password(PASSPHRASES[1])


def test_a_password_older_than_the_last_five_may_return(member, settings):
    for passphrase in PASSPHRASES[:6]:
        password_set(user=member, password=passphrase, actor=member)
    assert member.password_history.count() == settings.PASSWORD_HISTORY - 1
    password_set(user=member, password=PASSPHRASES[0], actor=member)  # six changes ago
    with pytest.raises(ValidationError):
        password_set(user=member, password=PASSPHRASES[2], actor=member)


def test_a_password_change_is_audited_without_the_password(member):
    password_set(user=member, password=PASSPHRASES[3], actor=member)
    event = AuditEvent.objects.get(action="password.changed")
    assert (event.actor, event.target_id, event.data) == (member, str(member.pk), {"by_self": True})
    member.refresh_from_db()
    assert member.password_changed_at is not None and member.must_change_password is False
    assert PASSPHRASES[3] not in str(list(AuditEvent.objects.values_list("data", flat=True)))
    assert PASSPHRASES[3] not in member.password


def test_every_rule_speaks_vietnamese_including_djangos_length_rule(person):
    from django.contrib.auth.password_validation import password_validators_help_texts
    from django.utils import translation

    with translation.override("vi"), pytest.raises(ValidationError) as refused:
        validate_password("ngan", person)
    assert "password_too_short" in [error.code for error in refused.value.error_list]
    with translation.override("vi"):
        messages = refused.value.messages
        help_texts = password_validators_help_texts()
    assert "Mật khẩu này quá ngắn. Mật khẩu phải có ít nhất 15 ký tự." in messages
    assert "Mật khẩu của bạn phải có ít nhất 15 ký tự." in help_texts
    assert not [text for text in messages + help_texts if "password" in text.lower()]
