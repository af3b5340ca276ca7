from __future__ import annotations

from risk.findings import Finding, combined_score


def finding(detector: str, score: int, group: str = "") -> Finding:
    return Finding(detector=detector, severity="low", score=score, message="m", group=group)


def test_independent_findings_combine_without_passing_100():
    assert combined_score([finding("off_hours", 10), finding("dormant_account", 30)]) == 37
    assert combined_score([finding("a", 90), finding("b", 90), finding("c", 90)]) == 100


def test_findings_of_one_group_restate_the_same_facts_and_count_once():
    """A new device and a new network at once are one unfamiliar place, not two pieces of evidence."""
    place = [finding("new_device", 45, "unfamiliar_place"), finding("new_network", 10, "unfamiliar_place")]
    assert combined_score(place) == 45
    assert combined_score([*place, finding("off_hours", 10)]) == round(100 * (1 - 0.55 * 0.9))


def test_nothing_found_is_zero():
    assert combined_score([]) == 0
