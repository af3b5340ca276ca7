"""Requests refused before any view reads them."""

from __future__ import annotations

from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext


class RefuseNulCharactersMiddleware:
    """A NUL character in the query string answers 400 naming the parameters that hold one.

    PostgreSQL can neither store nor compare a string with NUL in it, so a search or filter for
    one would otherwise fail as a 500. Form and JSON fields are refused by their own validators."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        names = sorted({name for name, values in request.GET.lists() if "\x00" in name + "".join(values)})
        if not names:
            return self.get_response(request)
        detail = gettext("Null characters are not allowed.")
        if request.path.startswith("/api/"):
            fields = {name.replace("\x00", "\ufffd"): [detail] for name in names}
            return JsonResponse(
                {"code": "null_characters_not_allowed", "detail": detail, "fields": fields}, status=400
            )
        return render(request, "400.html", {"detail": detail}, status=400)
