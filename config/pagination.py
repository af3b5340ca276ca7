from rest_framework.pagination import CursorPagination as BaseCursorPagination


class CursorPagination(BaseCursorPagination):
    """Stable pages over growing tables (new rows never shift a page); newest first by id."""

    ordering = "-pk"
    page_size_query_param = "page_size"
    max_page_size = 200
