"""The labelled population of ``bench/risk_quality.py``: enterprises, brokers and their people,
and a month of their sign-ins (after a warm-up that gives every account a past), each labelled
legitimate (with the scenario it shows) or bad (with its kind). Pure Python and seeded: the same
parameters give the same sign-ins, so a run can be repeated and the CI scenario test
(``tests/risk/test_quality_scenarios.py``) runs a small one.

The behaviour follows the issue (#24) and Wiefling et al., "Pump Up Password Security!" (ACM TOPS
2022), for the three attackers with a stolen password. Addresses are public-looking but invented;
a /24 is what ``accounts.services.signins.network_of`` gives.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass, field

HANOI = datetime.timezone(datetime.timedelta(hours=7))

# Kinds of bad sign-ins, in the order of the report's last line; the last two are campaigns of
# failures (counted per campaign: caught when one of its attempts is flagged).
BAD_KINDS = ("lending", "shared", "naive", "vpn", "targeted", "brute_force", "spray")
CAMPAIGN_KINDS = ("brute_force", "spray")
# Legitimate scenarios the CI test names: none of them may look like another party.
CARRIER_NAT_NEIGHBOUR = "carrier_nat_neighbour"
BROKER_OWN_STAFF = "broker_own_staff"
UPGRADED_BROWSER = "upgraded_browser"

DESKTOP = (
    ("Windows NT 10.0; Win64; x64", "Chrome", 128),
    ("Windows NT 10.0; Win64; x64", "Edg", 127),
    ("Windows NT 10.0; Win64; x64", "Firefox", 129),
    ("Macintosh; Intel Mac OS X 14_5", "Chrome", 128),
)
PHONES = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_{v} like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "Mozilla/5.0 (Linux; Android 14; SM-A{v}5F) AppleWebKit/537.36 Chrome/128.0 Mobile Safari/537.36",
)
FOREIGN_AGENTS = (
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 13_6) AppleWebKit/605.1.15 Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36 OPR/112",
)

# Address plan. Fixed-line ISPs own 16 /16s each: homes with their own /24 (a few neighbours per
# /24), and each ISP a regional pool of /24s behind carrier-grade NAT. Mobile carriers put every
# phone behind a pool of /24s (``Parameters``). Hotels, cafés and airports: 200 /24s. Attackers: hosting
# providers in Vietnam (VPN exits) and addresses abroad.
ISPS = ((14, 160), (27, 64), (42, 112))
CARRIERS = ((27, 2), (113, 185), (171, 224))


def _office(index: int, broker: bool) -> str:
    first = 150 if broker else 100 + index // 62_500
    return f"{first}.{index // 250 % 250 + 1}.{index % 250}"


def _home(person: int, isp: int) -> str:
    a, b = ISPS[isp]
    return f"{a}.{b + person % 16}.{person // 16 % 256}"


def _cgnat_home(rng: random.Random, isp: int, pool: int) -> str:
    a, b = ISPS[isp]
    return f"{a}.{b + 15}.{192 + rng.randrange(pool)}"


def _mobile(rng: random.Random, carrier: int, pool: int) -> str:
    a, b = CARRIERS[carrier]
    n = rng.randrange(pool)
    return f"{a}.{b + n // 256}.{n % 256}"


def _hotel(rng: random.Random) -> str:
    return f"118.69.{rng.randrange(200)}"


def _vpn(rng: random.Random) -> str:
    return f"103.{rng.choice((56, 97, 121, 153))}.{rng.randrange(10)}"


def _abroad(rng: random.Random) -> str:
    return f"{rng.choice((185, 45, 91, 5, 194))}.{rng.randrange(256)}.{rng.randrange(256)}"


def _ip(network24: str, rng: random.Random) -> str:
    return f"{network24}.{rng.randrange(1, 255)}"


@dataclass(frozen=True)
class Parameters:
    traders: int = 5_000
    brokers: int = 300
    users: int = 30_000
    days: int = 30  # the measured month
    warmup_days: int = 56  # the past every account already has (not measured)
    seed: int = 24
    start: datetime.date = datetime.date(2026, 10, 5)  # a Monday
    broker_staff: float = 0.08  # share of the users who are brokers' staff
    accountants: float = 0.015  # share of the users who are accounts of accountants (2-4 clients each)
    no_office: float = 0.25  # traders whose people work from home
    phone_users: float = 0.6  # people who also sign in on their phone
    phone_share: float = 0.13  # ... and the share of their sign-ins made on it
    cgnat_homes: float = 0.4  # homes behind a fixed-line carrier's shared addresses
    cgnat_pool: int = 64  # /24s of each fixed-line carrier's shared addresses (at most 64)
    carrier_pool: int = 128  # /24s of each mobile carrier's shared addresses (at most 512)
    second_device: float = 0.5  # office people who also have a laptop at home
    travellers: float = 0.04  # people travelling 2-4 days in the month
    new_devices: float = 0.04  # people whose computer is replaced in the month
    browser_upgrades: float = 0.5  # devices whose browser is upgraded in the month
    typos: float = 0.03  # sign-ins preceded by a wrong password
    phone_after_office: float = 0.08  # office sign-ins followed within minutes by the phone
    evenings: float = 0.05  # sign-ins between 19:00 and 22:00
    # Labelled bad sign-ins per 30,000 users (scaled with the population).
    lending: int = 300
    shared: int = 300
    naive: int = 300
    vpn: int = 300
    targeted: int = 300
    brute_force: int = 30
    spray: int = 15

    def scaled(self, scale: float) -> Parameters:
        """The same population, ``scale`` times as large (the bad sign-ins too)."""

        def size(value: int, least: int) -> int:
            return max(least, round(value * scale))

        return Parameters(
            **{
                **self.__dict__,
                "traders": size(self.traders, 8),
                "brokers": size(self.brokers, 2),
                "users": size(self.users, 40),
                **{kind: size(getattr(self, kind), 3) for kind in BAD_KINDS},
            }
        )


@dataclass
class Person:
    """One account (a user) and the places its person signs in from."""

    index: int
    org: int
    kind: str  # staff, broker_staff, accountant
    activity: float
    office: str | None
    home: str | None
    isp: int
    cgnat_home: bool
    carrier: int | None
    devices: dict = field(default_factory=dict)  # role -> (device id, agent)
    upgrades: dict = field(default_factory=dict)  # role -> (moment, new agent)
    replaced: tuple | None = None  # (moment, new device id, new agent) for the main computer
    travel: tuple | None = None  # (first day, last day)


@dataclass(frozen=True)
class Org:
    index: int
    kind: str  # trader, broker
    office: str | None


@dataclass(frozen=True)
class SignIn:
    at: datetime.datetime
    person: int
    outcome: str
    ip: str
    network: str
    agent: str
    device: str
    label: str = "legitimate"  # or a kind of BAD_KINDS
    campaign: int = 0  # the attack it belongs to (bad sign-ins)
    scenario: str = ""  # what a legitimate one shows
    measured: bool = True  # False: the warm-up


def _desktop(rng: random.Random) -> tuple[str, str, int]:
    return rng.choice(DESKTOP)


def _agent(system: str, browser: str, version: int) -> str:
    if browser == "Firefox":
        return f"Mozilla/5.0 ({system}; rv:{version}.0) Gecko/20100101 Firefox/{version}.0"
    tail = f" Edg/{version}.0" if browser == "Edg" else ""
    engine = f"AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{version}.0 Safari/537.36"
    return f"Mozilla/5.0 ({system}) {engine}{tail}"


class Population:
    """The organisations, the people and their sign-ins, from ``Parameters``."""

    def __init__(self, parameters: Parameters):
        self.p = parameters
        self.rng = random.Random(parameters.seed)
        self.begin = datetime.datetime.combine(
            parameters.start - datetime.timedelta(days=parameters.warmup_days), datetime.time(), HANOI
        )
        self.measured_from = datetime.datetime.combine(parameters.start, datetime.time(), HANOI)
        self.end = self.measured_from + datetime.timedelta(days=parameters.days)
        self.orgs: list[Org] = []
        self.people: list[Person] = []
        self.signins: list[SignIn] = []
        self._devices = 0
        self._campaigns = 0
        self._build_orgs()
        self._build_people()

    # --- who ---------------------------------------------------------------------------------

    def _device(self) -> str:
        self._devices += 1
        return f"{self.p.seed:04x}{self._devices:012x}{self.rng.getrandbits(64):016x}"

    def _build_orgs(self) -> None:
        rng = self.rng
        for n in range(self.p.traders):
            office = None if rng.random() < self.p.no_office else _office(n, broker=False)
            self.orgs.append(Org(n, "trader", office))
        for n in range(self.p.brokers):
            self.orgs.append(Org(self.p.traders + n, "broker", _office(n, broker=True)))

    def _person(self, org: Org, kind: str, home_of: int) -> Person:
        rng = self.rng
        isp = rng.randrange(len(ISPS))
        person = Person(
            index=len(self.people),
            org=org.index,
            kind=kind,
            activity=rng.uniform(0.25, 0.85),
            office=org.office,
            home=_home(home_of, isp),
            isp=isp,
            cgnat_home=rng.random() < self.p.cgnat_homes,
            carrier=rng.randrange(len(CARRIERS)) if rng.random() < self.p.phone_users else None,
        )
        system, browser, version = _desktop(rng)
        person.devices["main"] = (self._device(), _agent(system, browser, version))
        if org.office and rng.random() < self.p.second_device:
            system, browser, version = _desktop(rng)
            person.devices["laptop"] = (self._device(), _agent(system, browser, version))
        if person.carrier is not None:
            person.devices["phone"] = (self._device(), rng.choice(PHONES).format(v=rng.randrange(3, 7)))
        for role, (_device, agent) in person.devices.items():
            if role != "phone" and rng.random() < self.p.browser_upgrades:
                moment = self.measured_from + datetime.timedelta(seconds=rng.randrange(self.p.days * 86400))
                upgraded = agent.replace("128.0", "129.0").replace("127.0", "128.0").replace("129.0", "130.0")
                person.upgrades[role] = (moment, upgraded)
        if rng.random() < self.p.new_devices:
            moment = self.measured_from + datetime.timedelta(seconds=rng.randrange(self.p.days * 86400))
            system, browser, version = _desktop(rng)
            person.replaced = (moment, self._device(), _agent(system, browser, version + 1))
        if rng.random() < self.p.travellers:
            first = rng.randrange(self.p.days - 4)
            person.travel = (first, first + rng.randrange(2, 5))
        return person

    def _build_people(self) -> None:
        rng = self.rng
        brokers = [org for org in self.orgs if org.kind == "broker"]
        traders = [org for org in self.orgs if org.kind == "trader"]
        broker_staff = max(len(brokers), round(self.p.users * self.p.broker_staff))
        accountant_accounts = round(self.p.users * self.p.accountants)
        for n in range(broker_staff):
            org = brokers[n % len(brokers)]
            self.people.append(self._person(org, "broker_staff", len(self.people)))
        # An accountant is one person with an account in each of 2-4 client enterprises, on one
        # laptop and one home network: the accounts share the devices of the first.
        while accountant_accounts > 0:
            clients = rng.sample(traders, min(len(traders), rng.randrange(2, 5)))
            first = None
            for org in clients:
                person = self._person(org, "accountant", len(self.people))
                if first is None:
                    first = person
                else:
                    person.devices = dict(first.devices)
                    person.upgrades, person.replaced = dict(first.upgrades), first.replaced
                    person.home, person.isp, person.cgnat_home = first.home, first.isp, first.cgnat_home
                    person.carrier = first.carrier
                person.office = None
                self.people.append(person)
                accountant_accounts -= 1
        # Every trader has someone; the rest go to traders by a long tail (a few enterprises
        # have many staff).
        remaining = self.p.users - len(self.people)
        for n in range(remaining):
            org = traders[n] if n < len(traders) else traders[int(len(traders) * rng.random() ** 2)]
            self.people.append(self._person(org, "staff", len(self.people)))

    # --- when and where ------------------------------------------------------------------------

    def _day_weight(self, day: datetime.date) -> float:
        """Saturday is a working day in Vietnam for many; Sundays hardly, except near the filing
        deadlines (the 15th and the month's end), when weekends are worked."""
        near_deadline = day.day in (13, 14, 15) or (day + datetime.timedelta(days=3)).month != day.month
        if day.weekday() == 6:
            return 0.5 if near_deadline else 0.03
        if day.weekday() == 5:
            return 0.6 if near_deadline else 0.25
        return 1.0

    def _moment(self, day: datetime.date, rng: random.Random) -> datetime.datetime:
        if rng.random() < self.p.evenings:
            minutes = rng.randrange(19 * 60, 22 * 60)
        elif rng.random() < 0.35:
            minutes = rng.randrange(13 * 60, 17 * 60 + 30)
        else:
            minutes = rng.randrange(7 * 60 + 30, 11 * 60 + 30)
        return datetime.datetime.combine(day, datetime.time(), HANOI) + datetime.timedelta(
            minutes=minutes, seconds=rng.randrange(60)
        )

    def _device_at(self, person: Person, role: str, at: datetime.datetime) -> tuple[str, str, str]:
        """The device (id, agent) a role stands for at a moment, and the scenario it shows."""
        if role == "laptop" and role not in person.devices:
            role = "main"
        device, agent = person.devices[role]
        scenario = ""
        if role == "main" and person.replaced and at >= person.replaced[0]:
            device, agent = person.replaced[1], person.replaced[2]
            scenario = "new_device"
        upgrade = person.upgrades.get(role)
        if upgrade and at >= upgrade[0] and not scenario:
            agent, scenario = upgrade[1], UPGRADED_BROWSER
        return device, agent, scenario

    def _place(self, person: Person, at: datetime.datetime, rng: random.Random) -> tuple[str, str, str]:
        """Where a legitimate sign-in comes from: (network /24 stem, device role, scenario)."""
        day = (at.date() - self.p.start).days
        if person.travel and person.travel[0] <= day <= person.travel[1]:
            return (
                _hotel(rng),
                rng.choice(("laptop", "phone" if person.carrier is not None else "laptop")),
                "travel",
            )
        roll = rng.random()
        phone_share = self.p.phone_share if person.carrier is not None else 0.0
        if person.office and roll < 0.75:
            return person.office, "main", "office"
        if person.carrier is not None and roll > 1 - phone_share:
            return _mobile(rng, person.carrier, self.p.carrier_pool), "phone", "mobile"
        home = _cgnat_home(rng, person.isp, self.p.cgnat_pool) if person.cgnat_home else person.home
        return home, "laptop" if person.office else "main", "home"

    def _legitimate(self, person: Person, at: datetime.datetime, rng: random.Random) -> None:
        stem, role, scenario = self._place(person, at, rng)
        device, agent, device_scenario = self._device_at(person, role, at)
        if person.kind == "broker_staff" and scenario == "office" and not device_scenario:
            scenario = BROKER_OWN_STAFF
        elif person.kind == "accountant":
            scenario = "accountant"
        if device_scenario == UPGRADED_BROWSER and scenario not in (
            "office",
            "home",
            "mobile",
            BROKER_OWN_STAFF,
        ):
            device_scenario = ""
        measured = at >= self.measured_from
        if rng.random() < self.p.typos:
            self._add(
                at - datetime.timedelta(seconds=40), person, "failed", stem, agent, device, measured=measured
            )
        if at.hour >= 19 or at.weekday() == 6:
            scenario = "weekend_or_evening" if not device_scenario else scenario
        self._add(
            at,
            person,
            "succeeded",
            stem,
            agent,
            device,
            scenario=device_scenario or scenario,
            measured=measured,
        )
        phone_too = scenario in ("office", BROKER_OWN_STAFF) and person.carrier is not None
        if phone_too and rng.random() < self.p.phone_after_office:
            later = at + datetime.timedelta(minutes=rng.randrange(1, 10))
            phone, phone_agent, _s = self._device_at(person, "phone", later)
            self._add(
                later,
                person,
                "succeeded",
                _mobile(rng, person.carrier, self.p.carrier_pool),
                phone_agent,
                phone,
                scenario="phone_and_computer",
                measured=measured,
            )

    def _add(self, at, person: Person, outcome: str, stem: str, agent: str, device: str, **labels) -> None:
        ip = _ip(stem, self.rng)
        self.signins.append(SignIn(at, person.index, outcome, ip, f"{stem}.0/24", agent, device, **labels))

    def generate(self) -> list[SignIn]:
        """Every sign-in, warm-up and month, in time order (the order they are recorded in)."""
        rng = self.rng
        days = self.p.warmup_days + self.p.days
        for offset in range(days):
            day = self.begin.date() + datetime.timedelta(days=offset)
            weight = self._day_weight(day)
            for person in self.people:
                if rng.random() >= person.activity * weight:
                    continue
                self._legitimate(person, self._moment(day, rng), rng)
                if rng.random() < 0.3:
                    self._legitimate(person, self._moment(day, rng), rng)
        self._attacks()
        self.signins.sort(key=lambda signin: signin.at)
        self._refine_scenarios()
        return self.signins

    def _refine_scenarios(self) -> None:
        """Scenarios that depend on what came before: a sign-in on the person's own phone (used
        before) from a carrier address another enterprise's people used before it is the
        carrier-NAT neighbour, which must not look like another enterprise's network or device;
        an upgraded browser is one on a device the person used before the upgrade (else it is the
        device's first use, which is rightly new)."""
        seen: dict[str, set[int]] = {}
        used: set[tuple[int, str]] = set()
        for n, signin in enumerate(self.signins):
            org = self.people[signin.person].org
            orgs = seen.setdefault(signin.network, set())
            own_device = (signin.person, signin.device) in used
            scenario = signin.scenario
            if scenario == "mobile" and own_device and orgs - {org}:
                scenario = CARRIER_NAT_NEIGHBOUR
            elif scenario == UPGRADED_BROWSER and not own_device:
                scenario = "first_use"
            if scenario != signin.scenario:
                self.signins[n] = SignIn(**{**signin.__dict__, "scenario": scenario})
            if signin.outcome == "succeeded":
                orgs.add(org)
                if signin.label == "legitimate":
                    used.add((signin.person, signin.device))

    # --- bad sign-ins --------------------------------------------------------------------------

    def _victims(self, count: int, kinds=("staff", "accountant")) -> list[Person]:
        pool = [
            person
            for person in self.people
            if person.kind in kinds and self.orgs[person.org].kind == "trader"
        ]
        return [self.rng.choice(pool) for _n in range(count)]

    def _outsider(self, victim: Person, people: list[Person]) -> Person:
        """Someone of another enterprise (an accountant's other clients count as others)."""
        while True:
            person = self.rng.choice(people)
            if person.org != victim.org and person.devices["main"] != victim.devices["main"]:
                return person

    def _working_moment(self) -> datetime.datetime:
        rng = self.rng
        while True:
            day = self.p.start + datetime.timedelta(days=rng.randrange(self.p.days))
            if day.weekday() < 5:
                return self._moment(day, rng).replace(hour=rng.randrange(8, 17))

    def _any_moment(self) -> datetime.datetime:
        return self.measured_from + datetime.timedelta(seconds=self.rng.randrange(self.p.days * 86400))

    def _bad(
        self,
        at,
        person: Person,
        kind: str,
        stem: str,
        agent: str,
        device: str,
        outcome="succeeded",
        campaign: int | None = None,
    ) -> None:
        if campaign is None:
            self._campaigns += 1
            campaign = self._campaigns
        self._add(at, person, outcome, stem, agent, device, label=kind, campaign=campaign)

    def _attacks(self) -> None:
        rng = self.rng
        p = self.p
        brokers_staff = [person for person in self.people if person.kind == "broker_staff"]
        office_staff = [person for person in self.people if person.kind == "staff" and person.office]
        # Lending: a broker (or another enterprise) uses the trader's account on its own device or,
        # from its office, on a computer set aside for it.
        for victim in self._victims(p.lending):
            mode = rng.random()
            holder = self._outsider(victim, brokers_staff if mode < 0.75 else office_staff)
            device, agent = holder.devices["main"]
            if 0.5 <= mode < 0.75:
                device = self._device()
            for _n in range(rng.randrange(1, 3)):
                self._bad(self._working_moment(), victim, "lending", holder.office, agent, device)
        # Shared credentials: the account at its own office, and within the hour at another
        # enterprise's office (on that enterprise's computer, or on one of its own).
        for victim in self._victims(p.shared, kinds=("staff",)):
            if not victim.office:
                continue
            at = self._working_moment()
            own, own_agent, _s = self._device_at(victim, "main", at)
            self._add(at, victim, "succeeded", victim.office, own_agent, own, scenario="office")
            other = self._outsider(victim, office_staff)
            device, agent = other.devices["main"]
            if rng.random() < 0.5:
                device = self._device()
            later = at + datetime.timedelta(minutes=rng.randrange(5, 55))
            self._bad(later, victim, "shared", other.office, agent, device)
        # Wiefling et al.'s attackers with a stolen password, on their own computer.
        for victim in self._victims(p.naive):
            self._bad(
                self._any_moment(), victim, "naive", _abroad(rng), rng.choice(FOREIGN_AGENTS), self._device()
            )
        for victim in self._victims(p.vpn):
            self._bad(
                self._any_moment(), victim, "vpn", _vpn(rng), rng.choice(FOREIGN_AGENTS), self._device()
            )
        for victim in self._victims(p.targeted):
            # Same region and ISP as the victim, with the victim's own browser: half of those with
            # a phone from the victim's mobile carrier, whose shared addresses the victim's phone
            # may have used (then only the device is new), the others from the home ISP's.
            if victim.carrier is not None and rng.random() < 0.5:
                stem = _mobile(rng, victim.carrier, p.carrier_pool)
            else:
                a, b = ISPS[victim.isp]
                stem = f"{a}.{b + rng.randrange(16)}.{rng.randrange(256)}"
            _device, agent = victim.devices["main"]
            self._bad(self._working_moment(), victim, "targeted", stem, agent, self._device())
        # Guessing: many wrong passwords on one account (now and then the last one right), and one
        # address trying a common password on many accounts.
        for victim in self._victims(p.brute_force):
            self._campaigns += 1
            at, stem, agent, device = (
                self._any_moment(),
                _abroad(rng),
                rng.choice(FOREIGN_AGENTS),
                self._device(),
            )
            for n in range(rng.randrange(12, 26)):
                self._bad(
                    at + datetime.timedelta(seconds=20 * n),
                    victim,
                    "brute_force",
                    stem,
                    agent,
                    device,
                    outcome="failed",
                    campaign=self._campaigns,
                )
            if rng.random() < 0.3:
                self._bad(
                    at + datetime.timedelta(minutes=10),
                    victim,
                    "brute_force",
                    stem,
                    agent,
                    device,
                    campaign=self._campaigns,
                )
        for _n in range(p.spray):
            self._campaigns += 1
            at, stem = self._any_moment(), _vpn(rng) if rng.random() < 0.5 else _abroad(rng)
            agent, device = rng.choice(FOREIGN_AGENTS), self._device()
            targets = rng.sample(self.people, min(len(self.people), rng.randrange(12, 40)))
            for n, victim in enumerate(targets):
                self._bad(
                    at + datetime.timedelta(seconds=45 * n),
                    victim,
                    "spray",
                    stem,
                    agent,
                    device,
                    outcome="failed",
                    campaign=self._campaigns,
                )
