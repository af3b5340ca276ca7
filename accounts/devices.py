"""Readable device descriptions ("Chrome 120 on Windows 10") from user-agent strings."""

from __future__ import annotations

import functools

from django.utils.translation import gettext as _
from ua_parser import parse


@functools.lru_cache(maxsize=2048)
def _parts(user_agent: str) -> tuple[str, str, str]:
    result = parse(user_agent[:512])
    browser = os = device = ""
    if result.user_agent is not None and result.user_agent.family != "Other":
        browser = " ".join(filter(None, [result.user_agent.family, result.user_agent.major]))
    if result.os is not None and result.os.family != "Other":
        os = " ".join(filter(None, [result.os.family, result.os.major]))
    if result.device is not None and result.device.family not in ("Other", "Spider"):
        device = result.device.family
    return browser, os, device


def describe_user_agent(user_agent: str) -> str:
    if not user_agent:
        return _("unknown device")
    browser, os, device = _parts(user_agent)
    if not browser and not os:
        return _("unknown device")
    if browser and os:
        described = _("%(browser)s on %(os)s") % {"browser": browser, "os": os}
    else:
        described = browser or os
    return f"{described} ({device})" if device and device not in described else described
