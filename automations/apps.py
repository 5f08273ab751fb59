from django.apps import AppConfig


class AutomationsConfig(AppConfig):
    name = "automations"

    def ready(self) -> None:
        # customers must not import automations: the Messages panel is registered there.
        from automations.run_views import customer_messages
        from automations.unsubscribe_views import subscription_status, subscription_table
        from customers.panels import CustomerPanel, register_panel

        register_panel(CustomerPanel(key="messages", title="Messages", table=customer_messages))
        register_panel(
            CustomerPanel(
                key="subscription",
                title="Email subscription",
                table=subscription_table,
                above=subscription_status,
            )
        )
