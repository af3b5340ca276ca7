# The operations-report pages (issue 6, "Operations reports").
urlpatterns: list = []
