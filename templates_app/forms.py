from django import forms

from templates_app.models import MessageTemplate
from templates_app.rendering import check_template, normalise_newlines


class MessageTemplateForm(forms.ModelForm):
    """Name, type, subject and message; a template that does not parse is refused."""

    class Meta:
        model = MessageTemplate
        fields = ["name", "type", "subject", "message"]
        widgets = {
            "name": forms.TextInput(attrs={"class": "form-control"}),
            "type": forms.Select(attrs={"class": "form-select"}),
            "subject": forms.TextInput(attrs={"class": "form-control code"}),
            "message": forms.Textarea(
                attrs={"class": "form-control code", "rows": 28, "spellcheck": "false"}
            ),
        }
        help_texts = {
            "subject": "Liquid, e.g. {{ customer.first_name }}, your course starts soon. "
            "Not used for WhatsApp.",
            "message": "Email: MJML with Liquid. WhatsApp: plain text with Liquid.",
        }

    def clean_message(self) -> str:
        return normalise_newlines(self.cleaned_data["message"])

    def clean(self) -> dict:
        data = super().clean()
        if self.errors:
            return data
        if data.get("type") == MessageTemplate.Type.EMAIL and not data.get("subject", "").strip():
            self.add_error("subject", "An email needs a subject.")
        for error in check_template(
            type=data["type"], subject=data.get("subject", ""), message=data.get("message", "")
        ):
            where = f"Line {error.line}: " if error.line else ""
            self.add_error(error.field, f"{where}{error.message}")
        return data


class TestSendForm(forms.Form):
    to = forms.EmailField(
        label="Send a test to",
        widget=forms.EmailInput(attrs={"class": "form-control", "placeholder": "you@example.com"}),
    )
    customer = forms.CharField(required=False, widget=forms.HiddenInput)
