from django.urls import include, path

from brokers.apis import AuthorizationActionApi, AuthorizationListApi, BrokerDirectoryApi, MeApi

urlpatterns = [
    path("me", MeApi.as_view(), name="api_me"),
    path("brokers/", BrokerDirectoryApi.as_view(), name="api_brokers"),
    path("authorizations/", AuthorizationListApi.as_view(), name="api_authorizations"),
    *(
        path(
            f"authorizations/<int:pk>/{action}",
            AuthorizationActionApi.as_view(action_name=action),
            name=f"api_authorization_{action}",
        )
        for action in ("accept", "decline", "cancel", "revoke")
    ),
    path("", include("brokers.report_api_urls")),
]
