from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "customers"

    def ready(self) -> None:
        from audit.registration import describe
        from customers.models import Customer, ImportJob

        # Customers appear only in entries the project writes (re-subscribed, erased),
        # by id: a name or address in the trail would outlive an erasure.
        describe(Customer, label="Customer", url_name="customers:detail", personal=True)
        describe(ImportJob, label="Import", url_name="imports:detail")
