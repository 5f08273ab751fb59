from django.apps import AppConfig


class AutomationsConfig(AppConfig):
    name = "automations"

    def ready(self) -> None:
        # customers must not import automations: the Messages panel is registered there.
        from audit.registration import track
        from automations.erasure import erase_sending_data
        from automations.models import Automation
        from automations.run_views import customer_messages
        from automations.unsubscribe_views import subscription_status, subscription_table
        from customers.erasure import register_eraser
        from customers.panels import CustomerPanel, register_panel

        track(
            Automation,
            label="Automation",
            url_name="automations:detail",
            fields=[
                "name",
                "description",
                "customer_segment",
                "message_template",
                "cron",
                "is_active",
                "send_policy",
            ],
        )
        register_eraser("automations", erase_sending_data)
        register_panel(CustomerPanel(key="messages", title="Messages", table=customer_messages))
        register_panel(
            CustomerPanel(
                key="subscription",
                title="Email subscription",
                table=subscription_table,
                above=subscription_status,
            )
        )
