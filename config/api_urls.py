from csp.decorators import csp_update
from django.conf import settings
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

# Swagger UI styles its page with inline styles; that page alone allows them (no inline script
# anywhere: the split view serves its start-up script as a file). Redoc is not offered: its side
# menu always loads a logo from the internet.
inline_styles = csp_update({"style-src": ["'self'", "'unsafe-inline'"]})

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("docs/", inline_styles(SpectacularSwaggerSplitView.as_view(url_name="api_schema")), name="api_docs"),
    path("audit/", include("audit.api_urls")),
    path("", include("signatures.api_urls")),
    path("", include("brokers.api_urls")),
]

if settings.BENCH_ENDPOINTS:
    from bench.views import BaselineApi, floor  # a checkout only: bench/ is not in the wheel

    urlpatterns.append(path("bench/baseline", BaselineApi.as_view(), name="api_bench_baseline"))
    urlpatterns.append(path("bench/floor", floor, name="api_bench_floor"))
