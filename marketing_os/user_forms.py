"""The users page's forms: a new user (with role and password), a user's role and active flag."""

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.models import AbstractUser

from marketing_os import roles

NO_ROLE = "No role — signs in but sees only the “no role yet” page"
NOT_YOURSELF_ROLE = "You cannot take away your own admin role: ask another admin to do it."
NOT_YOURSELF_ACTIVE = "You cannot deactivate your own account: ask another admin to do it."


def style(form: forms.BaseForm) -> None:
    """Bootstrap classes on the widgets (the radios are laid out by the template)."""
    for field in form.fields.values():
        if isinstance(field.widget, forms.CheckboxInput | forms.RadioSelect):
            field.widget.attrs["class"] = "form-check-input"
        else:
            field.widget.attrs["class"] = "form-control"


def role_field() -> forms.TypedChoiceField:
    choices = [("", NO_ROLE)] + [
        (role.name, f"{role.name} — {role.summary}") for role in roles.ROLES
    ]
    return forms.TypedChoiceField(
        choices=choices,
        coerce=roles.BY_NAME.get,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
        help_text="The roles are cumulative: a marketer can do all a viewer can, and so on.",
    )


class UserCreateForm(UserCreationForm):
    """Username, email, role and a password checked by AUTH_PASSWORD_VALIDATORS."""

    role = role_field()

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].required = True
        self.initial.setdefault("role", roles.MARKETER.name)
        style(self)


class UserAccessForm(forms.ModelForm):
    """A user's role and whether they may sign in; `editor` may not lock themselves out."""

    role = role_field()

    class Meta:
        model = get_user_model()
        fields = ("is_active",)
        labels = {"is_active": "Active (may sign in)"}
        help_texts = {"is_active": "Deactivating ends the user's sessions at their next click."}

    def __init__(self, *args, editor: AbstractUser, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.editor = editor
        role = roles.role_of(self.instance)
        self.initial.setdefault("role", role.name if role else "")
        style(self)

    def clean(self) -> dict:
        data = super().clean()
        if self.instance.pk == self.editor.pk:
            if "role" in data and data["role"] is not roles.ADMIN:
                self.add_error("role", NOT_YOURSELF_ROLE)
            if data.get("is_active") is False:
                self.add_error("is_active", NOT_YOURSELF_ACTIVE)
        return data
