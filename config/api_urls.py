from django.urls import include, path

urlpatterns = [
    path("audit/", include("audit.api_urls")),
    path("", include("signatures.api_urls")),
    path("", include("brokers.api_urls")),
]
