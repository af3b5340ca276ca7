from django import template

from accounts.devices import describe_user_agent
from accounts.notices import notification_link, notification_sentence
from accounts.reasons import reason_text

register = template.Library()


@register.filter
def device(user_agent: str) -> str:
    return describe_user_agent(user_agent or "")


@register.filter
def notice(notification) -> str:
    return notification_sentence(notification)


@register.simple_tag
def notice_link(notification) -> tuple[str, str]:
    """``(path, words)`` of the portal page the notice leads to, or empty strings."""
    return notification_link(notification)


@register.filter
def risk_reason(reason: dict) -> str:
    """A stored risk reason in the reader's language (the English sentence if it no longer fits)."""
    return reason_text(reason)
