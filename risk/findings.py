"""The sign-in risk engine (DESIGN §9): pure detectors over one sign-in and its history.

A detector is a function ``detector(event, history) -> list[Finding]`` named in the setting
``RISK_DETECTORS`` (dotted paths, like Django's password validators). It reads nothing but its
two arguments and settings, so it is tested without a database; ``risk.selectors
.risk_histories_get`` loads the histories in one indexed query, and ``risk.services.evaluation``
turns findings into a score, flags, notifications and responses.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import override

from accounts.reasons import translated_params

SEVERITIES = ("low", "medium", "high")
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}


@dataclass(frozen=True)
class Finding:
    detector: str
    severity: str
    score: int  # 0-100: how strongly this finding alone suggests someone else signed in
    message: str  # lazily translated template, %-formatted with ``params``
    params: dict = field(default_factory=dict)
    evidence: dict = field(default_factory=dict)  # ids, networks, counts; never a secret
    # Findings of one group are signs of the same thing, read off the same facts (a new device
    # and a new network are both "an unfamiliar place"): they count once, the strongest, in the
    # combined score. Empty: the finding is a group of its own.
    group: str = ""

    def __post_init__(self):
        if self.severity not in SEVERITY_RANK:
            raise ValueError(f"unknown severity {self.severity!r}")
        if not 0 <= self.score <= 100:
            raise ValueError("a finding's score is 0-100")

    def sentence(self) -> str:
        """The sentence in the active language."""
        return str(self.message) % translated_params(self.params)

    def sentence_en(self) -> str:
        with override("en"):
            return self.sentence()

    def as_reason(self) -> dict:
        """What the sign-in keeps: the English sentence, and its template (the gettext msgid) with
        the parameters, so that each reader sees it in their own language."""
        with override("en"):
            template = str(self.message)
        return {
            "detector": self.detector,
            "severity": self.severity,
            "score": self.score,
            "message": template % self.params,
            "template": template,
            "params": self.params,
        }


def combined_score(findings: list[Finding]) -> int:
    """Independent pieces of evidence add up without passing 100: 1 - Π(1 - sᵢ/100), where each
    sᵢ is the strongest finding of a group (``Finding.group``). Findings of one group restate
    the same facts, so counting each of them would add the same evidence up twice."""
    strongest: dict[str, int] = {}
    for n, finding in enumerate(findings):
        key = finding.group or f"{finding.detector}#{n}"
        strongest[key] = max(strongest.get(key, 0), finding.score)
    remaining = 1.0
    for score in strongest.values():
        remaining *= 1 - score / 100
    return round(100 * (1 - remaining))


def highest_severity(findings: list[Finding]) -> str:
    return max((f.severity for f in findings), key=SEVERITY_RANK.__getitem__, default="")


def severity_at_least(severity: str, threshold: str) -> bool:
    return bool(severity) and SEVERITY_RANK[severity] >= SEVERITY_RANK[threshold]


@functools.cache
def _load(paths: tuple[str, ...]):
    return tuple(import_string(path) for path in paths)


def configured_detectors():
    return _load(tuple(settings.RISK_DETECTORS))


def evaluate(event, history) -> list[Finding]:
    findings: list[Finding] = []
    for detector in configured_detectors():
        findings.extend(detector(event, history))
    return findings
