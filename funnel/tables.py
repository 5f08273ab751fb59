import django_tables2 as tables

from customers.tables import CustomerEventTable, link_to_customer


class FunnelEventTable(CustomerEventTable):
    """Funnel events of every customer: the customer's table plus who it was.

    The queryset must `select_related("customer")`.
    """

    customer = tables.Column(orderable=False)
    lms_lead_id = tables.Column(
        verbose_name="LMS lead id", accessor="customer__lms_lead_id", orderable=False
    )

    class Meta(CustomerEventTable.Meta):
        sequence = ("created", "customer", "lms_lead_id", "funnel", "move")
        empty_text = "No funnel events."

    def render_customer(self, value) -> str:
        return link_to_customer(value)
