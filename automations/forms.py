import json

from django import forms
from django.urls import reverse

from automations.models import Automation, SendPolicy
from automations.scheduling import (
    FIELDS,
    MONTH_NAMES,
    WEEKDAY,
    WEEKDAY_NAMES,
    CronError,
    advanced_state,
    builder_state,
    validate_cron,
)

PRESETS = [
    ("minutes", "Every N minutes"),
    ("hourly", "Every hour"),
    ("daily", "Every day"),
    ("weekly", "Every week, on chosen days"),
    ("monthly", "Every month, on one day"),
]
KINDS = [("every", "Every"), ("step", "Every N"), ("values", "Specific values"), ("range", "Range")]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]  # fmt: skip
WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]


class CronBuilderWidget(forms.TextInput):
    """The cron expression as text, with a builder that writes and reads it.

    Only the text input is submitted; the builder controls have no `name` that
    a form reads. Without JavaScript the builder stays hidden and the text
    field works alone. cron_builder.js fills the controls from `data-state` and
    asks `automations:cron_preview` for the description and next runs.
    """

    template_name = "automations/widgets/cron_builder.html"

    class Media:
        css = {"all": ["automations/cron_builder.css"]}
        js = ["automations/cron_builder.js"]

    def get_context(self, name: str, value: object, attrs: dict | None) -> dict:
        context = super().get_context(name, value, attrs)
        expression = str(value or "")
        context["builder"] = {
            "state": json.dumps(
                {"builder": builder_state(expression), "advanced": advanced_state(expression)}
            ),
            "preview_url": reverse("automations:cron_preview"),
            "presets": PRESETS,
            "kinds": KINDS,
            "weekdays": [(day % 7, WEEKDAYS[day % 7]) for day in range(1, 8)],
            "fields": [_field_choices(field) for field in FIELDS],
        }
        return context


def _field_choices(field) -> dict:
    top = 6 if field is WEEKDAY else field.high
    values = range(field.low, top + 1)
    if field.names is MONTH_NAMES:
        options = [(v, f"{v} – {MONTHS[v - 1]}") for v in values]
    elif field.names is WEEKDAY_NAMES:
        options = [(v, f"{v} – {WEEKDAYS[v]}") for v in values]
    else:
        options = [(v, str(v)) for v in values]
    return {"key": field.key, "label": field.label, "options": options, "high": field.high}


class CronField(forms.CharField):
    """A five-field cron expression, validated like the cron that runs it."""

    widget = CronBuilderWidget

    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("max_length", 100)
        kwargs.setdefault("help_text", "Five fields: minute hour day-of-month month day-of-week.")
        super().__init__(**kwargs)

    def clean(self, value: object) -> str:
        value = super().clean(value)
        if not value:
            return value
        try:
            return validate_cron(value)
        except CronError as error:
            raise forms.ValidationError(str(error), code="invalid_cron") from None


class LabelledChoiceField(forms.ModelChoiceField):
    """A segment or template choice that shows each option's type."""

    def label_from_instance(self, obj: object) -> str:
        return f"{obj.name} ({obj.get_type_display()})"


class AutomationForm(forms.ModelForm):
    cron = CronField(label="Schedule (cron)")

    def clean_send_policy(self) -> str:
        return self.cleaned_data.get("send_policy") or SendPolicy.EVERY_RUN

    class Meta:
        model = Automation
        fields = [
            "name",
            "description",
            "customer_segment",
            "message_template",
            "cron",
            "send_policy",
            "is_active",
        ]
        field_classes = {
            "customer_segment": LabelledChoiceField,
            "message_template": LabelledChoiceField,
        }
        labels = {"customer_segment": "Customer segment", "message_template": "Message template"}
        widgets = {
            "name": forms.TextInput(attrs={"class": "form-control"}),
            "description": forms.Textarea(attrs={"class": "form-control", "rows": 2}),
            "customer_segment": forms.Select(attrs={"class": "form-select", "data-filterable": ""}),
            "message_template": forms.Select(attrs={"class": "form-select", "data-filterable": ""}),
            "send_policy": forms.Select(attrs={"class": "form-select"}),
            "is_active": forms.CheckboxInput(attrs={"class": "form-check-input"}),
        }
        help_texts = {"is_active": "Inactive automations stay saved but are not in the crontab."}

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["send_policy"].required = False  # absent means the default: every run
        self.fields["customer_segment"].queryset = self.fields[
            "customer_segment"
        ].queryset.order_by("name")
        self.fields["message_template"].queryset = self.fields[
            "message_template"
        ].queryset.order_by("name")


class ResubscribeForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        strip=True,
        widget=forms.TextInput(
            attrs={"class": "form-control", "placeholder": "e.g. asked by phone"}
        ),
        help_text="Recorded with your name and the time.",
    )
