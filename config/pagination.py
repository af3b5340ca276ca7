from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination as BaseCursorPagination
from rest_framework.pagination import PageNumberPagination as BasePageNumberPagination


class StrictPageSizeMixin:
    """A malformed ``page_size`` is refused (400 ``invalid_page_size``), not silently replaced by
    the default: the caller would page wrongly. The schema states the bounds."""

    page_size_query_param = "page_size"

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError(
                {self.page_size_query_param: [f"a whole number from 1 to {self.max_page_size}"]},
                code="invalid_page_size",
            )
        return int(raw)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] |= {"minimum": 1, "maximum": self.max_page_size}
        return parameters


class CursorPagination(StrictPageSizeMixin, BaseCursorPagination):
    """Stable pages over growing tables (new rows never shift a page); newest first by id."""

    ordering = "-pk"
    max_page_size = 200


class PageNumberPagination(StrictPageSizeMixin, BasePageNumberPagination):
    max_page_size = 100
