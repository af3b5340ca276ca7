from django.urls import include, path

urlpatterns = [
    path("", include("brokers.report_api_urls")),
]
