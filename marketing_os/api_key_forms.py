"""The API keys page's form: a new key's name, scopes and rate limit (the secret is made
by `save_new_key`, never typed)."""

from django import forms

from marketing_os.models import ApiKey, all_scopes
from marketing_os.user_forms import style


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=ApiKey.Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=all_scopes,
        error_messages={"required": "Choose at least one scope."},
        help_text="What the key may call. Most upstream systems only push (ingest).",
    )

    class Meta:
        model = ApiKey
        fields = ("name", "scopes", "rate_limit_per_minute")
        widgets = {
            "name": forms.TextInput(attrs={"placeholder": "LMS sync", "maxlength": 200}),
            "rate_limit_per_minute": forms.NumberInput(attrs={"min": 0}),
        }
        help_texts = {"name": "Who or what will use the key, to recognise it later."}

    def __init__(self, *args, default_limit: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["rate_limit_per_minute"].help_text = (
            f"Requests a minute. Leave empty for the default ({default_limit or 'unlimited'}"
            f"{'/min' if default_limit else ''}, API_RATE_LIMIT_PER_MINUTE); 0: unlimited."
        )
        self.fields["rate_limit_per_minute"].widget.attrs["placeholder"] = (
            f"default: {default_limit}" if default_limit else "default: unlimited"
        )
        style(self)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the key a name.")
        if len(name) > 200:
            raise forms.ValidationError("At most 200 characters.")
        return name

    def clean_scopes(self) -> list[str]:
        return sorted(set(self.cleaned_data["scopes"]))
