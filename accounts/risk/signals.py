"""Signals the risk engine sends upward: accounts may not import signatures (the apps are layered
audit -> accounts -> brokers -> signatures), so signatures listens instead
(``signatures.receivers``). Both are sent inside the caller's transaction: a receiver's failure
rolls the whole answer or response back."""

from __future__ import annotations

from django.dispatch import Signal

# "This was not me": kwargs ``event`` (SignInEvent), ``reporter`` (who answered), ``user`` (the
# account concerned). A receiver that handled it (abuse report opened) returns True.
signin_disowned = Signal()

# An automatic response asks for the certificates the account may sign with to be suspended:
# kwargs ``user``, ``event``, ``reason``. Returns the number suspended.
certificates_suspend_requested = Signal()
