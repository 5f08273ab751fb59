"""Writing the audit entries that are not a model's create/change/delete.

`record` is the one way the project writes its own actions (a run started, a
file uploaded, a customer re-subscribed or erased). The actor comes from
`audit.actors` (the request's user, or the command); callers call it inside
the transaction of what they record, so both commit or neither does.
"""

from datetime import datetime

from django.contrib.contenttypes.models import ContentType
from django.db import models

from audit.models import AuditEntry
from audit.registration import object_repr

Action = AuditEntry.Action


def record(
    obj: models.Model,
    *,
    action: int,
    now: datetime,
    details: dict | None = None,
    changes: dict[str, list] | None = None,
) -> AuditEntry:
    """Record `action` on `obj`: `details` (counts, names of files) must hold no personal data."""
    return AuditEntry.objects.create(
        content_type=ContentType.objects.get_for_model(obj),
        object_pk=str(obj.pk),
        object_id=obj.pk,
        object_repr=object_repr(obj),
        action=action,
        changes=changes,
        additional_data=details or None,
        timestamp=now,
    )
