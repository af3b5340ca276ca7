from __future__ import annotations

from risk.detectors import foreign_party_device
from tests.risk.helpers import OWN_TAX_CODE, event, history, other


def test_a_device_another_enterprise_used_is_high():
    [finding] = foreign_party_device(event(), history(others=(other(device=True, network=True),)))
    assert (finding.severity, finding.evidence["tax_codes"]) == ("high", ["0312345678"])
    assert "0312345678" in finding.sentence_en()


def test_only_the_network_shared_is_medium():
    [finding] = foreign_party_device(event(), history(others=(other(network=True),)))
    assert finding.severity == "medium"


def test_nobody_else_is_nothing():
    assert foreign_party_device(event(), history(others=())) == []


def test_a_branch_of_the_same_enterprise_is_not_another_party():
    branch = other(tax_code=f"{OWN_TAX_CODE}-001", device=True)
    assert foreign_party_device(event(), history(others=(branch,))) == []


def test_failed_attempts_and_officers_are_not_judged_here():
    shared = history(others=(other(device=True),))
    assert foreign_party_device(event(outcome="failed"), shared) == []
    assert foreign_party_device(event(organization=None), shared) == []


def test_it_lists_a_few_tax_codes_but_keeps_the_evidence():
    many = tuple(other(pk=10 + i, tax_code=f"03{i:08d}", device=True) for i in range(25))
    [finding] = foreign_party_device(event(), history(others=many))
    assert len(finding.params["tax_codes"].split(", ")) == 5 and len(finding.evidence["tax_codes"]) == 20
