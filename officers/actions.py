"""The console's own ways of changing state: a form per action (a reason, a file, an assignee…),
then one service call. ``ActionsModelAdmin`` lists the actions on an object's page;
``bulk_action_form`` asks for input before an admin action runs on the selected rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.errors import ApplicationError
from officers.site import OfficerModelAdmin, require_perm


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=2000,
        help_text=_("Recorded in the audit trail and shown to the parties concerned."),
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Give the reason."), code="required")
        return reason


class ConfirmForm(forms.Form):
    pass


@dataclass
class ObjectAction:
    """A console action on one object: a form (a reason, a file…), then one service call.

    ``run(obj, actor, cleaned_data)`` calls the service; ``available(obj)`` hides the action where
    the object's state makes it pointless; ``form_kwargs(obj)`` feeds the form what it offers.
    Domain errors (``ApplicationError``, ``ValidationError``) become form errors and nothing
    changes (each service is one transaction)."""

    name: str
    label: object
    permission: str
    run: Callable
    form_class: type[forms.Form] = ReasonForm
    available: Callable = field(default=lambda obj: True)
    explanation: object = ""
    # Keyword arguments for the form from the object (e.g. the choices a grant offers).
    form_kwargs: Callable = field(default=lambda obj: {})


class ActionsModelAdmin(OfficerModelAdmin):
    """An ``OfficerModelAdmin`` with per-object actions listed on the object's page."""

    object_actions: tuple[ObjectAction, ...] = ()
    change_form_template = "officers/change_form.html"

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/do/<slug:action>/",
                self.admin_site.admin_view(self.object_action_view),
                name="{}_{}_action".format(*info),
            ),
            *super().get_urls(),
        ]

    def actions_for(self, request, obj) -> list[ObjectAction]:
        return [
            action
            for action in self.object_actions
            if request.user.has_perm(action.permission) and action.available(obj)
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, admin.utils.unquote(object_id))
        extra_context = dict(extra_context or {})
        if obj is not None:
            info = self.opts.app_label, self.opts.model_name
            extra_context["object_actions"] = [
                (action.label, reverse("officers:{}_{}_action".format(*info), args=[obj.pk, action.name]))
                for action in self.actions_for(request, obj)
            ]
        return super().change_view(request, object_id, form_url, extra_context)

    def object_action_view(self, request, object_id, action):
        chosen = next((a for a in self.object_actions if a.name == action), None)
        obj = self.get_object(request, admin.utils.unquote(object_id))
        if chosen is None or obj is None:
            raise Http404
        require_perm(request, chosen.permission)
        back = reverse(f"officers:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk])
        posted = request.method == "POST"
        form = chosen.form_class(
            request.POST if posted else None, request.FILES if posted else None, **chosen.form_kwargs(obj)
        )
        if request.method == "POST" and form.is_valid():
            try:
                chosen.run(obj, request.user, form.cleaned_data)
            except ApplicationError as error:
                form.add_error(None, ValidationError(str(error.detail), code=error.code))
            except ValidationError as error:
                form.add_error(None, error)
            else:
                self.message_user(request, gettext("Done: %(action)s.") % {"action": chosen.label})
                return redirect(back)
        context = {
            **self.admin_site.each_context(request),
            "title": chosen.label,
            "object": obj,
            "form": form,
            "back_url": back,
            "explanation": chosen.explanation,
            "opts": self.opts,
        }
        return TemplateResponse(
            request, "officers/reason_form.html", context, status=400 if form.errors else 200
        )


def bulk_action_form(modeladmin, request, queryset, *, action: str, form_class, title, run):
    """An admin action that asks for input first (an assignee, an outcome and note): the first POST
    shows the form for the selected rows; the confirmed POST runs ``run(objects, cleaned_data)`` in
    one transaction, so a refusal leaves every row as it was."""
    objects = list(queryset)
    confirmed = request.POST.get("confirm") == "1"
    form = form_class(request.POST if confirmed else None)
    if confirmed and form.is_valid():
        try:
            with transaction.atomic():
                run(objects, form.cleaned_data)
        except ApplicationError as error:
            form.add_error(None, ValidationError(str(error.detail), code=error.code))
        else:
            modeladmin.message_user(request, gettext("Done: %(action)s.") % {"action": title})
            return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "objects": objects,
        "form": form,
        "action": action,
        "opts": modeladmin.opts,
        "back_url": reverse(f"officers:{modeladmin.opts.app_label}_{modeladmin.opts.model_name}_changelist"),
    }
    return TemplateResponse(request, "officers/bulk_form.html", context, status=400 if form.errors else 200)
