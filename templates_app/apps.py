from django.apps import AppConfig


class TemplatesAppConfig(AppConfig):
    name = "templates_app"
    verbose_name = "Message templates"

    def ready(self) -> None:
        from audit.registration import track
        from templates_app.models import MessageTemplate

        track(
            MessageTemplate,
            label="Template",
            url_name="templates_app:detail",
            fields=["name", "type", "templating_type", "subject", "message"],
        )
