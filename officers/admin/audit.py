"""Flags, cases and audit checkpoints in the officer console, and an audit event's receipt. Working
flags into cases calls ``officers.services.cases``."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.http import Http404, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from audit import selectors as audit_selectors
from audit.models import AuditCheckpoint, Case, CaseNote, Flag
from audit.selectors import (
    AuditNotSealed,
    audit_event_for_reader,
    audit_network_visible_to,
    audit_receipt_build,
)
from core.errors import ApplicationError
from officers import selectors
from officers.actions import ActionsModelAdmin, ConfirmForm, ObjectAction, bulk_action_form
from officers.admin.filters import (
    AgeFilter,
    AssigneeFilter,
    CaseAgeFilter,
    CaseSeverityFilter,
    FlagKindFilter,
)
from officers.evidence import evidence_entries, evidence_json
from officers.labels import person_name
from officers.services.cases import (
    case_assign,
    case_close,
    case_flags_add,
    case_note_add,
    case_open,
    flags_assign,
)
from officers.site import OfficerModelAdmin, officer_site, require_perm
from officers.timeline import case_timeline

_INVESTIGATE = "audit.change_case"


class AssigneeField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{person_name(obj)} ({obj.username})"


class CaseOpenForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    assignee = AssigneeField(label=_("Assign to"), queryset=User.objects.none(), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = selectors.investigators()


class AddToCaseForm(forms.Form):
    case = forms.ModelChoiceField(label=_("Case"), queryset=Case.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["case"].queryset = Case.objects.filter(status=Case.Status.OPEN).order_by("-opened_at")


class AssignForm(forms.Form):
    assignee = AssigneeField(label=_("Assign to"), queryset=User.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = selectors.investigators()


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 4, "cols": 60}), max_length=4000
    )

    def clean_text(self) -> str:
        text = self.cleaned_data["text"].strip()
        if not text:
            raise forms.ValidationError(_("Write the note."), code="required")
        return text


class CloseForm(NoteForm):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Case.Outcome.choices)
    field_order = ("outcome", "text")


class QueueMixin:
    """What flags and cases share as a work queue: "assign to me" and names in place of codes."""

    def has_investigate_permission(self, request) -> bool:
        return request.user.has_perm(_INVESTIGATE)

    @admin.display(description=_("assigned to"), ordering="assignee__last_name")
    def assigned_to(self, obj) -> str:
        return person_name(obj.assignee) or "—"


def _flag_is_unresolved(flag) -> bool:
    return flag.status != Flag.Status.RESOLVED


@admin.register(Flag, site=officer_site)
class FlagAdmin(QueueMixin, ActionsModelAdmin):
    """The queue, oldest high-severity first (``selectors.flag_queue``): filter by status,
    severity, kind, age, assignee and enterprise; take flags, or select them to open a case."""

    list_display = ("id", "kind_label", "severity", "status", "organization", "user", "assigned_to", "count",
                    "first_seen_at", "last_seen_at", "in_case")  # fmt: skip
    list_display_links = ("id", "kind_label")
    list_filter = (
        "status",
        "severity",
        FlagKindFilter,
        AgeFilter,
        AssigneeFilter,
        ("organization", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("kind", "organization__name", "organization__tax_code", "user__username")
    list_select_related = ("organization", "user", "assignee")
    fields = ("kind_label", "severity", "status", "organization", "user", "assigned_to", "explanation",
              "evidence_shown", "count", "first_seen_at", "last_seen_at", "outcome_label")  # fmt: skip
    readonly_fields = fields
    actions = ("assign_to_me", "open_case", "add_to_case")
    object_actions = (
        ObjectAction(
            "take",
            _("Assign to me"),
            _INVESTIGATE,
            lambda flag, actor, data: flags_assign(flags=[flag], assignee=actor, actor=actor),
            form_class=ConfirmForm,
            available=_flag_is_unresolved,
            explanation=_("The flag is yours to work: colleagues see your name on it in the queue."),
        ),
    )

    def get_queryset(self, request):
        return selectors.flag_queue(Flag.objects.all()).prefetch_related("cases")

    def get_ordering(self, request):
        return selectors.FLAG_QUEUE_ORDER

    @admin.display(description=_("kind"), ordering="kind")
    def kind_label(self, obj) -> str:
        return obj.kind_label

    @admin.display(description=_("evidence"))
    def evidence_shown(self, obj) -> str:
        """The evidence in words, and as recorded (``officers.evidence``)."""
        return render_to_string(
            "officers/evidence.html",
            {"entries": evidence_entries(obj.evidence), "raw": evidence_json(obj.evidence)},
        )

    @admin.display(description=_("outcome"))
    def outcome_label(self, obj) -> str:
        return str(Case.Outcome(obj.outcome).label) if obj.outcome in Case.Outcome.values else "—"

    @admin.display(description=_("open case"))
    def in_case(self, obj) -> str:
        return ", ".join(f"#{case.pk}" for case in obj.cases.all() if case.status == Case.Status.OPEN) or "—"

    @admin.action(description=_("Assign the selected flags to me"), permissions=["investigate"])
    def assign_to_me(self, request, queryset):
        try:
            flags_assign(flags=list(queryset), assignee=request.user, actor=request.user)
        except ApplicationError as error:
            self.message_user(request, str(error.detail), level=messages.ERROR)
        else:
            self.message_user(request, gettext("The selected flags are assigned to you."))

    @admin.action(description=_("Open a case with the selected flags"), permissions=["investigate"])
    def open_case(self, request, queryset):
        return bulk_action_form(
            self,
            request,
            queryset,
            action="open_case",
            form_class=CaseOpenForm,
            title=gettext("Open a case"),
            run=lambda flags, data: case_open(
                flags=flags, actor=request.user, title=data["title"], assignee=data["assignee"]
            ),
        )

    @admin.action(description=_("Add the selected flags to an open case"), permissions=["investigate"])
    def add_to_case(self, request, queryset):
        return bulk_action_form(
            self,
            request,
            queryset,
            action="add_to_case",
            form_class=AddToCaseForm,
            title=gettext("Add to a case"),
            run=lambda flags, data: case_flags_add(case=data["case"], flags=flags, actor=request.user),
        )


class CaseNoteInline(admin.TabularInline):
    model = CaseNote
    # Read-only notes as a plain table whose every column has a heading: Django's tabular inline
    # leaves two headings empty, which screen readers announce as nothing (axe: empty-table-header).
    template = "officers/case_notes.html"
    extra = 0
    can_delete = False
    fields = ("created_at", "author", "text")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


def _is_open(case) -> bool:
    return case.status == Case.Status.OPEN


@admin.register(Case, site=officer_site)
class CaseAdmin(QueueMixin, ActionsModelAdmin):
    """Open cases first, the most severe (by their flags) and the oldest first; a case's page shows
    its flags, notes and the timeline of the enterprise concerned (``officers.timeline``)."""

    list_display = ("id", "title", "organization", "severity", "assigned_to", "status", "outcome",
                    "opened_at", "closed_at")  # fmt: skip
    list_filter = ("status", CaseSeverityFilter, CaseAgeFilter, AssigneeFilter, "outcome")
    search_fields = ("title", "organization__name", "organization__tax_code")
    list_select_related = ("organization", "assignee")
    fields = ("title", "organization", "assigned_to", "status", "outcome", "opened_by", "opened_at",
              "closed_at", "flag_links")  # fmt: skip
    readonly_fields = fields
    inlines = (CaseNoteInline,)
    change_form_template = "officers/case_form.html"
    actions = ("assign_to_me", "assign_cases", "close_cases")
    object_actions = (
        ObjectAction(
            "take",
            _("Assign to me"),
            _INVESTIGATE,
            lambda case, actor, data: case_assign(case=case, assignee=actor, actor=actor),
            form_class=ConfirmForm,
            available=_is_open,
        ),
        ObjectAction(
            "assign",
            _("Assign"),
            _INVESTIGATE,
            lambda case, actor, data: case_assign(case=case, assignee=data["assignee"], actor=actor),
            form_class=AssignForm,
            available=_is_open,
        ),
        ObjectAction(
            "note",
            _("Add a note"),
            _INVESTIGATE,
            lambda case, actor, data: case_note_add(case=case, text=data["text"], actor=actor),
            form_class=NoteForm,
        ),
        ObjectAction(
            "close",
            _("Close with an outcome"),
            _INVESTIGATE,
            lambda case, actor, data: case_close(
                case=case, outcome=data["outcome"], note=data["text"], actor=actor
            ),
            form_class=CloseForm,
            available=_is_open,
            explanation=_("Its flags are resolved with the same outcome and the enterprise's owner is told."),
        ),
    )

    def get_queryset(self, request):
        return selectors.case_queue(Case.objects.all())

    def get_ordering(self, request):
        return selectors.CASE_QUEUE_ORDER

    def change_view(self, request, object_id, form_url="", extra_context=None):
        case = self.get_object(request, admin.utils.unquote(object_id))
        extra_context = dict(extra_context or {})
        if case is not None:
            extra_context["timeline"] = case_timeline(case)
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description=_("severity"), ordering="severity_rank")
    def severity(self, obj) -> str:
        ranked = {rank: severity for severity, rank in Flag.SEVERITY_RANK.items()}
        severity = ranked.get(getattr(obj, "severity_rank", None))
        return str(severity.label) if severity else "—"

    @admin.display(description=_("flags"))
    def flag_links(self, obj) -> str:
        return format_html_join(
            ", ",
            '<a href="{}">#{} {} ({})</a>',
            (
                (
                    reverse("officers:audit_flag_change", args=[flag.pk]),
                    flag.pk,
                    flag.kind_label,
                    flag.get_severity_display(),
                )
                for flag in obj.flags.all()
            ),
        )

    @admin.action(description=_("Assign the selected cases to me"), permissions=["investigate"])
    def assign_to_me(self, request, queryset):
        try:
            with transaction.atomic():
                for case in queryset:
                    case_assign(case=case, assignee=request.user, actor=request.user)
        except ApplicationError as error:
            self.message_user(request, str(error.detail), level=messages.ERROR)
        else:
            self.message_user(request, gettext("The selected cases are assigned to you."))

    @admin.action(description=_("Assign the selected cases"), permissions=["investigate"])
    def assign_cases(self, request, queryset):
        return bulk_action_form(
            self,
            request,
            queryset,
            action="assign_cases",
            form_class=AssignForm,
            title=gettext("Assign cases"),
            run=lambda cases, data: [
                case_assign(case=case, assignee=data["assignee"], actor=request.user) for case in cases
            ],
        )

    @admin.action(description=_("Close the selected cases"), permissions=["investigate"])
    def close_cases(self, request, queryset):
        return bulk_action_form(
            self,
            request,
            queryset,
            action="close_cases",
            form_class=CloseForm,
            title=gettext("Close cases"),
            run=lambda cases, data: [
                case_close(case=case, outcome=data["outcome"], note=data["text"], actor=request.user)
                for case in cases
            ],
        )


@admin.register(AuditCheckpoint, site=officer_site)
class AuditCheckpointAdmin(OfficerModelAdmin):
    """Each checkpoint's proof status (DESIGN §8): the log's signature and the witnesses'."""

    list_display = ("sequence", "tree_size", "issued_at", "key_id", "log_signature", "witnesses")
    exclude = ("root_hash", "chain_hash", "prev_checkpoint_hash", "signature")
    readonly_fields = ("root", "log_signature", "witnesses")

    @admin.display(description=_("root"))
    def root(self, obj) -> str:
        return bytes(obj.root_hash).hex()

    @admin.display(description=_("log signature"))
    def log_signature(self, obj) -> str:
        return (
            gettext("valid")
            if audit_selectors.checkpoint_proof_status(obj)["log_signature"]
            else gettext("INVALID")
        )

    @admin.display(description=_("witness co-signatures"))
    def witnesses(self, obj) -> str:
        statuses = audit_selectors.checkpoint_proof_status(obj)["witnesses"]
        return (
            ", ".join(f"{kid}: {gettext('valid') if ok else gettext('INVALID')}" for kid, ok in statuses)
            or "—"
        )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("witness_signatures")


def receipt(request, event_id):
    """An audit event's receipt (event, inclusion proof, signed checkpoint) for offline checking."""
    require_perm(request, "audit.search_signatures")
    event = audit_event_for_reader(user=request.user, event_id=event_id)
    if event is None:
        raise Http404
    try:
        body = audit_receipt_build(
            event=event, disclose_network=audit_network_visible_to(user=request.user, event=event)
        )
    except AuditNotSealed:
        return HttpResponse(
            gettext("The receipt is not ready yet: the event is not sealed. Try again in a minute."),
            status=409,
            content_type="text/plain; charset=utf-8",
        )
    response = JsonResponse(body, json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'attachment; filename="receipt-{event.event_id}.json"'
    return response


officer_site.register_page("receipts/<uuid:event_id>/", receipt, name="receipt")
