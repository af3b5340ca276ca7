"""One error shape for the whole API: ``{"code": ..., "detail": ..., "fields": {...}}``.

Domain errors subclass ``ApplicationError`` with a stable ``code``; DRF's own exceptions and
Django's ``ValidationError`` are mapped here too, so no view formats an error by hand.
"""

from __future__ import annotations

import math
import sys

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.utils.translation import gettext, ngettext
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from core.error_codes import ERROR_CODES, ERROR_STATUSES


class ApplicationError(Exception):
    code = "application_error"
    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, detail: str, *, code: str | None = None, fields: dict | None = None, status_code=None):
        super().__init__(detail)
        self.detail = detail
        self.code = code or self.code
        self.fields = fields or {}
        self.status_code = status_code or self.status_code


def _first_code(codes) -> str:
    while isinstance(codes, list | dict):
        if not codes:
            return "invalid"
        codes = next(iter(codes.values())) if isinstance(codes, dict) else codes[0]
    return str(codes)


def api_exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        body = {"code": exc.code, "detail": str(exc.detail), "fields": exc.fields}
        return Response(body, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = {
            "code": _first_code(exc.get_codes()),
            "detail": gettext("The request is invalid."),
            "fields": fields,
        }
    elif isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        response.data = {"code": _first_code(exc.get_codes()), "detail": _throttled_detail(exc), "fields": {}}
    else:
        response.data = {"code": _first_code(exc.get_codes()), "detail": str(exc.detail), "fields": {}}
    return response


def _throttled_detail(exc: exceptions.Throttled) -> str:
    """The framework puts the wait into its sentence before translating it ("Expected available in
    55 seconds."), so no catalogue can translate it: that tail is said again through ours."""
    wait = math.ceil(exc.wait)
    english = (exc.extra_detail_singular if wait == 1 else exc.extra_detail_plural).format(wait=wait)
    reason = str(exc.detail).removesuffix(str(english)).rstrip()
    tail = ngettext(
        "Expected available in %(wait)d second.", "Expected available in %(wait)d seconds.", wait
    ) % {"wait": wait}
    return f"{reason} {tail}"


class ErrorSerializer(serializers.Serializer):
    """Every error of the API (DESIGN §6), for the OpenAPI schema."""

    code = serializers.ChoiceField(
        choices=sorted(ERROR_CODES), help_text="stable snake_case code, e.g. certificate_revoked"
    )
    detail = serializers.CharField(help_text="a human sentence")
    fields = serializers.DictField(help_text="per-field problems, when the input was refused")


ERROR_RESPONSES = dict.fromkeys((400, 401, 403, 404, 409, 429), ErrorSerializer)


# Errors any operation can answer with: a malformed request, no or a dead key, a missing scope or
# another organisation's object, an unknown id, the rate limit, the database out of reach.
COMMON_ERROR_STATUSES = ("400", "401", "403", "404", "429", "503")


def document_common_errors(result, generator, request, public):
    """drf-spectacular post-processing hook: every operation documents the common error answers,
    so that no answer the API gives is missing from its schema."""
    error = {"$ref": "#/components/schemas/Error"}
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            statuses = COMMON_ERROR_STATUSES
            if "requestBody" in operation:
                # A body in a media type the operation doesn't parse is refused before any field.
                statuses += ("415",)
            for status_code in statuses:
                responses.setdefault(
                    status_code, {"content": {"application/json": {"schema": error}}, "description": ""}
                )
            for status_code, response in responses.items():
                if status_code.isdigit() and int(status_code) >= 400 and not response.get("description"):
                    response["description"] = _codes_answered_with(int(status_code))
    error_schema = result.get("components", {}).get("schemas", {}).get("Error")
    if error_schema is not None:
        error_schema["description"] = "Every error answer. The HTTP statuses of each `code`: " + "; ".join(
            f"`{code}` {', '.join(map(str, statuses))}" for code, statuses in ERROR_STATUSES.items()
        )
    return result


def _codes_answered_with(status_code: int) -> str:
    if status_code == 400:
        return "Refused input: `code` names the rule (the Error schema lists every code with its statuses)."
    codes = sorted(code for code, statuses in ERROR_STATUSES.items() if status_code in statuses)
    return "Codes: " + ", ".join(f"`{code}`" for code in codes) if codes else ""


def bad_request(request, exception=None):
    """A request Django refuses before any view reads it: a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``
    (413 ``request_too_large``), too many fields or a host not allowed (400 ``parse_error``). JSON
    under /api/, the portal's page elsewhere."""
    from django.core.exceptions import RequestDataTooBig
    from django.shortcuts import render

    if isinstance(exception, RequestDataTooBig):
        status_code, code = 413, "request_too_large"
        detail = gettext("The request is too large.")
    else:
        status_code, code = 400, "parse_error"
        detail = gettext("The request cannot be read.")
    if request.path.startswith("/api/"):
        return JsonResponse({"code": code, "detail": detail, "fields": {}}, status=status_code)
    return render(request, "400.html", {"detail": detail}, status=status_code)


def api_not_found(request, exception=None):
    """404 for a URL that matches no route: JSON under /api/, Django's page elsewhere."""
    from django.views.defaults import page_not_found

    if request.path.startswith("/api/"):
        return JsonResponse(
            {"code": "not_found", "detail": gettext("No such resource."), "fields": {}}, status=404
        )
    return page_not_found(request, exception)


# How long a client is asked to wait when the database cannot be reached: a restart or fail-over.
RETRY_AFTER_SECONDS = 5


def api_server_error(request):
    """500 for an unexpected error; 503 with ``Retry-After`` when the database cannot be reached,
    which is no fault of the request and passes. Django calls this inside its ``except`` block, so
    the exception is the one being handled."""
    from django.db import InterfaceError, OperationalError
    from django.template import loader
    from django.views.defaults import server_error

    unavailable = isinstance(sys.exc_info()[1], OperationalError | InterfaceError)
    if unavailable:
        if request.path.startswith("/api/"):
            body = {
                "code": "service_unavailable",
                "detail": "The service is briefly unavailable; try again in a few seconds.",
                "fields": {},
            }
            response = JsonResponse(body, status=503)
        else:  # rendered without the request: its context processors would read the database
            response = HttpResponse(loader.get_template("503.html").render(), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    if request.path.startswith("/api/"):
        body = {"code": "server_error", "detail": "Something went wrong on our side.", "fields": {}}
        return JsonResponse(body, status=500)
    return server_error(request)
