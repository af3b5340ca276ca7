from __future__ import annotations

import getpass
import sys
from pathlib import Path

from core.commands import OperatorCommand
from officers.permissions import OFFICER_GROUPS
from officers.services.groups import officer_create


class Command(OperatorCommand):
    help = (
        "Create a customs officer account in officer groups; the password is read from a file or asked "
        "for, never given on the command line. The console asks for a second factor at the first sign-in."
    )
    command_name = "create_officer"

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True)
        parser.add_argument("--email", required=True)
        parser.add_argument(
            "--group", required=True, help=f"one or more of {', '.join(OFFICER_GROUPS)}, comma separated"
        )
        parser.add_argument("--first-name", default="", help="given name")
        parser.add_argument("--last-name", default="", help="family name")
        parser.add_argument(
            "--password-file", type=Path, help="a file holding the password (else it is asked for)"
        )

    def handle(self, *args, **options):
        officer = officer_create(
            username=options["username"],
            email=options["email"],
            groups=[name.strip() for name in options["group"].split(",") if name.strip()],
            password=self._password(options["password_file"]),
            first_name=options["first_name"],
            last_name=options["last_name"],
        )
        groups = ", ".join(sorted(g.name for g in officer.groups.all()))
        self.stdout.write(f"{officer.username}: customs officer ({groups}); sign in at /officers/")

    def _password(self, path: Path | None) -> str:
        if path is not None:
            try:
                return path.read_text().rstrip("\n")
            except OSError as error:
                raise self.refuse(f"cannot read the password file: {error.strerror}") from None
        if not sys.stdin.isatty():
            raise self.refuse("give --password-file, or run the command in a terminal to be asked")
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Password again: "):
            raise self.refuse("password_mismatch: the two passwords differ")
        return password
