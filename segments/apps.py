from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    name = "segments"

    def ready(self) -> None:
        from audit.registration import track
        from segments.models import CustomerSegment

        track(
            CustomerSegment,
            label="Segment",
            url_name="segments:detail",
            fields=["name", "type", "description", "selection_sql", "handler_function"],
        )
