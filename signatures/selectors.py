"""Reads for trusted issuers, revocation lists and certificates, scoped to the reader."""

from __future__ import annotations

import datetime

from cryptography import x509
from django.db import connection
from django.db.models import Case, Count, F, Q, QuerySet, Value, When
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import Organization, User
from audit.models import AuditEvent
from core.queries import IdsFirst, custom_plans, rows_in_order, values_in_order
from signatures.models import Certificate, Declaration, RevocationList, SignatureRecord, TrustedIssuer


def trusted_issuer_certificates() -> list[x509.Certificate]:
    return [
        x509.load_der_x509_certificate(bytes(der))
        for der in TrustedIssuer.objects.filter(status=TrustedIssuer.Status.ACTIVE).values_list(
            "der", flat=True
        )
    ]


def current_crls() -> dict[int, tuple[TrustedIssuer, RevocationList | None]]:
    """Each active issuer with its newest revocation list (or ``None`` if none is loaded)."""
    result = {}
    for issuer in TrustedIssuer.objects.filter(status=TrustedIssuer.Status.ACTIVE):
        newest = RevocationList.objects.filter(issuer=issuer).order_by("-this_update", "-pk").first()
        result[issuer.pk] = (issuer, newest)
    return result


def certificate_list(*, viewer: User) -> QuerySet[Certificate]:
    """The certificates of the viewer's own enterprise; nothing for anyone else."""
    if viewer.organization_id is None:
        return Certificate.objects.none()
    return (
        Certificate.objects.filter(organization_id=viewer.organization_id)
        .select_related("issuer")
        .prefetch_related("custodians")
    )


def certificate_for_viewer(*, viewer: User, pk: int) -> Certificate | None:
    return certificate_list(viewer=viewer).filter(pk=pk).first()


def organization_members_by_username(organization_id: int, usernames: list[str]) -> QuerySet[User]:
    """Members of one enterprise named by username; a name from elsewhere simply isn't found."""
    return User.objects.filter(organization_id=organization_id, username__in=usernames)


def declaration_list(*, viewer: User) -> QuerySet[Declaration]:
    """Declarations filed in the viewer's enterprise's name, or by it for clients (a broker sees
    only its own submissions, also after the trader moved to another broker). Officers: all."""
    declarations = Declaration.objects.select_related(
        "trader",
        "signature__signer",
        "signature__signer_organization",
        "signature__certificate",
        "signature__authorization",
    )
    if viewer.is_officer:
        return declarations
    if viewer.organization_id is None:
        return declarations.none()
    return declarations.filter(
        Q(trader_id=viewer.organization_id) | Q(signature__signer_organization_id=viewer.organization_id)
    )


_HISTORY_RELATED = ("signer", "signer_organization", "certificate", "authorization", "trader")
# The columns a row of the portal's history (signatures/declarations.html) or of the officers'
# who-signed page (officers.who_signed._hit_row, its CSV too) shows: loading only these halves the
# cost of turning a page's rows and their five related rows into objects.
_ROW_SHOWN = (
    "created_at", "declaration_number", "declaration_kind", "trader_tax_code", "agent_number",
    "certificate_fingerprint", "outcome", "reason_code", *_HISTORY_RELATED,
    "signer__username", "signer__first_name", "signer__last_name", "signer_organization__name",
    "certificate__serial_number", "authorization__contract_number",
)  # fmt: skip
_HISTORY_SHOWN = (*_ROW_SHOWN, "representation", "trader__compliance_level")
# Who-signed's rows are plain named tuples of these values, the primary key first
# (core.queries.values_in_order): turning 50 records and their five related rows into objects
# each was a third of a search's time.
_SEARCH_VALUES = (
    "pk", "created_at", "declaration_number", "declaration_kind", "trader_tax_code", "agent_number",
    "certificate_fingerprint", "outcome", "reason_code", "trader", "certificate", "authorization",
    "signer__username", "signer__first_name", "signer__last_name", "signer_organization__name",
    "signer_organization__tax_code", "certificate__serial_number", "authorization__contract_number",
    "trader__name",
)  # fmt: skip
_NEWEST_FIRST = ("-created_at", "-pk")


def signature_records_for(*, viewer: User) -> QuerySet[SignatureRecord]:
    """Every attempt, accepted or refused, made in the viewer's enterprise's name or by it."""
    if viewer.organization_id is None:
        return SignatureRecord.objects.none()
    return SignatureRecord.objects.select_related(*_HISTORY_RELATED).filter(
        Q(trader_id=viewer.organization_id) | Q(signer_organization_id=viewer.organization_id)
    )


