"""Every ``code`` an error of the API can carry (DESIGN §6), listed in the OpenAPI schema as the
enum of ``Error.code``. ``tests/config/test_error_codes.py`` fails when the source raises a code
that is not here, and the API fuzzing fails when an answer carries one."""

from __future__ import annotations

# Django REST framework's own: authentication, permissions, parsing, throttling, field validation.
FRAMEWORK = {
    "not_authenticated",
    "authentication_failed",
    "permission_denied",
    "not_found",
    "method_not_allowed",
    "not_acceptable",
    "unsupported_media_type",
    "parse_error",
    "throttled",
    "server_error",
    "service_unavailable",
    "request_too_large",
    "invalid",
    "required",
    "null",
    "blank",
    "max_length",
    "min_length",
    "invalid_choice",
    "not_a_list",
    "empty",
    "max_value",
    "min_value",
    "max_string_length",
    "date",
    "datetime",
    "make_aware",
    "overflow",
    "invalid_image",
    "no_name",
    "max_digits",
    "max_decimal_places",
    "max_whole_digits",
    "does_not_exist",
    "incorrect_type",
    "not_a_dict",
    "null_characters_not_allowed",
    "invisible_characters",  # core.text: names and identifiers
    "surrogate_characters_not_allowed",
}

ACCOUNTS = {
    "invalid_tax_code",
    "tax_code_not_canonical",
    "duplicate_tax_code",
    "duplicate_email",
    "duplicate_person",
    "invalid_phone",
    "invalid_citizen_id",
    "invalid_role",
    "link_expired",
    "link_invalid",
    "link_used",
    "wrong_password",
    "password_mismatch",
    "password_reused",
    "password_too_long",
    "password_too_weak",
    "password_contains_personal_data",
    "mfa_code_invalid",
    "mfa_not_enabled",
    "mfa_required",
    "password_change_required",
    "step_up_required",
    "invalid_answer",
    "not_allowed",
    "reason_required",
    "invalid_input",
    "invalid_page_size",
    "invalid_page",
    "invalid_cursor",
}

AUDIT = {
    "receipt_not_ready",
    "no_flags",
    "flag_in_open_case",
    "not_investigator",
    "note_empty",
    "outcome_invalid",
    "case_closed",
    "flag_resolved",
}

BROKERS = {
    "broker_not_found",
    "trader_not_found",
    "not_a_trader",
    "known_fact_mismatch",
    "broker_licence_inactive",
    "organization_not_verified",
    "invalid_scope",
    "invalid_window",
    "authorization_overlap",
    "authorization_pending",
    "invalid_transition",
    "not_pending",
    "invalid_status",
    "invalid_expiry",
    "scope_missing",
    "invalid_period",
    "period_not_ended",
    "report_exists",
    "figure_negative",
    "figure_too_large",
    "notes_too_long",
    # licensing
    "already_licensed",
    "application_pending",
    "agents_required",
    "agent_not_eligible",
    "duplicate_agent_number",
    "no_licence",
    "invalid_date",
}

SIGNATURES = {
    # certificates and their binding
    "certificate_malformed",
    "certificate_private_key",
    "certificate_bundle",
    "certificate_too_large",
    "certificate_not_end_entity",
    "certificate_untrusted",
    "certificate_expired",
    "certificate_not_yet_valid",
    "certificate_key_usage",
    "certificate_weak_algorithm",
    "certificate_revoked",
    "certificate_suspended",
    "certificate_no_tax_code",
    "certificate_tax_code_mismatch",
    "certificate_already_bound",
    "certificate_shared",
    "certificate_refused",
    "certificate_not_bound",
    "certificate_foreign_use",
    "challenge_expired",
    "challenge_used",
    "proof_invalid",
    "custodian_invalid",
    # trusted issuers and revocation lists
    "issuer_duplicate",
    "issuer_expired",
    "issuer_not_ca",
    "crl_malformed",
    "crl_issuer_unknown",
    "crl_invalid",
    "crl_not_current",
    "crl_outdated",
    "unsupported_file",
    "empty_file",
    "file_too_large",
    # signing
    "signature_malformed",
    "signature_too_large",
    "too_many_refusals",
    "too_many_failed_keys",
    "too_many_attempts",
    "invalid_idempotency_key",
    "signature_invalid",
    "signature_digest_mismatch",
    "signature_algorithm_unsupported",
    "signature_time_outside_validity",
    "signature_signer_unknown",
    "signer_role_not_allowed",
    "signer_not_custodian",
    "agent_not_current",
    "no_active_authorization",
    "authorization_scope",
    "duplicate_declaration",
    "document_too_large",
    "idempotency_key_reused",
    "invalid_base64",
    "too_large",
    # officers
    "no_criteria",
    "impossible_range",
    "level_invalid",
}

