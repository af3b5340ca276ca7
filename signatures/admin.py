"""Trusted issuers, revocation lists, certificates, declarations and signatures in the officer console."""

from __future__ import annotations

from django.contrib import admin

from audit.officers import OfficerModelAdmin, officer_site
from signatures.models import (
    AbuseReport,
    Certificate,
    Declaration,
    RevocationList,
    SignatureRecord,
    TrustedIssuer,
)


@admin.register(TrustedIssuer, site=officer_site)
class TrustedIssuerAdmin(OfficerModelAdmin):
    list_display = ("name", "subject", "status", "not_after", "created_at")
    list_filter = ("status",)
    search_fields = ("name", "subject", "fingerprint_sha256")
    exclude = ("der",)


@admin.register(RevocationList, site=officer_site)
class RevocationListAdmin(OfficerModelAdmin):
    list_display = (
        "issuer",
        "crl_number",
        "this_update",
        "next_update",
        "revoked_count",
        "source",
        "created_at",
    )
    list_filter = ("source",)
    list_select_related = ("issuer",)
    exclude = ("der",)


@admin.register(Certificate, site=officer_site)
class CertificateAdmin(OfficerModelAdmin):
    list_display = ("serial_number", "organization", "signer_name", "status", "not_after")
    list_filter = ("status",)
    search_fields = ("serial_number", "fingerprint_sha256", "organization__tax_code", "subject_tax_code")
    list_select_related = ("organization",)
    exclude = ("der", "challenge")


@admin.register(Declaration, site=officer_site)
class DeclarationAdmin(OfficerModelAdmin):
    list_display = ("number", "trader", "kind", "created_at")
    list_filter = ("kind",)
    search_fields = ("number", "trader__tax_code")
    list_select_related = ("trader",)
    exclude = ("document",)

    def organization_of(self, obj):
        return obj.trader


@admin.register(SignatureRecord, site=officer_site)
class SignatureRecordAdmin(OfficerModelAdmin):
    list_display = (
        "declaration_number",
        "trader_tax_code",
        "signer",
        "signer_organization",
        "outcome",
        "created_at",
    )
    list_filter = ("outcome", "channel")
    search_fields = ("declaration_number", "trader_tax_code", "agent_number", "certificate_fingerprint")
    list_select_related = ("signer", "signer_organization")
    exclude = ("signature",)

    def organization_of(self, obj):
        return obj.trader


@admin.register(AbuseReport, site=officer_site)
class AbuseReportAdmin(OfficerModelAdmin):
    list_display = ("organization", "reporter", "created_at")
    list_select_related = ("organization", "reporter")
