"""The one segment form: its fields follow the chosen type.

Fields of the other types are ignored and cleared on save, so a segment never
carries a stale SQL or handler name it does not use.
"""

from django import forms
from django.core.validators import MaxLengthValidator

from segments.evaluation import check_segment_sql
from segments.handlers import REGISTRY, handler_choices
from segments.models import CustomerSegment, MemberUpload

TYPE_FIELDS = {
    CustomerSegment.Type.MANUAL: ("members_file", "upload_mode"),
    CustomerSegment.Type.SQL: ("selection_sql",),
    CustomerSegment.Type.FUNCTION: ("handler_function",),
}
DEFINITION_FIELDS = ("type", "selection_sql", "handler_function")
MAX_SQL_CHARS = 20_000


class SegmentForm(forms.ModelForm):
    handler_function = forms.ChoiceField(
        label="Handler", required=False, choices=(), widget=forms.RadioSelect
    )
    members_file = forms.FileField(
        label="Members CSV",
        required=False,
        help_text="One column named customer_id, lms_lead_id or email; a header row first.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    upload_mode = forms.ChoiceField(
        label="The uploaded members",
        choices=MemberUpload.Mode.choices,
        initial=MemberUpload.Mode.REPLACE,
        widget=forms.RadioSelect,
        required=False,
    )

    class Meta:
        model = CustomerSegment
        fields = ["name", "type", "description", "selection_sql", "handler_function"]
        labels = {"selection_sql": "SQL", "type": "Type"}
        help_texts = {
            "selection_sql": (
                "One SELECT returning one column of customer ids, over customers, "
                "customer_attributes and funnel_events."
            ),
        }
        widgets = {
            "name": forms.TextInput(attrs={"class": "form-control", "maxlength": 200}),
            "type": forms.RadioSelect,
            "description": forms.Textarea(attrs={"class": "form-control", "rows": 2}),
            "selection_sql": forms.Textarea(
                attrs={"class": "form-control code", "rows": 12, "spellcheck": "false"}
            ),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["handler_function"].choices = handler_choices()
        for name, limit in (("name", 200), ("selection_sql", MAX_SQL_CHARS)):
            self.fields[name].validators.append(MaxLengthValidator(limit))
            self.fields[name].widget.attrs["maxlength"] = limit
        self.sql_problem = None

    def clean_name(self) -> str:
        return self.cleaned_data["name"].strip()

    def clean(self) -> dict:
        data = super().clean()
        kind = data.get("type")
        if kind == CustomerSegment.Type.SQL:
            self.clean_sql(data)
        elif kind == CustomerSegment.Type.FUNCTION:
            if data.get("handler_function") not in REGISTRY:
                self.add_error("handler_function", "Choose one of the registered handlers.")
        elif kind == CustomerSegment.Type.MANUAL and data.get("members_file"):
            data["upload_mode"] = data.get("upload_mode") or MemberUpload.Mode.REPLACE
        return data

    def clean_sql(self, data: dict) -> None:
        if "selection_sql" in self.errors:  # too long: already said so
            return
        sql = data.get("selection_sql") or ""
        if not sql.strip():
            self.add_error("selection_sql", "Write the SELECT that picks this segment's customers.")
            return
        self.sql_problem = check_segment_sql(sql)
        if self.sql_problem:
            where = self.sql_problem.location(sql)
            message = self.sql_problem.message + (f" ({where})" if where else "")
            self.add_error("selection_sql", message)

    @property
    def definition_changed(self) -> bool:
        return not self.instance.pk or any(f in self.changed_data for f in DEFINITION_FIELDS)

    def save(self, commit: bool = True) -> CustomerSegment:
        segment = super().save(commit=False)
        if segment.type != CustomerSegment.Type.SQL:
            segment.selection_sql = None
        if segment.type != CustomerSegment.Type.FUNCTION:
            segment.handler_function = None
        if commit:
            segment.save()
        return segment
