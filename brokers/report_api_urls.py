# ``/api/v1/operation-reports/`` (issue 6, "Operations reports").
urlpatterns: list = []
