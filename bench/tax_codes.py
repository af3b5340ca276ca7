"""Tax codes for the benchmarks' worlds."""

from __future__ import annotations

import secrets

from stdnum.vn import mst


def unused_tax_code() -> str:
    """A random valid tax code no enterprise in the database has yet (call after django.setup())."""
    from accounts.models import Organization

    while True:
        base = "0" + "".join(secrets.choice("0123456789") for _ in range(8))
        code = base + mst.calc_check_digit(base)
        if mst.is_valid(code) and not Organization.objects.filter(tax_code=code).exists():
            return code
