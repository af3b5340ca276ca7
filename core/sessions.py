"""Sessions that may be ended from elsewhere while one of their requests runs."""

from __future__ import annotations

from django.conf import settings
from django.contrib.sessions import middleware
from django.contrib.sessions.exceptions import SessionInterrupted
from django.utils.cache import patch_vary_headers


class SessionMiddleware(middleware.SessionMiddleware):
    """Django's, except that a request whose session was ended while it ran gets its own answer,
    with the browser signed out, instead of a 400 page.

    Here that is an ordinary event: the risk engine's worker ends a risky sign-in's sessions,
    possibly while that sign-in's own answer is being written, and a person ends their other
    sessions from another device. What the request did stands; the next one finds no session."""

    def process_response(self, request, response):
        try:
            return super().process_response(request, response)
        except SessionInterrupted:
            response.delete_cookie(
                settings.SESSION_COOKIE_NAME,
                path=settings.SESSION_COOKIE_PATH,
                domain=settings.SESSION_COOKIE_DOMAIN,
                samesite=settings.SESSION_COOKIE_SAMESITE,
            )
            patch_vary_headers(response, ("Cookie",))
            return response
