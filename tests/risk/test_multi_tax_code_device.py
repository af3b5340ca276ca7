from __future__ import annotations

from risk.detectors import multi_tax_code_device
from tests.risk.helpers import OWN_TAX_CODE, event, history, other

SHARED = "device-shared"  # not the history's own "device-home"


def test_three_enterprises_on_one_device_is_high(settings):
    settings.RISK_MULTI_TAX_CODES = 3
    shared = history(
        others=(
            other(pk=2, tax_code="0311111111", device=True),
            other(pk=3, tax_code="0322222222", device=True),
        )
    )
    [finding] = multi_tax_code_device(event(device_id=SHARED), shared)
    assert (finding.severity, finding.params["count"]) == ("high", 3)
    assert finding.evidence["tax_codes"] == sorted([OWN_TAX_CODE, "0311111111", "0322222222"])


def test_two_are_below_the_threshold(settings):
    settings.RISK_MULTI_TAX_CODES = 3
    assert multi_tax_code_device(event(), history(others=(other(device=True),))) == []


def test_branches_count_once_and_networks_do_not_count(settings):
    settings.RISK_MULTI_TAX_CODES = 3
    branches = (
        other(pk=2, tax_code=f"{OWN_TAX_CODE}-001", device=True),
        other(pk=3, tax_code=f"{OWN_TAX_CODE}-002", device=True),
        other(pk=4, tax_code="0322222222", network=True),
    )
    assert multi_tax_code_device(event(), history(others=branches)) == []


def test_the_threshold_is_a_setting(settings):
    settings.RISK_MULTI_TAX_CODES = 2
    assert len(multi_tax_code_device(event(device_id=SHARED), history(others=(other(device=True),)))) == 1


def test_the_accounts_own_device_does_not_count_other_clients_but_counts_brokers(settings):
    """An accountant's laptop, used three times by this account, serves other traders too."""
    settings.RISK_MULTI_TAX_CODES = 2
    settings.RISK_ESTABLISHED_SIGNINS = 3
    assert multi_tax_code_device(event(), history(others=(other(device=True),))) == []
    broker = other(kind="broker", tax_code="0300000001", device=True)
    assert len(multi_tax_code_device(event(), history(others=(broker,)))) == 1


def test_no_device_is_nothing(settings):
    settings.RISK_MULTI_TAX_CODES = 2
    assert multi_tax_code_device(event(device_id=""), history(others=(other(device=True),))) == []
