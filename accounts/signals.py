"""What accounts tells the apps above it (fire-and-forget: a receiver's return value is never read).

``signin_recorded``: a sign-in attempt was recorded (``accounts.services.signins.signin_record``),
sent inside its transaction with ``event`` (the ``SignInEvent``). The risk engine listens and
evaluates the attempt after the commit.
"""

from __future__ import annotations

from django.dispatch import Signal

signin_recorded = Signal()
