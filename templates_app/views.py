from csp.decorators import csp
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_tables2 import RequestConfig

from audit.history import history_table
from marketing_os import roles
from marketing_os.access import requires
from marketing_os.deleting import delete_page
from marketing_os.pagination import PAGINATE
from templates_app import mailer
from templates_app.filters import MessageTemplateFilter
from templates_app.forms import MessageTemplateForm, TestSendForm
from templates_app.models import MessageTemplate
from templates_app.previews import (
    BUILT_IN,
    choose_sample,
    find_customers,
    preview,
    preview_document,
    send_test_email,
)
from templates_app.rendering import RenderError, TemplateSyntaxError
from templates_app.tables import MessageTemplateTable

# The preview frame shows marketer-written HTML: its own strict policy (no
# scripts, no requests but images and fonts; a sandbox even when opened alone),
# and it may only be framed by our own pages.
PREVIEW_CSP = {
    "default-src": "'none'",
    "style-src": ["'unsafe-inline'", "https:"],  # https: for <mj-font> stylesheets
    "img-src": ["https:", "http:", "data:"],
    "font-src": ["https:", "data:"],
    "frame-ancestors": "'self'",
    "sandbox": "",
}
# The editor's helpers (live preview, checks, sample customers) serve the new and edit pages.
EDITOR = (roles.CHANGE_TEMPLATE, roles.ADD_TEMPLATE)


def template_list(request: HttpRequest) -> HttpResponse:
    filterset = MessageTemplateFilter(request.GET, queryset=MessageTemplate.objects.all())
    table = MessageTemplateTable(filterset.qs)
    RequestConfig(request, paginate=PAGINATE).configure(table)
    return render(
        request,
        "templates_app/messagetemplate_list.html",
        {"filter": filterset, "table": table, "title": "Templates"},
    )


def template_detail(request: HttpRequest, pk: int) -> HttpResponse:
    template = get_object_or_404(MessageTemplate, pk=pk)
    sample = choose_sample(request.GET.get("customer"))
    context = {
        "template": template,
        "sample": sample,
        "preview": preview(template, sample),
        "customer_q": request.GET.get("customer_q", ""),
        "found": find_customers(request.GET.get("customer_q", "")),
        "send_form": TestSendForm(initial={"customer": sample.key}),
        "missing_settings": mailer.missing_settings(),
        "history": history_table(request, template),
    }
    return render(request, "templates_app/messagetemplate_detail.html", context)


NEW_MESSAGE = """<mjml>
  <mj-body background-color="#f3f4f6">
    <mj-section background-color="#ffffff" padding="24px">
      <mj-column>
        <mj-text font-size="16px">Hi {{ customer.first_name | default: "there" }},</mj-text>
        <mj-text font-size="16px">Write your message here.</mj-text>
        <mj-text font-size="12px" color="#6b7280">
          <a href="{{ unsubscribe_url }}">Unsubscribe</a>
        </mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>
"""


@requires(roles.ADD_TEMPLATE)
def template_create(request: HttpRequest) -> HttpResponse:
    form = MessageTemplateForm(request.POST or None, initial={"message": NEW_MESSAGE})
    if request.method == "POST" and form.is_valid():
        template = form.save()
        messages.success(request, f"Template “{template.name}” created.")
        return _to_detail(template, sample_key=request.POST.get("customer"))
    return _form_page(request, form, template=None)


@requires(roles.CHANGE_TEMPLATE)
def template_edit(request: HttpRequest, pk: int) -> HttpResponse:
    template = get_object_or_404(MessageTemplate, pk=pk)
    form = MessageTemplateForm(request.POST or None, instance=template)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"Template “{template.name}” saved.")
        return _to_detail(template, sample_key=request.POST.get("customer"))
    return _form_page(request, form, template=template)


