"""What each officer group may do in the console: group name -> permissions ("app_label.codename").

Every group also gets VIEWER's. Nobody gets a delete permission: the console changes state through
services, and history is not deleted. ``officers.services.groups`` writes these into Django's
groups (``python manage.py officer_groups``, and after every ``migrate``). The permissions keep
the labels of the apps whose models they are (``audit.change_case``…): the models stay there.
"""

from __future__ import annotations

VIEW_MODELS = (
    "audit.flag",
    "audit.case",
    "audit.casenote",
    "audit.auditcheckpoint",
    "accounts.organization",
    "accounts.user",
    "accounts.signinevent",
    "brokers.brokerlicence",
    "brokers.agentstaff",
    "brokers.licenceapplication",
    "brokers.agentproposal",
    "brokers.authorization",
    "brokers.operationreport",
    "signatures.trustedissuer",
    "signatures.revocationlist",
    "signatures.certificate",
    "signatures.declaration",
    "signatures.signaturerecord",
    "signatures.abusereport",
)
VIEWER = (
    *(f"{model.split('.')[0]}.view_{model.split('.')[1]}" for model in VIEW_MODELS),
    "audit.view_dashboard",
    "audit.search_signatures",
)
INVESTIGATOR = (
    "audit.change_flag",
    "audit.add_case",
    "audit.change_case",
    "audit.add_casenote",
    "audit.classify_enterprise",
)
REGISTRAR = (
    "brokers.change_brokerlicence",
    "brokers.change_licenceapplication",
    "brokers.change_agentproposal",
    "brokers.change_agentstaff",
    "signatures.add_trustedissuer",
    "signatures.change_trustedissuer",
    "signatures.add_revocationlist",
    "signatures.change_certificate",
    "accounts.change_organization",
)
OFFICER_GROUPS = {
    "viewer": VIEWER,
    "investigator": (*VIEWER, *INVESTIGATOR),
    "registrar": (*VIEWER, *REGISTRAR),
    "administrator": (*VIEWER, *INVESTIGATOR, *REGISTRAR, "accounts.change_user", "auth.view_group"),
}
