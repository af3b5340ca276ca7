"""A small, fixed-seed run of the risk-quality simulation (``bench/risk_quality.py``) through the
production evaluation path: every labelled bad sign-in is flagged, and the named legitimate
scenarios are not taken for another party. The month's figures are the benchmark's, not asserted
here (docs/risk-engine.md)."""

from __future__ import annotations

import pytest
from django.db import transaction

from bench.risk_population import (
    BAD_KINDS,
    BROKER_OWN_STAFF,
    CAMPAIGN_KINDS,
    CARRIER_NAT_NEIGHBOUR,
    UPGRADED_BROWSER,
    Parameters,
)
from bench.risk_quality import medium_or_high, simulate

# The marker asks pytest-django for the test database; the module's one run sits in the fixture.
pytestmark = pytest.mark.django_db

ANOTHER_PARTY = {"foreign_party_device", "broker_network", "multi_tax_code_device"}
SMALL = Parameters(
    traders=10,
    brokers=2,
    users=40,
    days=5,
    warmup_days=10,
    seed=2024,
    # Small carrier pools, so that neighbours from other enterprises share the phones' addresses.
    carrier_pool=2,
    cgnat_pool=4,
    phone_share=0.4,
    **{kind: 3 for kind in BAD_KINDS if kind not in CAMPAIGN_KINDS},
    brute_force=1,
    spray=1,
)


@pytest.fixture(scope="module")
def report(django_db_setup, django_db_blocker):
    """One run for the module's tests, which read only its results; rolled back afterwards."""
    with django_db_blocker.unblock(), transaction.atomic():
        result = simulate(SMALL, batch=25)
        transaction.set_rollback(True)
    return result


def _legitimate(report, scenario: str) -> list:
    outcomes = [o for o in report.outcomes if o.label == "legitimate" and o.scenario == scenario]
    assert outcomes, f"the simulation has no {scenario} sign-in"
    return outcomes


def test_it_runs_a_few_hundred_labelled_sign_ins(report):
    assert 200 <= len(report.outcomes) <= 1000
    assert {o.label for o in report.outcomes} == {"legitimate", *BAD_KINDS}


@pytest.mark.parametrize("kind", BAD_KINDS)
def test_every_labelled_bad_sign_in_is_flaggedmedium_or_high(report, kind):
    campaigns = {o.campaign for o in report.outcomes if o.label == kind}
    assert campaigns
    assert report.caught(kind, medium_or_high) == 100.0


@pytest.mark.parametrize("kind", [kind for kind in BAD_KINDS if kind not in CAMPAIGN_KINDS])
def test_each_bad_sign_in_with_a_stolen_or_lent_password_is_asked_to_step_up(report, kind):
    """Every one of them, not only one per campaign: the default responses step up from medium."""
    assert all(medium_or_high(o) for o in report.outcomes if o.label == kind)


def test_the_carrier_nat_neighbour_is_not_taken_for_another_party(report):
    """A phone on a carrier address that other enterprises' people use too."""
    for outcome in _legitimate(report, CARRIER_NAT_NEIGHBOUR):
        assert not {d for d, _s, _f in outcome.findings} & ANOTHER_PARTY
        assert not medium_or_high(outcome)


def test_the_brokers_own_staff_at_the_brokers_office_are_not_flagged(report):
    """The broker's office also sees the traders' accounts the broker holds (the lending)."""
    for outcome in _legitimate(report, BROKER_OWN_STAFF):
        assert outcome.findings == []


def test_an_upgraded_browser_on_a_known_device_is_not_a_new_device(report):
    """At a shared home address it may be a new network (low), never a new device nor more."""
    for outcome in _legitimate(report, UPGRADED_BROWSER):
        assert "new_device" not in {d for d, _s, _f in outcome.findings}
        assert not medium_or_high(outcome)
