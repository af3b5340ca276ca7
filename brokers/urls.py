from django.urls import include, path

urlpatterns = [
    path("reports/", include("brokers.report_urls")),
]
