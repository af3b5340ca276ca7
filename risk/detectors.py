"""The sign-in detectors of DESIGN §9. Each is pure: ``(event, history) -> list[Finding]``.

``event`` is a ``SignInEvent`` (its ``organization`` loaded); ``history`` a
``risk.history.History``. Thresholds and windows are settings (docs/risk-engine.md).
"""

from __future__ import annotations

import datetime
import zoneinfo

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import override

from accounts.devices import describe_user_agent
from risk.findings import Finding
from risk.history import History

SUCCEEDED = "succeeded"
FAILED = "failed"


def _root(tax_code: str) -> str:
    """A branch (``0100686209-001``) belongs to the enterprise of its 10-digit root."""
    return (tax_code or "").split("-")[0]


def _other_enterprises(event, history: History):
    """Other enterprises, not counting branches of the account's own."""
    own = _root(event.organization.tax_code) if event.organization_id else None
    return [use for use in history.others if _root(use.tax_code) != own]


def _describe(user_agent: str) -> str:
    with override("en"):
        return str(describe_user_agent(user_agent or ""))


# Groups of findings that restate the same facts (``Finding.group``): counted once in the score.
UNFAMILIAR_PLACE = "unfamiliar_place"
ANOTHER_PARTY = "another_party"
GUESSING = "guessing"


def _established(uses: int) -> bool:
    """A device or network the account signed in from ``RISK_ESTABLISHED_SIGNINS`` times is its own."""
    return uses >= settings.RISK_ESTABLISHED_SIGNINS


def _network_new(event, history: History) -> bool:
    since = event.occurred_at - datetime.timedelta(days=settings.RISK_LOOKBACK_DAYS)
    return bool(event.network) and event.network not in history.networks_since(since)


def new_device(event, history: History) -> list[Finding]:
    """A device never seen for this account: low on a network the account uses (a new laptop at
    the office, a reinstalled browser), medium on a network it has not used either, which is what
    a stolen password tried from the thief's own computer looks like. The first sign-in ever has
    nothing to compare with and is not a finding (otherwise every new account, and a whole
    migration, is an alarm)."""
    if event.outcome != SUCCEEDED or not event.device_id or event.user_id is None:
        return []
    if not history.has_prior_success or event.device_id in history.devices():
        return []
    if _network_new(event, history):
        return [
            Finding(
                detector="new_device",
                severity="medium",
                score=45,
                message=_(
                    "Signed in from a device (%(device)s) and a network (%(network)s) this account has "
                    "not used before."
                ),
                params={"device": _describe(event.user_agent), "network": event.network},
                evidence={"device": event.device_id, "network": event.network},
                group=UNFAMILIAR_PLACE,
            )
        ]
    return [
        Finding(
            detector="new_device",
            severity="low",
            score=15,
            message=_("Signed in from a device not seen before for this account (%(device)s)."),
            params={"device": _describe(event.user_agent)},
            evidence={"device": event.device_id},
            group=UNFAMILIAR_PLACE,
        )
    ]


def new_network(event, history: History) -> list[Finding]:
    """A network (/24, /48) this account has not used within ``RISK_LOOKBACK_DAYS``."""
    if event.outcome != SUCCEEDED or not event.network or event.user_id is None:
        return []
    if not history.has_prior_success or not _network_new(event, history):
        return []
    return [
        Finding(
            detector="new_network",
            severity="low",
            score=10,
            message=_(
                "Signed in from a network not used by this account in the last %(days)d days (%(network)s)."
            ),
            params={"days": settings.RISK_LOOKBACK_DAYS, "network": event.network},
            evidence={"network": event.network},
            group=UNFAMILIAR_PLACE,
        )
    ]


