from django.apps import AppConfig


class MarketingOsConfig(AppConfig):
    name = "marketing_os"
    verbose_name = "Marketing OS"
