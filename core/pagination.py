from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination as BaseCursorPagination
from rest_framework.pagination import PageNumberPagination as BasePageNumberPagination

from core.numbers import whole_number


def whole_number_param(request, name: str, *, default: int, low: int, high: int | None, code: str) -> int:
    """The query parameter ``name``, given at most once, as a whole number from ``low`` to ``high``;
    ``default`` when absent. Anything else (empty, repeated, a word) is a 400 with ``code``."""
    given = request.query_params.getlist(name)
    if not given:
        return default
    number = whole_number(given[0]) if len(given) == 1 else None
    if number is None or number < low or (high is not None and number > high):
        bounds = f"from {low} to {high}" if high is not None else f"from {low}"
        raise ValidationError({name: [f"a whole number {bounds}"]}, code=code)
    return number


class StrictPageSizeMixin:
    """A malformed ``page_size`` is refused (400 ``invalid_page_size``), not silently replaced by
    the default: the caller would page wrongly. The schema states the bounds."""

    page_size_query_param = "page_size"

    def get_page_size(self, request):
        return whole_number_param(
            request, self.page_size_query_param, default=self.page_size, low=1, high=self.max_page_size,
            code="invalid_page_size",
        )  # fmt: skip

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] |= {"minimum": 1, "maximum": self.max_page_size}
        return parameters


class CursorPagination(StrictPageSizeMixin, BaseCursorPagination):
    """Stable pages over growing tables (new rows never shift a page); newest first by id. A cursor
    the list did not give is refused with 400 ``invalid_cursor``: the request is wrong, no resource
    is missing (DRF answers 404)."""

    ordering = "-pk"
    max_page_size = 200

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise ValidationError(
                {self.cursor_query_param: ["not a cursor this list gave"]}, code="invalid_cursor"
            ) from None


class PageNumberPagination(StrictPageSizeMixin, BasePageNumberPagination):
    """A page number is a whole number from 1, given once; anything else (empty, repeated, "last")
    is refused with 400 ``invalid_page`` rather than read as page 1."""

    max_page_size = 100

    def get_page_number(self, request, paginator):
        return whole_number_param(
            request, self.page_query_param, default=1, low=1, high=None, code="invalid_page"
        )

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"] |= {"minimum": 1}
        return parameters


class UncountedPage:
    """A page of a portal history without the total: "newer" and "older" links need only to know
    whether one more row exists, and counting an enterprise's whole history (hundreds of thousands
    of sign-ins or signatures for a large filer) on every page view costs more than the page itself.

    Offers what the templates use of Django's ``Page``: iteration, ``object_list``, ``number`` and
    the ``has_*``/``*_page_number`` methods. A page number that is not a whole number is page 1;
    one beyond the end is an empty page.
    """

    MAX_NUMBER = 100_000

    def __init__(self, object_list, number, per_page: int):
        try:
            number = int(number)
        except (TypeError, ValueError):
            number = 1
        self.number = min(max(number, 1), self.MAX_NUMBER)
        offset = (self.number - 1) * per_page
        rows = list(object_list[offset : offset + per_page + 1])
        self._has_next = len(rows) > per_page
        self.object_list = rows[:per_page]

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)

    def __getitem__(self, index):
        return self.object_list[index]

    def has_next(self) -> bool:
        return self._has_next

    def has_previous(self) -> bool:
        return self.number > 1

    def has_other_pages(self) -> bool:
        return self.has_next() or self.has_previous()

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1
