"""The base of the operator's management commands (DESIGN §10): the operator is recorded in the
audit trail (channel ``cli``, the operating-system account in the user-agent field, since an
operator has no account of the product), and a refusal is one line on stderr with exit status 2,
never a traceback."""

from __future__ import annotations

import getpass
import uuid

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from core.context import Channel, RequestContext, bound_context
from core.errors import ApplicationError

BAD_INPUT = 2


def operator_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a container user with no passwd entry and no USER variable
        return "unknown"


def validation_line(error: ValidationError) -> str:
    """One line for the operator: ``field: message (code)`` for each refusal, joined by ``; ``."""
    if hasattr(error, "error_dict"):
        parts = [
            f"{field}: {message} ({item.code or 'invalid'})"
            for field, items in error.error_dict.items()
            for item in items
            for message in item.messages
        ]
    else:
        parts = [
            f"{message} ({item.code or 'invalid'})" for item in error.error_list for message in item.messages
        ]
    return "; ".join(parts).replace("\n", " ")


class OperatorCommand(BaseCommand):
    """Subclasses implement ``handle`` with the same services as the portal and the console."""

    def execute(self, *args, **options):
        context = RequestContext(
            request_id=uuid.uuid4().hex,
            channel=Channel.CLI,
            user_agent=f"manage.py {self.command_name} (operator {operator_name()})",
        )
        with bound_context(context):
            try:
                return super().execute(*args, **options)
            except ApplicationError as error:
                raise CommandError(f"{error.code}: {error.detail}", returncode=BAD_INPUT) from None
            except ValidationError as error:
                raise CommandError(validation_line(error), returncode=BAD_INPUT) from None

    command_name = "command"

    def refuse(self, message: str) -> CommandError:
        """The error to raise for bad input the services do not see (an unknown name, a bad date)."""
        return CommandError(message, returncode=BAD_INPUT)
