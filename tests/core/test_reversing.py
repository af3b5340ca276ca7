"""core.reversing.reverse_each gives what reverse gives, for every value, or refuses."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from core.reversing import reverse_each


def test_equals_reverse_for_each_value():
    receipt = reverse_each("officers:receipt", sample=uuid.UUID(int=0))
    record = reverse_each("officers:signatures_signaturerecord_change", sample=1)
    for value in (uuid.uuid4(), uuid.UUID(int=1), uuid.UUID("FFFFFFFF-0000-4000-8000-000000000001")):
        assert receipt(value) == receipt(str(value)) == reverse("officers:receipt", args=[value])
    for pk in (1, 7, 10**12):
        assert record(pk) == reverse("officers:signatures_signaturerecord_change", args=[pk])


@pytest.mark.parametrize("value", ["1/../2", "a b", "", "ệ", "1?x=2", "%2F"])
def test_refuses_a_value_that_would_need_escaping(value):
    record = reverse_each("officers:signatures_signaturerecord_change", sample=1)
    with pytest.raises(ValueError):
        record(value)


def test_refuses_a_sample_the_url_does_not_show_once_as_printed():
    # "officers" is in the prefix too, so it cannot mark where the argument goes.
    with pytest.raises(ValueError):
        reverse_each("officers:signatures_signaturerecord_change", sample="officers")
    with pytest.raises(ValueError):
        reverse_each("officers:signatures_signaturerecord_change", sample="a b")
