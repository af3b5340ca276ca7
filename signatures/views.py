from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from accounts.reauth import reauthentication_required, reauthentication_required_for_changes
from accounts.services.organizations import organization_signature_notice_set
from core.errors import ApplicationError
from core.pagination import UncountedPage
from signatures import selectors
from signatures.forms import (
    AbuseReportForm,
    CertificateUploadForm,
    CustodiansForm,
    DeclarationForm,
    ProofForm,
    ReasonForm,
    SignatureNoticeForm,
)
from signatures.models import Certificate
from signatures.pkcs11_modules import PKCS11_MODULES
from signatures.refusal_limit import REFUSALS, filer_of
from signatures.services import binding, lifecycle, misuse, signing


def _certificate_or_404(request, pk: int) -> Certificate:
    certificate = selectors.certificate_for_viewer(viewer=request.user, pk=pk)
    if certificate is None:
        raise Http404
    return certificate


@login_required
def certificate_list(request):
    return render(
        request,
        "signatures/certificate_list.html",
        {"certificates": selectors.certificate_list(viewer=request.user)},
    )


@sensitive_post_parameters("signer_id_number")
@login_required
@reauthentication_required
@require_http_methods(["GET", "POST"])
def certificate_upload(request):
    form = CertificateUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data["certificate"].read(settings.MAX_CERT_UPLOAD_BYTES + 1)
        try:
            certificate = binding.certificate_upload(
                actor=request.user,
                data=data,
                signer_name=form.cleaned_data["signer_name"],
                signer_id_number=form.cleaned_data["signer_id_number"],
                signer_title=form.cleaned_data["signer_title"],
            )
        except ApplicationError as error:
            form.add_error("certificate" if error.code.startswith("certificate") else None, error.detail)
            form.error_code = error.code
            status = error.status_code
        else:
            return redirect("certificate_proof", pk=certificate.pk)
    else:
        status = 400 if form.errors else 200
    return render(request, "signatures/certificate_upload.html", {"form": form}, status=status)


def _signing_help(request) -> dict:
    """What the pages' csg-sign commands are filled in with: this site's address and where CAs'
    token drivers usually put their PKCS#11 library."""
    return {"site": request.build_absolute_uri("/").rstrip("/"), "pkcs11_modules": PKCS11_MODULES}


@login_required
@require_http_methods(["GET", "POST"])
def certificate_proof(request, pk: int):
    certificate = _certificate_or_404(request, pk)
    if certificate.status != Certificate.Status.PENDING_PROOF:
        return redirect("certificate_detail", pk=certificate.pk)
    form = ProofForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            binding.certificate_prove(
                certificate=certificate,
                proof=form.cleaned_data["proof"].read(1024 * 1024 + 1),
                actor=request.user,
            )
        except ApplicationError as error:
            form.add_error("proof", error.detail)
            status = error.status_code
        else:
            messages.success(request, _("The certificate is bound to your enterprise."))
            return redirect("certificate_detail", pk=certificate.pk)
    elif form.errors:
        status = 400
    return render(
        request,
        "signatures/certificate_proof.html",
        {"certificate": certificate, "form": form, **_signing_help(request)},
        status=status,
    )


@login_required
def certificate_challenge(request, pk: int):
    """The challenge as a file, byte for byte what must be signed."""
    certificate = _certificate_or_404(request, pk)
    if certificate.status != Certificate.Status.PENDING_PROOF:
        raise Http404
    response = HttpResponse(
        certificate.challenge.encode("ascii"), content_type="text/plain; charset=us-ascii"
    )
    response["Content-Disposition"] = 'attachment; filename="challenge.txt"'
    return response


@login_required
@reauthentication_required_for_changes
@require_http_methods(["GET", "POST"])
def certificate_detail(request, pk: int):
    """One certificate: its custodians (managers change them here) and links to the pages that
    suspend or revoke it, each of which asks for a reason and says what will happen first."""
    certificate = _certificate_or_404(request, pk)
    may_manage = request.user.is_manager
    custodians_form = CustodiansForm(
        request.POST if request.POST.get("action") == "custodians" else None,
        organization=certificate.organization,
        initial={"custodians": list(certificate.custodians.all())},
    )
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "custodians" and custodians_form.is_valid():
                binding.custodians_set(
                    certificate=certificate,
                    users=list(custodians_form.cleaned_data["custodians"]),
                    actor=request.user,
                )
                messages.success(request, _("The custodians are saved."))
            elif action == "reinstate":
                lifecycle.certificate_reinstate(certificate=certificate, actor=request.user)
                messages.success(request, _("The certificate is active again."))
            else:
                status = 400
        except ApplicationError as error:
            messages.error(request, error.detail)
            status = error.status_code
        if status == 200:
            return redirect("certificate_detail", pk=certificate.pk)
    return render(
        request,
        "signatures/certificate_detail.html",
        {
            "certificate": certificate,
            "may_manage": may_manage,
            "custodians_form": custodians_form,
            "status_changes": certificate_status_changes(certificate) if may_manage else [],
        },
        status=status,
    )


def certificate_status_changes(certificate: Certificate) -> list[str]:
    """Which of suspend and revoke the certificate's state allows (the services check it again)."""
    changes = ["suspend"] if certificate.status == Certificate.Status.ACTIVE else []
    if certificate.status in (
        Certificate.Status.ACTIVE,
        Certificate.Status.SUSPENDED,
        Certificate.Status.PENDING_PROOF,
    ):
        changes.append("revoke")
    return changes