def _parties(event, history: History) -> tuple[list, bool, bool, bool]:
    """The other enterprises whose use of the event's device or network may count against this
    account, and whether the device is the account's own, known to it, and whether the network
    is its own.

    - A broker's staff share their office and devices with the traders' accounts the broker
      holds; that is evidence against the traders' accounts (flagged on their sign-ins), not
      against the broker's own people, so for a broker's account only other brokers count.
    - A device or network the account has signed in from ``RISK_ESTABLISHED_SIGNINS`` times is
      its own: an accountant's laptop that also signs in for the other enterprises the
      accountant serves is that, not a stranger's; a home address shared with a neighbour who
      works for a broker is that too. A broker's device is never the trader's own.
    - On a device the account has used before, another trader's network is its person visiting,
      or a carrier's address shared with strangers: not another party at the keyboard."""
    others = _other_enterprises(event, history)
    if event.organization.kind == "broker":
        others = [use for use in others if use.kind == "broker"]
    return (
        others,
        _established(history.device_uses(event.device_id)),
        bool(event.device_id) and event.device_id in history.devices(),
        _established(history.network_uses(event.network)),
    )


def _network_holders(others) -> list:
    """The enterprises a network belongs to: each signed in from it ``RISK_NETWORK_HOLDER_SIGNINS``
    times in the window and made ``RISK_NETWORK_HOLDER_SHARE`` per cent of other enterprises'
    sign-ins there. A carrier's shared addresses (carrier-grade NAT), a hotel's or a café's, are
    used by many enterprises a few times each and belong to none, so they are no evidence."""
    on_network = [use for use in others if use.by_network]
    total = sum(use.network_signins for use in on_network)
    return [
        use
        for use in on_network
        if use.network_signins >= settings.RISK_NETWORK_HOLDER_SIGNINS
        and 100 * use.network_signins >= settings.RISK_NETWORK_HOLDER_SHARE * total
    ]


def _device_counts(use, device_own: bool) -> bool:
    return use.kind == "broker" or not device_own


def _network_counts(use, device_known: bool, network_own: bool) -> bool:
    return not network_own and (use.kind == "broker" or not device_known)


def foreign_party_device(event, history: History) -> list[Finding]:
    """The device, or the network of another enterprise (``_network_holders``), was used
    recently by that enterprise's people: the account is probably shared with, or held by,
    someone outside it. Neither counts where it is the account's own (``_parties``)."""
    if event.outcome != SUCCEEDED or event.organization_id is None or not history.others:
        return []
    others, device_own, device_known, network_own = _parties(event, history)
    by_device = sorted({use.tax_code for use in others if use.by_device and _device_counts(use, device_own)})
    by_network = sorted(
        {
            use.tax_code
            for use in _network_holders(others)
            if not use.by_device and _network_counts(use, device_known, network_own)
        }
    )
    if by_device:
        return [
            Finding(
                detector="foreign_party_device",
                severity="high",
                score=70,
                message=_(
                    "This device was used in the last %(days)d days by people of another enterprise "
                    "(%(tax_codes)s): the account may be shared or held by someone outside it."
                ),
                params={"days": settings.RISK_LOOKBACK_DAYS, "tax_codes": ", ".join(by_device[:5])},
                evidence={"device": event.device_id, "tax_codes": by_device[:20]},
                group=ANOTHER_PARTY,
            )
        ]
    if by_network:
        return [
            Finding(
                detector="foreign_party_device",
                severity="medium",
                score=40,
                message=_(
                    "This network (%(network)s) is used regularly by people of another enterprise "
                    "(%(tax_codes)s): the account may be used from that enterprise's office."
                ),
                params={"network": event.network, "tax_codes": ", ".join(by_network[:5])},
                evidence={"network": event.network, "tax_codes": by_network[:20]},
                group=ANOTHER_PARTY,
            )
        ]
    return []


def broker_network(event, history: History) -> list[Finding]:
    """A trader's account signs in from a network that belongs to a customs broker
    (``_network_holders``: its staff sign in there regularly, and mostly they do): the broker may
    be signing in as the trader instead of under its own mandate. A broker's staff member's phone
    on a carrier's shared address makes no network a broker's, and the account's own network
    (``RISK_ESTABLISHED_SIGNINS``, a home shared with a neighbour who works for a broker) is
    not one."""
    if event.outcome != SUCCEEDED or event.organization_id is None or not event.network:
        return []
    if event.organization.kind != "trader":
        return []
    if _established(history.network_uses(event.network)):
        return []
    holders = _network_holders(_other_enterprises(event, history))
    brokers = sorted({use.tax_code for use in holders if use.kind == "broker"})
    if not brokers:
        return []
    return [
        Finding(
            detector="broker_network",
            severity="medium",
            score=40,
            message=_(
                "This trader account signed in from a network (%(network)s) used by the staff of "
                "customs broker %(tax_codes)s."
            ),
            params={"network": event.network, "tax_codes": ", ".join(brokers[:5])},
            evidence={"network": event.network, "broker_tax_codes": brokers[:20]},
            group=ANOTHER_PARTY,
        )
    ]


