from __future__ import annotations

from risk.detectors import foreign_party_device
from tests.risk.helpers import ELSEWHERE, OWN_TAX_CODE, event, history, organization, other, place

# The history's default place is the account's own: "device-home" on HOME, three sign-ins.
BORROWED = "device-borrowed"


def test_a_device_another_enterprise_used_is_high():
    shared = history(others=(other(device=True, network=True),))
    [finding] = foreign_party_device(event(device_id=BORROWED), shared)
    assert (finding.severity, finding.evidence["tax_codes"]) == ("high", ["0312345678"])
    assert "0312345678" in finding.sentence_en()


def test_another_enterprises_office_network_is_medium():
    office = other(network=True, signins=40)
    [finding] = foreign_party_device(event(device_id=BORROWED, network=ELSEWHERE), history(others=(office,)))
    assert (finding.severity, finding.evidence["tax_codes"]) == ("medium", ["0312345678"])
    assert ELSEWHERE in finding.sentence_en()


def test_a_carrier_address_shared_by_many_enterprises_is_no_evidence(settings):
    settings.RISK_NETWORK_HOLDER_SHARE = 50
    neighbours = tuple(other(pk=10 + i, tax_code=f"03{i:08d}", network=True, signins=6) for i in range(8))
    elsewhere = event(device_id=BORROWED, network=ELSEWHERE)
    assert foreign_party_device(elsewhere, history(others=neighbours)) == []


def test_a_neighbour_seen_a_few_times_on_the_network_is_no_evidence(settings):
    settings.RISK_NETWORK_HOLDER_SIGNINS = 5
    neighbour = other(network=True, signins=4)
    elsewhere = event(device_id=BORROWED, network=ELSEWHERE)
    assert foreign_party_device(elsewhere, history(others=(neighbour,))) == []


def test_the_accounts_own_device_shared_with_other_clients_is_not_a_finding(settings):
    """An accountant's laptop also signs in for the other enterprises the accountant serves."""
    settings.RISK_ESTABLISHED_SIGNINS = 3
    clients = (other(device=True, network=True, signins=30),)
    assert foreign_party_device(event(), history(others=clients)) == []


def test_a_device_used_by_the_account_fewer_times_than_established_still_counts(settings):
    settings.RISK_ESTABLISHED_SIGNINS = 4
    assert len(foreign_party_device(event(), history(others=(other(device=True),)))) == 1


def test_a_brokers_device_counts_even_once_the_trader_account_uses_it_often():
    broker = other(kind="broker", tax_code="0300000001", device=True)
    [finding] = foreign_party_device(event(), history(others=(broker,)))
    assert finding.severity == "high"


def test_a_brokers_own_staff_are_not_told_about_the_trader_accounts_on_their_devices():
    staff = event(device_id=BORROWED, organization=organization(kind="broker", tax_code="0300000001"))
    traders = (other(device=True, network=True, signins=3), other(pk=3, tax_code="0322222222", device=True))
    assert foreign_party_device(staff, history(others=traders)) == []
    another_broker = other(pk=4, kind="broker", tax_code="0300000002", device=True)
    assert foreign_party_device(staff, history(others=(another_broker,)))[0].severity == "high"


def test_nobody_else_is_nothing():
    assert foreign_party_device(event(), history(others=())) == []


def test_a_branch_of_the_same_enterprise_is_not_another_party():
    branch = other(tax_code=f"{OWN_TAX_CODE}-001", device=True)
    assert foreign_party_device(event(device_id=BORROWED), history(others=(branch,))) == []


def test_failed_attempts_and_officers_are_not_judged_here():
    shared = history(others=(other(device=True),))
    assert foreign_party_device(event(outcome="failed", device_id=BORROWED), shared) == []
    assert foreign_party_device(event(organization=None, device_id=BORROWED), shared) == []


def test_it_lists_a_few_tax_codes_but_keeps_the_evidence():
    many = tuple(other(pk=10 + i, tax_code=f"03{i:08d}", device=True) for i in range(25))
    [finding] = foreign_party_device(event(device_id=BORROWED), history(others=many))
    assert len(finding.params["tax_codes"].split(", ")) == 5 and len(finding.evidence["tax_codes"]) == 20


def test_the_accounts_own_device_on_another_enterprises_network_is_a_visit_not_another_party():
    """Also the phone on a carrier's address that another enterprise's people use a lot."""
    office = other(network=True, signins=40)
    assert foreign_party_device(event(network=ELSEWHERE), history(others=(office,))) == []


def test_a_brokers_office_network_counts_on_a_device_the_account_used_once_there():
    """A computer set aside at the broker's office for the trader's account: its second use."""
    office = other(kind="broker", tax_code="0300000001", network=True, signins=40)
    set_aside = history(
        places=(place(), place(device="set-aside", network=ELSEWHERE, count=1)), others=(office,)
    )
    [finding] = foreign_party_device(event(device_id="set-aside", network=ELSEWHERE), set_aside)
    assert finding.severity == "medium"
