from django.conf import settings
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api_schema"),
    # The split view serves Swagger UI's start-up script as a file: the CSP allows no inline script.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api_schema"), name="api_docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api_schema"), name="api_redoc"),
    path("audit/", include("audit.api_urls")),
    path("", include("signatures.api_urls")),
    path("", include("brokers.api_urls")),
]

if settings.BENCH_ENDPOINTS:
    from bench.views import BaselineApi, floor  # a checkout only: bench/ is not in the wheel

    urlpatterns.append(path("bench/baseline", BaselineApi.as_view(), name="api_bench_baseline"))
    urlpatterns.append(path("bench/floor", floor, name="api_bench_floor"))