def multi_tax_code_device(event, history: History) -> list[Finding]:
    """One device carries sessions for ``RISK_MULTI_TAX_CODES`` or more enterprises (branches of
    one enterprise count once). The same exceptions as ``foreign_party_device``: a broker's own
    staff, and an account on its own device, are not told about the traders' accounts on it."""
    if event.outcome != SUCCEEDED or not event.device_id or event.organization_id is None:
        return []
    if not any(use.by_device for use in history.others):
        return []
    others, device_own, _device_known, _network_own = _parties(event, history)
    roots = {_root(use.tax_code) for use in others if use.by_device and _device_counts(use, device_own)}
    if not roots:
        return []
    roots.add(_root(event.organization.tax_code))
    if len(roots) < settings.RISK_MULTI_TAX_CODES:
        return []
    return [
        Finding(
            detector="multi_tax_code_device",
            severity="high",
            score=60,
            message=_("This device signed in for %(count)d different enterprises in the last %(days)d days."),
            params={"count": len(roots), "days": settings.RISK_LOOKBACK_DAYS},
            evidence={"device": event.device_id, "tax_codes": sorted(roots)[:20]},
            group=ANOTHER_PARTY,
        )
    ]


def concurrent_networks(event, history: History) -> list[Finding]:
    """The account signed in from another network within ``RISK_CONCURRENT_MINUTES``. On a device
    the account has used before that is a person with a computer and a phone, and only low; on a
    device it has never used it is medium: two people at once.
    An earlier-recorded sign-in stamped up to ``RISK_CLOCK_SKEW_SECONDS`` later (servers' clocks
    differ) still counts as concurrent."""
    if event.outcome != SUCCEEDED or not event.network or event.user_id is None:
        return []
    earliest = event.occurred_at - datetime.timedelta(minutes=settings.RISK_CONCURRENT_MINUTES)
    latest = event.occurred_at + datetime.timedelta(seconds=settings.RISK_CLOCK_SKEW_SECONDS)
    networks = sorted(
        {
            place.network
            for place in history.places
            if place.network and place.network != event.network and earliest <= place.last_seen <= latest
        }
    )
    if not networks:
        return []
    params = {"networks": ", ".join(networks[:3]), "minutes": settings.RISK_CONCURRENT_MINUTES}
    evidence = {"network": event.network, "other_networks": networks[:10]}
    if event.device_id and event.device_id in history.devices():
        return [
            Finding(
                detector="concurrent_networks",
                severity="low",
                score=15,
                message=_(
                    "This account was also signed in from another network (%(networks)s) within "
                    "%(minutes)d minutes, here from a device it has used before."
                ),
                params=params,
                evidence=evidence,
            )
        ]
    return [
        Finding(
            detector="concurrent_networks",
            severity="medium",
            score=35,
            message=_(
                "This account was also signed in from another network (%(networks)s) within %(minutes)d "
                "minutes, here from a device it has never used."
            ),
            params=params,
            evidence=evidence,
        )
    ]


