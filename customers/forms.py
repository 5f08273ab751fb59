from django import forms

from customers.csv_import import KINDS


def kind_choices() -> list[tuple[str, str]]:
    return [(kind.name, kind.label) for kind in KINDS.values()]


class ImportForm(forms.Form):
    """A CSV file and what it holds. The file's content is checked by the import."""

    kind = forms.ChoiceField(choices=kind_choices, widget=forms.RadioSelect, label="The file holds")
    file = forms.FileField(
        label="CSV file",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
        help_text="UTF-8, comma-separated, with a header row.",
    )
