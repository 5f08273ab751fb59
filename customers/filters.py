"""Search forms of the customer pages (and of any page listing customers).

`CustomerFilter` works on any Customer queryset (the segments pages pass a
segment's members). Every value is validated by the form: a bad date is shown
as a form error and that filter is left out, never a 500.
"""

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

import django_filters
from django import forms
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from customers.models import Customer, CustomerQuerySet

TEXT = {"class": "form-control"}


def day_start(day: date) -> datetime:
    """Midnight at the start of `day` in the server's time zone (TIME_ZONE)."""
    return timezone.make_aware(datetime.combine(day, time.min))


def on_or_after(queryset: QuerySet, name: str, value: date) -> QuerySet:
    # A range on the raw timestamp, not `__date`, so the btree index is used.
    return queryset.filter(**{f"{name}__gte": day_start(value)})


def on_or_before(queryset: QuerySet, name: str, value: date) -> QuerySet:
    if value >= date.max:
        return queryset
    return queryset.filter(**{f"{name}__lt": day_start(value + timedelta(days=1))})


def date_input(
    label: str, method: Callable, *, field_name: str = "created_date"
) -> django_filters.DateFilter:
    """A day of `field_name`; `on_or_after` or `on_or_before` says which end."""
    return django_filters.DateFilter(
        field_name=field_name,
        label=label,
        method=method,
        widget=forms.DateInput(attrs=TEXT | {"type": "date"}, format="%Y-%m-%d"),
    )


def text_input(
    label: str, placeholder: str = "", *, datalist: str = "", **kwargs
) -> django_filters.CharFilter:
    """A free-text filter; `datalist` names a <datalist> of suggestions on the page."""
    attrs = TEXT | ({"placeholder": placeholder} if placeholder else {})
    attrs |= {"list": datalist, "autocomplete": "off"} if datalist else {}
    return django_filters.CharFilter(
        label=label, max_length=200, widget=forms.TextInput(attrs=attrs), **kwargs
    )


def choice_input(label: str | None, choices, *, empty_label: str = "Any", **kwargs):
    """A drop-down of `choices` with `empty_label` first; `label` None: the model field's."""
    return django_filters.ChoiceFilter(
        label=label,
        choices=choices,
        empty_label=empty_label,
        widget=forms.Select(attrs={"class": "form-select"}),
        **kwargs,
    )


class DateRangeForm(forms.Form):
    """Says so when the range is back to front instead of silently finding nothing."""

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("created_from"), data.get("created_to")
        if start and end and start > end:
            first, last = self.fields["created_from"].label, self.fields["created_to"].label
            raise forms.ValidationError(f"“{first}” is after “{last}”.")
        return data


class SearchFilterSet(django_filters.FilterSet):
    @property
    def is_searching(self) -> bool:
        """True when the user has narrowed the list (drives the empty-state text)."""
        if not self.is_bound:
            return False
        self.form.is_valid()  # fills cleaned_data with the fields that are valid
        return any(value not in (None, "") for value in self.form.cleaned_data.values())


class CustomerFilter(SearchFilterSet):
    q = text_input("Search", "Name, email, mobile or LMS lead id", method="search")
    created_from = date_input("Created from", on_or_after)
    created_to = date_input("Created to", on_or_before)
    attribute = text_input("Attribute", "e.g. city", method="attribute_filter")
    value = text_input("Attribute value", "e.g. Pune", method="attribute_filter")
    unsubscribed = choice_input(
        "Email",
        [("yes", "Unsubscribed"), ("no", "Not unsubscribed")],
        method="unsubscribed_filter",
    )

    class Meta:
        model = Customer
        fields: list[str] = []
        form = DateRangeForm

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return as_customers(queryset).search(value)

    def unsubscribed_filter(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        customers = as_customers(queryset)
        if value == "yes":
            return customers.filter(pk__in=SUPPRESSED_CUSTOMERS)
        return customers.exclude(pk__in=SUPPRESSED_CUSTOMERS)

    def attribute_filter(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # Name and value form one condition: apply it once, from whichever field is set.
        data = self.form.cleaned_data
        attribute, wanted = data.get("attribute") or "", data.get("value") or ""
        if name == "value" and attribute:
            return queryset
        return as_customers(queryset).with_attribute(attribute.strip(), wanted.strip())


# The sender's suppression list (automations' `email_suppressions`, addresses lower-cased).
# Named as a table, not imported: customers imports no other app. Small table first,
# then the lower(email) index of customers (migration 0008) for each address.
SUPPRESSED_CUSTOMERS = RawSQL(
    "SELECT c.id FROM email_suppressions s JOIN customers c ON lower(c.email) = s.email", []
)


def as_customers(queryset: QuerySet) -> CustomerQuerySet:
    """The queryset with Customer's search methods, whatever manager it came from."""
    if isinstance(queryset, CustomerQuerySet):
        return queryset
    return Customer.objects.filter(pk__in=queryset.values("pk"))
