"""Every model and page of the officers' console, registered on ``officers.site.officer_site``, one
module per app whose models they show. Django's admin autodiscovery imports this package."""

from officers.admin import accounts, audit, brokers, licensing, signatures  # noqa: F401 - they register on import
