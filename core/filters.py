"""The API's filter backend: django-filter, with an empty filter value refused."""

from __future__ import annotations

from django.utils.translation import gettext
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter reads ``?status=`` as no filter at all; the schema promises one of the values,
    so a filter given empty is refused (400, the field named) like any value outside them."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None:
            empty = [name for name in filterset_class.base_filters if request.query_params.get(name) == ""]
            if empty:
                raise ValidationError(
                    {name: [gettext("Give a value, or leave the filter out.")] for name in empty}
                )
        return super().filter_queryset(request, queryset, view)
