"""The forms' pattern in a real browser: a sign-in sent empty opens with its error summary and
"Lỗi: " in the title, the summary leads to the fields, and a focused field shows a thick outline."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_empty_sign_in_says_what_is_missing_and_focus_is_seen(journey):
    visitor = journey("visitor")
    page = visitor.go("/accounts/login/")
    page.click("form:has([name=username]) [type=submit]")
    page.wait_for_load_state()
    assert page.title().startswith("Lỗi: ")
    summary = page.locator(".error-summary")
    assert summary.is_visible()
    assert summary.locator("a").all_inner_texts() == ["Hãy nhập tên đăng nhập.", "Hãy nhập mật khẩu."]
    visitor.shot("empty sign-in")
    page.click('.error-summary a[href="#id_username"]')
    assert page.evaluate("location.hash") == "#id_username"
    page.focus("#id_username")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineWidth")
    assert float(outline.removesuffix("px")) >= 2
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    visitor.shot("empty sign-in on a phone")
