import django_filters
from django import forms

from customers.filters import choice_input
from templates_app.models import MessageTemplate


class MessageTemplateFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="search",
        label="Search",
        widget=forms.TextInput(attrs={"placeholder": "Name", "class": "form-control"}),
    )
    type = choice_input(None, MessageTemplate.Type.choices, empty_label="Any type")

    class Meta:
        model = MessageTemplate
        fields = ["q", "type"]

    def search(self, queryset, name: str, value: str):
        return queryset.search(value)
