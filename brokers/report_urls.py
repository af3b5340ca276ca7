# The operations-report pages (issue 6, "Operations reports").
from django.urls import path

from brokers import report_views

urlpatterns = [
    path("", report_views.operation_report_list, name="operation_report_list"),
    path("submit/", report_views.operation_report_submit, name="operation_report_submit"),
]
