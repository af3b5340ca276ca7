from django.urls import include, path
from django.views.i18n import set_language

from config import views
from config.health import healthz
from officers.site import officer_site

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("risk.urls")),
    path("certificates/", include("signatures.urls")),
    path("brokers/", include("brokers.urls")),
    path("declarations/", include("signatures.declaration_urls")),
    path("api/v1/", include("config.api_urls")),
    path("officers/", officer_site.urls),
]

handler400 = "core.errors.bad_request"
handler404 = "core.errors.api_not_found"
handler500 = "core.errors.api_server_error"
