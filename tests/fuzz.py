"""How hard the property tests look. ``make test`` runs each with its own example count, so a
run is quick and, for the API fuzz, repeatable. CI's fuzz pass (``HYPOTHESIS_PROFILE=ci-fuzz``,
in .ci/run) runs them again from a random seed with ``FACTOR`` times as many examples, so that
over many runs they look much further than any single run could afford."""

from __future__ import annotations

import os

FUZZ_PASS = os.environ.get("HYPOTHESIS_PROFILE") == "ci-fuzz"

# Chosen so the fuzz pass stays well under its five-minute bound (see .ci/run).
FACTOR = 4 if FUZZ_PASS else 1


def examples(count: int) -> int:
    """A property test's example count: ``count`` in the ordinary run, more in the fuzz pass."""
    return count * FACTOR