ERROR_CODES: frozenset[str] = frozenset(
    FRAMEWORK | ACCOUNTS | AUDIT | BROKERS | SIGNATURES | {"application_error"}
)

# The HTTP status each code is answered with (docs/api.md, and each error answer's description in
# the OpenAPI schema). A code not named here is a 400. A code answered with two statuses is listed
# under both, e.g. a certificate refused when it is bound (400) and when it signs (422).
_SIGNING_REFUSALS_422 = {
    "certificate_not_bound",
    "certificate_expired",
    "certificate_suspended",
    "certificate_revoked",
    "certificate_untrusted",
    "certificate_key_usage",
    "certificate_not_yet_valid",
    "certificate_weak_algorithm",
    "certificate_not_end_entity",
    "certificate_malformed",
    "crl_invalid",
    "signature_malformed",
    "signature_invalid",
    "signature_digest_mismatch",
    "signature_algorithm_unsupported",
    "signature_time_outside_validity",
    "signature_signer_unknown",
    "broker_licence_inactive",
    "idempotency_key_reused",
}
STATUS_OF_CODES: dict[int, frozenset[str]] = {
    status: frozenset(codes)
    for status, codes in {
        401: {"not_authenticated", "authentication_failed"},
        403: {
            "not_authenticated", "permission_denied", "scope_missing", "step_up_required",
            "password_change_required", "mfa_required", "not_allowed", "not_investigator",
            "certificate_foreign_use",
            "signer_role_not_allowed", "signer_not_custodian", "organization_not_verified",
            "broker_licence_inactive", "agent_not_current", "no_active_authorization", "authorization_scope",
        },
        404: {"not_found", "trader_not_found"},
        405: {"method_not_allowed"},
        406: {"not_acceptable"},
        409: {"receipt_not_ready", "duplicate_declaration", "invalid_transition", "invalid_status"},
        413: {"request_too_large", "document_too_large", "signature_too_large"},
        415: {"unsupported_media_type"},
        422: _SIGNING_REFUSALS_422,
        429: {"throttled", "too_many_refusals", "too_many_failed_keys", "too_many_attempts"},
        500: {"server_error"},
        503: {"service_unavailable"},
    }.items()
}  # fmt: skip
# Codes answered with another status as well as with 400.
ALSO_400 = {
    "not_allowed", "organization_not_verified", "broker_licence_inactive", "invalid_transition",
    "certificate_expired", "certificate_malformed", "certificate_untrusted", "certificate_key_usage",
    "certificate_not_yet_valid", "certificate_weak_algorithm", "certificate_not_end_entity", "crl_invalid",
    "certificate_revoked", "certificate_suspended", "invalid_status", "mfa_required",
}  # fmt: skip


def statuses_of(code: str) -> tuple[int, ...]:
    """The HTTP statuses ``code`` is answered with, lowest first."""
    found = {status for status, codes in STATUS_OF_CODES.items() if code in codes}
    if not found or code in ALSO_400:
        found.add(400)
    return tuple(sorted(found))


ERROR_STATUSES: dict[str, tuple[int, ...]] = {code: statuses_of(code) for code in sorted(ERROR_CODES)}
