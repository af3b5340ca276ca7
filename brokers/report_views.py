"""The operations-report pages: a broker's reports and what is still to file; the form to file one."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from brokers import selectors
from brokers.report_forms import OperationReportForm
from brokers.services import reports
from core.errors import ApplicationError


@login_required
def operation_report_list(request):
    if not selectors.operation_reports_readable_by(request.user):
        raise PermissionDenied
    licence = selectors.broker_licence_of(request.user)
    return render(
        request,
        "brokers/operation_report_list.html",
        {
            "reports": selectors.operation_report_list(viewer=request.user),
            "open_periods": reports.operation_report_periods_open(licence=licence) if licence else [],
            "may_submit": request.user.is_manager and licence is not None,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def operation_report_submit(request):
    # The owner or an administrator of a licensed broker; the service checks it again.
    licence = selectors.broker_licence_of(request.user) if request.user.is_manager else None
    if licence is None:
        raise PermissionDenied
    open_periods = reports.operation_report_periods_open(licence=licence)
    form = OperationReportForm(
        request.POST or None, open_periods=open_periods, initial={"period_start": request.GET.get("period")}
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            report = reports.operation_report_submit(actor=request.user, **form.cleaned_data)
        except ApplicationError as error:
            for field in [name for name in error.fields if name in form.fields] or [None]:
                form.add_error(field, error.detail)
            form.error_code = error.code
            status = error.status_code
        else:
            messages.success(
                request, _("The report for %(period)s is filed.") % {"period": report.period.label}
            )
            return redirect("operation_report_list")
    elif form.errors:
        status = 400
    return render(
        request,
        "brokers/operation_report_submit.html",
        {"form": form, "open_periods": open_periods},
        status=status,
    )