def _form_page(request: HttpRequest, form: MessageTemplateForm, *, template) -> HttpResponse:
    sample = choose_sample(request.GET.get("customer"))
    draft = MessageTemplate(
        type=form["type"].value() or "email",
        subject=form["subject"].value() or "",
        message=form["message"].value() or "",
    )
    context = {"form": form, "template": template, "sample": sample}
    context["preview"] = preview(draft, sample)
    return render(request, "templates_app/messagetemplate_form.html", context)


@require_GET
@xframe_options_sameorigin
@csp(PREVIEW_CSP)
def template_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The saved template rendered for a sample customer: the preview frame's page."""
    template = get_object_or_404(MessageTemplate, pk=pk)
    return HttpResponse(preview_document(template, choose_sample(request.GET.get("customer"))))


@requires(*EDITOR)
@require_POST
@xframe_options_sameorigin
@csp(PREVIEW_CSP)
def draft_preview(request: HttpRequest) -> HttpResponse:
    """An unsaved draft rendered for a sample customer (the editor posts it into the frame)."""
    draft = _draft(request)
    return HttpResponse(preview_document(draft, choose_sample(request.POST.get("customer"))))


@requires(*EDITOR)
@require_POST
def draft_check(request: HttpRequest) -> JsonResponse:
    """What the editor shows beside the frame: subject, problems, variables used."""
    sample = choose_sample(request.POST.get("customer"))
    result = preview(_draft(request), sample)
    rendered = result.rendered
    return JsonResponse(
        {
            "subject": rendered.subject if rendered else "",
            "text": rendered.text if rendered else "",
            "errors": result.errors,
            "variables": [{"name": v, "missing": v in result.missing} for v in result.variables],
            "sample": sample.label,
        }
    )


@requires(*EDITOR)
@require_GET
def sample_customers(request: HttpRequest) -> JsonResponse:
    found = find_customers(request.GET.get("q", ""))
    return JsonResponse(
        {"customers": [{"id": c.pk, "label": f"{c} <{c.email or 'no email'}>"} for c in found]}
    )


@requires(roles.SEND_TEST_MESSAGE)
@require_POST
def template_test_send(request: HttpRequest, pk: int) -> HttpResponse:
    template = get_object_or_404(MessageTemplate, pk=pk)
    form = TestSendForm(request.POST)
    sample = choose_sample(request.POST.get("customer"))
    if not form.is_valid():
        messages.error(request, "Test email not sent: type a valid email address.")
    elif not template.is_email:
        messages.error(request, "WhatsApp templates cannot be sent yet.")
    else:
        _send_test(request, template, to=form.cleaned_data["to"], sample=sample)
    return _to_detail(template, sample_key=sample.key)


def _to_detail(template: MessageTemplate, *, sample_key: str | None) -> HttpResponse:
    """The template's page, still previewing the sample customer the marketer chose."""
    if sample_key and (sample_key.isdigit() or sample_key == BUILT_IN):
        return redirect(f"{template.get_absolute_url()}?customer={sample_key}")
    return redirect(template)


def _send_test(request: HttpRequest, template: MessageTemplate, *, to: str, sample) -> None:
    try:
        resend_id = send_test_email(template, to=to, sample=sample)
    except (mailer.MailerNotConfigured, mailer.SendError, TemplateSyntaxError, RenderError) as e:
        messages.error(request, f"Test email not sent: {e}")
        return
    messages.success(request, f"Test email to {to} accepted by Resend (id {resend_id}).")


def _draft(request: HttpRequest) -> MessageTemplate:
    return MessageTemplate(
        type=request.POST.get("type") or "email",
        subject=request.POST.get("subject", ""),
        message=request.POST.get("message", ""),
    )


@requires(roles.DELETE_TEMPLATE)
@require_http_methods(["GET", "POST"])
def template_delete(request: HttpRequest, pk: int) -> HttpResponse:
    template = get_object_or_404(MessageTemplate, pk=pk)
    list_url = reverse("templates_app:list")
    return delete_page(request, template, detail_url=template.get_absolute_url(), list_url=list_url)
