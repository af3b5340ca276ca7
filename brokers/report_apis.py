"""``/api/v1/operation-reports/`` (DESIGN §6): a broker lists and files its operations reports."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from brokers import selectors
from brokers.models import OperationReport
from brokers.services.reports import operation_report_submit
from core.errors import ApplicationError


class OperationReportOutputSerializer(serializers.ModelSerializer):
    broker_tax_code = serializers.CharField(source="broker.tax_code")
    broker_name = serializers.CharField(source="broker.name")
    period = serializers.CharField(source="period.label")
    submitted_by = serializers.SlugRelatedField(read_only=True, slug_field="username")

    class Meta:
        model = OperationReport
        fields = [
            "id", "broker_tax_code", "broker_name", "period", "period_start", "period_end", "due_on",
            "status", "declarations_filed", "clients_served", "staff_joined", "staff_left", "notes",
            "submitted_by", "submitted_at", "missed_at",
        ]  # fmt: skip


class OperationReportInputSerializer(serializers.Serializer):
    # Types only: the ranges are the service's, so the portal and the API answer the same codes.
    period_start = serializers.DateField(help_text="First day of the period: 2026-07-01 for 2026-Q3.")
    declarations_filed = serializers.IntegerField(help_text="0 or more.")
    clients_served = serializers.IntegerField(help_text="0 or more.")
    staff_joined = serializers.IntegerField(default=0, help_text="Agent staff who joined in the period.")
    staff_left = serializers.IntegerField(default=0, help_text="Agent staff who left in the period.")
    notes = serializers.CharField(
        default="", allow_blank=True, trim_whitespace=True, help_text="At most 4000."
    )


def _require_readable(user) -> None:
    if not selectors.operation_reports_readable_by(user):
        raise ApplicationError(
            _("Operations reports are kept by brokers and read by customs."),
            code="not_allowed",
            status_code=403,
        )


class OperationReportListApi(GenericAPIView):
    required_scopes = {"GET": "read", "POST": "manage"}
    serializer_class = OperationReportOutputSerializer
    queryset = OperationReport.objects.none()  # for the schema only: reads go through the selector

    @extend_schema(
        summary="My broker's operations reports (every broker's for an officer), newest first.",
        responses=OperationReportOutputSerializer(many=True),
    )
    def get(self, request):
        _require_readable(request.user)
        page = self.paginate_queryset(selectors.operation_report_list(viewer=request.user))
        return self.get_paginated_response(OperationReportOutputSerializer(page, many=True).data)

    @extend_schema(
        summary="File the report of a period that has ended (late after its due date).",
        description=(
            "Error codes: `not_allowed` (403), `scope_missing` (403), `required` / `invalid` (a missing or "
            "mistyped field), `invalid_input`, `figure_negative`, "
            "`figure_too_large`, `notes_too_long`, `broker_licence_inactive`, `invalid_period`, "
            "`period_not_ended`, `report_exists`."
        ),
        request=OperationReportInputSerializer,
        responses={201: OperationReportOutputSerializer},
    )
    def post(self, request):
        data = OperationReportInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        report = operation_report_submit(actor=request.user, **data.validated_data)
        return Response(OperationReportOutputSerializer(report).data, status=status.HTTP_201_CREATED)
