import django_tables2 as tables

from templates_app.models import MessageTemplate


class MessageTemplateTable(tables.Table):
    name = tables.Column(linkify=True)
    subject = tables.Column(orderable=False)
    updated_date = tables.DateTimeColumn(verbose_name="Last changed", format="Y-m-d H:i")

    class Meta:
        model = MessageTemplate
        fields = ["name", "type", "subject", "updated_date"]
        order_by = ["name"]
        attrs = {"class": "table table-hover align-middle"}
        empty_text = "No templates match."
