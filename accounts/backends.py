from __future__ import annotations

from django.contrib.auth.backends import ModelBackend


class AccountBackend(ModelBackend):
    """Django's password check, refusing suspended accounts as well as inactive ones. The sign-in
    page then shows its usual generic message, so a suspension is not announced to strangers."""

    def user_can_authenticate(self, user) -> bool:
        return super().user_can_authenticate(user) and getattr(user, "suspended_at", None) is None