class SignatureHistory:
    """``signature_records_for`` newest first, sliced a page at a time without scanning the
    enterprise's whole history (a large filer has tens of thousands of records).

    The ``OR`` of the two parties defeats both indexes (PostgreSQL reads every matching row into a
    bitmap and sorts them all for each page). Split into two disjoint parts, each is an index scan
    in the page's order, and the union is a merge of the two that stops after the page:

    * records in the enterprise's name: ``signature_trader_recent`` (trader, -created_at);
    * records it signed for another party (a broker's submissions, a trader's attempt in another's
      name): the partial index ``signature_signed_for_others`` (signer_organization, -created_at)
      where the trader is not the signer's organisation.
    """

    def __init__(self, *, viewer: User):
        self.viewer = viewer
        self.organization_id = viewer.organization_id

    def __getitem__(self, window: slice) -> list[SignatureRecord]:
        if self.organization_id is None:
            return []
        start, stop = window.start or 0, window.stop
        if not connection.features.supports_slicing_ordering_in_compound:
            # SQLite (the embedded default, small data) has no LIMIT inside a UNION's parts.
            return list(signature_records_for(viewer=self.viewer).order_by(*_NEWEST_FIRST)[start:stop])
        ids = _merged_newest_first(
            in_its_name=SignatureRecord.objects.filter(trader_id=self.organization_id),
            signed_by=SignatureRecord.objects.filter(signer_organization_id=self.organization_id),
            signer_is_broker=self.viewer.organization.kind == self.viewer.organization.Kind.BROKER,
            window=(start, stop),
            disjoint=True,
        )
        return rows_in_order(
            SignatureRecord.objects.select_related(*_HISTORY_RELATED).only(*_HISTORY_SHOWN), ids
        )


def _merged_newest_first(
    *,
    in_its_name: QuerySet[SignatureRecord],
    signed_by: QuerySet[SignatureRecord],
    signer_is_broker: bool,
    window: tuple[int, int],
    disjoint: bool,
) -> list[int]:
    """The ids of a page of "in a party's name, or signed by it for another", newest first, as two
    index reads merged: the OR of the two defeats both indexes (PostgreSQL reads every match into a
    bitmap and sorts them all for each page). ``disjoint`` says whether the two parts can share a
    record (UNION ALL then, else UNION)."""
    start, stop = window
    in_its_name = in_its_name.order_by(*_NEWEST_FIRST).values_list("pk", "created_at")[:stop]
    # Signed for another party: the partial index signature_signed_for_others.
    for_others = signed_by.exclude(trader_id=F("signer_organization_id")).values_list("pk", "created_at")
    # A broker's whole history is this part, read in page order. A trader's few attempts in
    # another's name are taken whole from the partial index: with ORDER BY and LIMIT, the planner
    # (which cannot know how few they are, the trader and signer columns being correlated) would
    # walk the created_at index backwards instead, through the whole table when there are none.
    for_others = for_others.order_by(*_NEWEST_FIRST)[:stop] if signer_is_broker else for_others.order_by()
    merged = in_its_name.union(for_others, all=disjoint).order_by(*_NEWEST_FIRST)[start:stop]
    # Planned for this party: a generic plan, made for the average party's forty records, read a
    # large filer's thirty thousand and sorted them (core.queries.custom_plans).
    with custom_plans(merged.db):
        return [pk for pk, _at in merged]


