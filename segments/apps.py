from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    name = "segments"

    def ready(self) -> None:
        from audit.registration import track
        from customers.erasure import register_eraser
        from segments.erasure import erase_segment_data
        from segments.models import CustomerSegment

        track(
            CustomerSegment,
            label="Segment",
            url_name="segments:detail",
            fields=["name", "type", "description", "selection_sql", "handler_function"],
        )
        # customers must not import segments: the erasure reaches segment data through this.
        register_eraser("segments", erase_segment_data)
