from django.apps import AppConfig


class FunnelConfig(AppConfig):
    name = "funnel"
    verbose_name = "Funnel events"

    def ready(self) -> None:
        # customers must not import funnel, so funnel registers its CSV kind there.
        from customers.csv_import import ImportKind, register_kind
        from funnel.ingest import ingest_events

        register_kind(
            ImportKind(
                name="events",
                label="Funnel events",
                ingest=ingest_events,
                required=("lms_lead_id", "funnel_type", "from_stage", "to_stage"),
                optional=("created_date",),
                columns=(
                    ("lms_lead_id", "required: an existing customer"),
                    ("funnel_type", "sales or service-delivery"),
                    ("from_stage", "the stage left; empty when the customer enters the funnel"),
                    ("to_stage", "required: the stage reached"),
                    (
                        "created_date",
                        "optional: ISO 8601 (UTC when no zone), e.g. 2026-11-24T09:30:00Z",
                    ),
                ),
                example="lms_lead_id,funnel_type,from_stage,to_stage,created_date\n"
                "LMS-1001,sales,,lead,2026-11-20T10:00:00Z\n"
                "LMS-1001,sales,lead,contacted,\n",
            )
        )