def signature_search(
    *,
    viewer: User,
    declaration_number: str = "",
    tax_code: str = "",
    certificate: str = "",
    agent_number: str = "",
    user: str = "",
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
) -> IdsFirst | TaxCodeSearch:
    """ "Who signed which declaration" for officers: every attempt, accepted or refused, matching all
    the criteria given, newest first; slice it for a page. ``tax_code`` matches the trader or the
    signer's organisation; ``certificate`` a serial number (hex, any case, colons allowed) or a
    SHA-256 fingerprint; ``user`` a username exactly. Dates are inclusive, in the site's time
    zone. Non-officers get nothing."""
    values = SignatureRecord.objects.values_list(*_SEARCH_VALUES, named=True)
    if not viewer.is_officer:
        return IdsFirst(SignatureRecord.objects.none(), values=values)
    # Not derived from ``values``: its joins would stay in the ids' query.
    records = SignatureRecord.objects.order_by("-created_at", "-pk")
    # Each criterion has its index, read newest first so the page stops early. An OR across a
    # join, or with a sub-select, has none to use and reads all the signature records: a
    # certificate serial is looked up first, and a tax code's two parties are merged (TaxCodeSearch).
    if declaration_number:
        # The expression index signature_number_ci (UPPER(declaration_number)).
        records = records.filter(declaration_number__iexact=declaration_number.strip())
    if certificate:
        value = certificate.strip().replace(":", "").replace(" ", "").lower()
        # Serials are stored as lower-case hex without leading zeros (as ``format(n, "x")``). A
        # serial becomes the fingerprints of the certificates that have it (certificate_serial): a
        # record names its certificate by fingerprint too, and one column read newest first from
        # signature_certificate_recent stops after the page.
        serial = value.lstrip("0") or "0"
        fingerprints = {value, *Certificate.objects.filter(serial_number=serial).values_list(
            "fingerprint_sha256", flat=True
        )}  # fmt: skip
        records = records.filter(certificate_fingerprint__in=sorted(fingerprints))
    if agent_number:
        # The expression index signature_agent_recent_ci (UPPER(agent_number), newest first).
        records = records.filter(agent_number__iexact=agent_number.strip())
    if user:
        # The user's unique username, then the foreign-key index on signer.
        records = records.filter(signer__username=user.strip())
    tz = timezone.get_current_timezone()
    if date_from:
        records = records.filter(
            created_at__gte=datetime.datetime.combine(date_from, datetime.time.min, tzinfo=tz)
        )
    if date_to:
        records = records.filter(
            created_at__lt=datetime.datetime.combine(
                date_to + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz
            )
        )
    if tax_code:
        return TaxCodeSearch(records, tax_code.strip(), values=values)
    # A certificate or an agent may have signed five records or thirty thousand.
    return IdsFirst(records, values=values)


class TaxCodeSearch:
    """``signature_search`` with a tax code, sliced a page at a time: the records in that trader's
    name (``signature_trader_tax_code``) and those its staff signed in another party's name
    (``signature_signed_for_others``), each read newest first from its index and merged, stopping
    after the page. As one ``OR`` PostgreSQL reads every match, a large filer's tens of thousands,
    to sort them for each search."""

    def __init__(self, records: QuerySet[SignatureRecord], tax_code: str, *, values: QuerySet):
        self.records, self.tax_code, self.values = records, tax_code, values

    def __getitem__(self, window: slice) -> list:
        start, stop = window.start or 0, window.stop
        kinds = dict(Organization.objects.filter(tax_code=self.tax_code).values_list("pk", "kind"))
        organizations = list(kinds)
        in_its_name = self.records.filter(trader_tax_code=self.tax_code)
        if not connection.features.supports_slicing_ordering_in_compound:
            # SQLite (the embedded default, small data) has no LIMIT inside a UNION's parts.
            either = in_its_name | self.records.filter(signer_organization_id__in=organizations)
            return values_in_order(self.values, list(either.values_list("pk", flat=True)[start:stop]))
        # UNION, not UNION ALL: a record can be in both parts (a broker naming its own tax code as
        # the trader's, which is then no trader), and the page holds each once.
        ids = _merged_newest_first(
            in_its_name=in_its_name,
            signed_by=self.records.filter(signer_organization_id__in=organizations),
            signer_is_broker=Organization.Kind.BROKER in kinds.values(),
            window=(start, stop),
            disjoint=False,
        )
        return values_in_order(self.values, ids)


def signature_audit_events(records: list[SignatureRecord]) -> dict[int, str]:
    """The audit event id (for its receipt) of each signature record, in one query."""
    events = AuditEvent.objects.filter(
        target_type="signatures.signaturerecord",
        target_id__in=[str(record.pk) for record in records],
        action__in=["declaration.signed", "declaration.rejected"],
    ).values_list("target_id", "event_id")
    return {int(target_id): str(event_id) for target_id, event_id in events}


def declarations_by_signer_side(*, since: datetime.date) -> list[tuple[datetime.date, str, int]]:
    """Accepted declaration signatures per local day: ``(day, side, count)`` where side is
    ``own_staff`` (the trader's own signer) or ``broker`` (signed for the trader by a broker)."""
    start = datetime.datetime.combine(since, datetime.time.min, tzinfo=timezone.get_current_timezone())
    rows = (
        SignatureRecord.objects.filter(outcome=SignatureRecord.Outcome.ACCEPTED, created_at__gte=start)
        .annotate(
            day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()),
            side=Case(
                When(signer_organization_id=F("trader_id"), then=Value("own_staff")), default=Value("broker")
            ),
        )
        .values_list("day", "side")
        .annotate(count=Count("id"))
        .order_by("day", "side")
    )
    return list(rows)