def _zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def off_hours(event, history: History) -> list[Finding]:
    """Outside the enterprise's declared working days and hours, in its own time zone. Hours
    that wrap midnight (a night shift, 22:00-06:00) are understood."""
    organization = event.organization if event.organization_id else None
    if event.outcome != SUCCEEDED or organization is None:
        return []
    local = event.occurred_at.astimezone(_zone(organization.time_zone))
    start, end, now = organization.working_hours_start, organization.working_hours_end, local.time()
    within_hours = start <= now < end if start <= end else (now >= start or now < end)
    working_day = str(local.isoweekday()) in (organization.working_days or "")
    if within_hours and working_day:
        return []
    return [
        Finding(
            detector="off_hours",
            severity="low",
            score=10,
            message=_(
                "Signed in at %(time)s on a %(day)s, outside the enterprise's declared working hours "
                "(%(start)s-%(end)s)."
            ),
            params={
                "time": local.strftime("%H:%M"),
                # Kept for officers; pages state the zone once rather than inside each sentence.
                "zone": str(local.tzinfo),
                # In English here (strftime's C locale); translated when shown (accounts.reasons).
                "day": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")[
                    local.weekday()
                ],
                "start": start.strftime("%H:%M"),
                "end": end.strftime("%H:%M"),
            },
            evidence={"local_time": local.isoformat(timespec="minutes")},
        )
    ]


def brute_force(event, history: History) -> list[Finding]:
    """Many failed passwords on one account; a success right after them (the password was
    guessed); or repeated wrong codes after a right password (the password is known)."""
    if event.user_id is None:
        return []
    minutes = settings.RISK_BRUTE_FORCE_MINUTES
    failed = event.outcome == FAILED
    password_failures = history.password_failures + (failed and event.factor == "password")
    code_failures = history.second_factor_failures + (failed and event.factor == "second_factor")
    findings = []
    if code_failures >= settings.RISK_SECOND_FACTOR_FAILURES and failed and event.factor == "second_factor":
        findings.append(
            Finding(
                detector="brute_force",
                severity="high",
                score=60,
                message=_(
                    "The right password was given but the second-factor code was wrong %(count)d times in "
                    "%(minutes)d minutes: someone else probably knows the password."
                ),
                params={"count": code_failures, "minutes": minutes},
                evidence={"failed_codes": code_failures, "network": event.network},
                group=GUESSING,
            )
        )
    elif password_failures >= settings.RISK_BRUTE_FORCE_FAILURES:
        guessed = event.outcome == SUCCEEDED
        findings.append(
            Finding(
                detector="brute_force",
                severity="high" if guessed else "medium",
                score=70 if guessed else 40,
                message=(
                    _(
                        "Signed in right after %(count)d failed passwords in %(minutes)d minutes: the "
                        "password may have been guessed."
                    )
                    if guessed
                    else _("%(count)d failed passwords on this account in %(minutes)d minutes.")
                ),
                params={"count": password_failures, "minutes": minutes},
                evidence={"failed_attempts": password_failures, "network": event.network},
                group=GUESSING,
            )
        )
    return findings


def password_spray(event, history: History) -> list[Finding]:
    """Failures on many different account names from one network: someone is trying common
    passwords across accounts. The source is the address our own proxies saw, never a
    client-written ``X-Forwarded-For`` (``audit.middleware.client_ip``)."""
    if event.outcome != FAILED or not event.network:
        return []
    if history.spray_names < settings.RISK_SPRAY_ACCOUNTS:
        return []
    return [
        Finding(
            detector="password_spray",
            severity="high",
            score=50,
            message=_(
                "%(count)d different accounts failed to sign in from the network %(network)s within "
                "%(minutes)d minutes."
            ),
            params={
                "count": history.spray_names,
                "network": event.network,
                "minutes": settings.RISK_SPRAY_MINUTES,
            },
            evidence={"network": event.network, "accounts": history.spray_names},
            group=GUESSING,
        )
    ]


def dormant_account(event, history: History) -> list[Finding]:
    """The first sign-in after ``RISK_DORMANT_DAYS`` or more of silence (or, for an account never
    used, since it was created)."""
    if event.outcome != SUCCEEDED or event.user_id is None:
        return []
    last = history.last_success_at or (None if history.has_prior_success else history.account_created_at)
    if last is None:
        return []
    silence = event.occurred_at - last
    if silence < datetime.timedelta(days=settings.RISK_DORMANT_DAYS):
        return []
    return [
        Finding(
            detector="dormant_account",
            severity="medium",
            score=30,
            message=_("First sign-in after %(days)d days without one."),
            params={"days": silence.days},
            evidence={"silent_days": silence.days},
        )
    ]
