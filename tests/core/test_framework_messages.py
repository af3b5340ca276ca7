"""An API caller who asks for Vietnamese gets Vietnamese from the framework too (issue 22): every
message Django REST framework can answer with (its exceptions' details and its fields' errors) is
translated, through our catalogue where the framework ships no Vietnamese (core/framework_messages)."""

from __future__ import annotations

import inspect

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from rest_framework import exceptions, fields, relations, serializers

from brokers.services.api_keys import api_key_create
from core.errors import api_exception_handler

# The framework formats these before translating them (no catalogue can): core.errors answers a
# throttled request with its own sentence, checked below.
PLURALS = {"Expected available in {wait} second.", "Expected available in {wait} seconds."}


def framework_messages() -> set[str]:
    def source(text) -> str:
        with translation.override(None):
            return str(text)

    found = set()
    for name in dir(exceptions):
        kind = getattr(exceptions, name)
        if inspect.isclass(kind) and issubclass(kind, exceptions.APIException):
            found.add(source(kind.default_detail))
            for extra in ("extra_detail_singular", "extra_detail_plural"):
                if hasattr(kind, extra):
                    found.add(source(getattr(kind, extra)))
    for module in (fields, serializers, relations):
        for name in dir(module):
            kind = getattr(module, name)
            if inspect.isclass(kind):
                found |= {source(message) for message in getattr(kind, "default_error_messages", {}).values()}
    return found - PLURALS


def test_every_framework_message_has_a_vietnamese_translation():
    messages = framework_messages()
    assert len(messages) > 50
    with translation.override("vi"):
        untranslated = sorted(message for message in messages if translation.gettext(message) == message)
    assert untranslated == []


def test_a_throttled_answer_says_when_to_come_back_in_the_callers_language():
    with translation.override("vi"):
        vietnamese = api_exception_handler(exceptions.Throttled(wait=6.2), {}).data
    with translation.override("en"):
        english = api_exception_handler(exceptions.Throttled(wait=1), {}).data
    assert vietnamese == {
        "code": "throttled",
        "detail": "Yêu cầu đã bị giới hạn tần suất. Có thể thử lại sau 7 giây.",
        "fields": {},
    }
    assert english["detail"] == "Request was throttled. Expected available in 1 second."


@pytest.mark.django_db
def test_an_api_caller_asking_for_vietnamese_gets_no_english(world):
    _key, secret = api_key_create(
        actor=world.broker_owner, holder=world.broker_agent, name="ecus", scopes=["read", "declare"]
    )
    caller = Client(HTTP_AUTHORIZATION=f"Api-Key {secret}", HTTP_ACCEPT_LANGUAGE="vi")
    bad = {"number": "1", "kind": "bogus", "trader_tax_code": world.trader.tax_code, "document": "!!"}
    answer = caller.post(reverse("api_declarations"), bad, content_type="application/json").json()
    assert answer["detail"] == "Yêu cầu không hợp lệ."
    assert answer["fields"]["kind"] == ['"bogus" không phải là lựa chọn hợp lệ.']
    assert answer["fields"]["document"] == ["Đây không phải là base64 hợp lệ."]
    assert answer["fields"]["signature"] == ["Trường này là bắt buộc."]
    anonymous = Client(HTTP_ACCEPT_LANGUAGE="vi").get(reverse("api_declarations")).json()
    assert anonymous == {
        "code": "not_authenticated",
        "detail": "Chưa cung cấp thông tin xác thực.",
        "fields": {},
    }
    assert (
        Client(HTTP_ACCEPT_LANGUAGE="vi").get("/api/v1/no-such-thing/").json()["detail"]
        == "Không có tài nguyên này."
    )