@login_required
@reauthentication_required_for_changes
@require_http_methods(["GET", "POST"])
def certificate_status_change(request, pk: int):
    """Suspend (until reinstated) or revoke (for good) a certificate: the GET page says what will
    happen and asks for the reason; its POST makes the change."""
    certificate = _certificate_or_404(request, pk)
    change = (request.POST if request.method == "POST" else request.GET).get("action", "")
    if not request.user.is_manager or change not in certificate_status_changes(certificate):
        raise Http404
    form = ReasonForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        service = lifecycle.certificate_suspend if change == "suspend" else lifecycle.certificate_revoke
        try:
            service(certificate=certificate, actor=request.user, reason=form.cleaned_data["reason"])
        except ApplicationError as error:
            form.add_error(None, error.detail)
            status = error.status_code
        else:
            suspended = change == "suspend"
            messages.success(
                request, _("The certificate is suspended.") if suspended else _("The certificate is revoked.")
            )
            return redirect("certificate_detail", pk=certificate.pk)
    elif form.errors:
        status = 400
    return render(
        request,
        "signatures/certificate_status_change.html",
        {"certificate": certificate, "change": change, "form": form},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def abuse_report(request):
    if request.user.organization_id is None:
        raise Http404
    form = AbuseReportForm(
        request.POST or None,
        organization=request.user.organization,
        certificates=selectors.certificate_list(viewer=request.user).filter(status=Certificate.Status.ACTIVE),
    )
    confirmed = request.POST.get("confirmed") == "yes" and "change" not in request.POST
    if request.method == "POST" and "change" not in request.POST and form.is_valid() and not confirmed:
        # Check your answers: a report suspends certificates and signs a colleague out at once.
        to_suspend = list(form.cleaned_data["certificates"]) or list(form.fields["certificates"].queryset)
        return render(
            request,
            "signatures/abuse_report_check.html",
            {"form": form, "answers": form.cleaned_data, "to_suspend": to_suspend},
        )
    if request.method == "POST" and confirmed and form.is_valid():
        chosen = list(form.cleaned_data["certificates"]) or None
        misuse.abuse_report(
            reporter=request.user,
            description=form.cleaned_data["description"],
            reported_user=form.cleaned_data["reported_user"],
            certificates=chosen,
        )
        messages.success(
            request,
            _("Thank you. The certificates are suspended, customs is told, and an officer will follow up."),
        )
        return redirect("certificate_list")
    status = 400 if form.errors and "change" not in request.POST else 200
    return render(request, "signatures/abuse_report.html", {"form": form}, status=status)


@login_required
def declaration_list(request):
    """Every signature attempt made in the enterprise's name or by it, accepted or refused, with who
    signed, the agent, broker, mandate, certificate and representation."""
    page = UncountedPage(selectors.SignatureHistory(viewer=request.user), request.GET.get("page"), 50)
    organization = request.user.organization
    notice_form = None
    if organization is not None and organization.kind == organization.Kind.TRADER and request.user.is_manager:
        notice_form = SignatureNoticeForm(initial={"notice": organization.signature_notice})
    return render(
        request,
        "signatures/declarations.html",
        {"page": page, "notice_form": notice_form},
    )


@login_required
@reauthentication_required
@require_http_methods(["POST"])
def signature_notice(request):
    form = SignatureNoticeForm(request.POST)
    if not form.is_valid() or request.user.organization is None:
        messages.error(request, _("Choose one of the offered settings."))
        return redirect("declaration_list")
    try:
        organization_signature_notice_set(
            organization=request.user.organization, notice=form.cleaned_data["notice"], actor=request.user
        )
    except ApplicationError as error:
        messages.error(request, error.detail)
        return redirect("declaration_list")
    messages.success(request, _("Saved: this is how you will be told of signatures in your name."))
    return redirect("declaration_list")


@login_required
@reauthentication_required
@require_http_methods(["GET", "POST"])
def declaration_sign(request):
    initial = {"trader_tax_code": request.user.organization.tax_code if request.user.organization else ""}
    form = DeclarationForm(request.POST or None, request.FILES or None, initial=initial)
    status = 200
    wait = REFUSALS.wait(filer_of(request)) if request.method == "POST" else None
    if wait is not None:
        form.is_valid()  # the fields' own errors are shown too
        form.add_error(
            None,
            _("Too many filings were refused in the last minute. Wait %(seconds)d seconds and try again.")
            % {"seconds": wait},
        )
        status = 429
    elif request.method == "POST" and form.is_valid():
        record = signing.declaration_sign(
            actor=request.user,
            number=form.cleaned_data["number"],
            kind=form.cleaned_data["kind"],
            trader_tax_code=form.cleaned_data["trader_tax_code"],
            representation="",
            document=form.cleaned_data["document"].read(signing.MAX_DOCUMENT_BYTES + 1),
            signature=form.cleaned_data["signature"].read(1024 * 1024 + 1),
            channel="portal",
        )
        if record.outcome == record.Outcome.ACCEPTED:
            messages.success(request, _("The declaration is filed and its signature recorded."))
            return redirect("declaration_list")
        REFUSALS.count(filer_of(request))
        form.add_error(None, record.refusal.message)
        status = record.refusal.status_code
    elif form.errors:
        status = 400
    return render(
        request, "signatures/declaration_sign.html", {"form": form, **_signing_help(request)}, status=status
    )
