from django.urls import include, path

from brokers import views

urlpatterns = [
    path("", views.directory, name="broker_directory"),
    path("mandates/", views.mandate_list, name="mandate_list"),
    path("mandates/grant/", views.mandate_grant, name="mandate_grant"),
    path("mandates/invite/", views.mandate_invite, name="mandate_invite"),
    path("mandates/codes/", views.mandate_codes, name="mandate_codes"),
    path("mandates/<int:pk>/", views.mandate_action, name="mandate_action"),
    path("mandates/<int:pk>/confirm/", views.mandate_confirm, name="mandate_confirm"),
    path("api-keys/", views.api_keys, name="api_keys"),
    path("agents/", views.agents, name="agents"),
    path("licence/", views.brokerage_licence, name="broker_licence"),
    path("reports/", include("brokers.report_urls")),
]
