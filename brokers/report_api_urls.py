# ``/api/v1/operation-reports/`` (issue 6, "Operations reports").
from django.urls import path

from brokers.report_apis import OperationReportListApi

urlpatterns = [
    path("operation-reports/", OperationReportListApi.as_view(), name="api_operation_reports"),
]
