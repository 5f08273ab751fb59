"""Which models the audit trail knows: how to name, link and track each.

Apps call these from their `AppConfig.ready()` (audit imports no app):

- `track(model, fields=[…])`: auditlog records every create, change and delete
  of `model` made through `save()`/`delete()` (ModelForms, workflows, the
  admin), with before → after of the listed fields only. Set-wise writes
  (`QuerySet.update`, `bulk_create`, raw SQL: bulk ingest, evaluation
  counters) send no signals and so write no entries.
- `describe(model)`: the model only appears in entries the project records
  itself (`audit.recording.record`), e.g. customers (re-subscribed, erased).
  `personal=True` keeps the object's name out of the trail ("Customer 17").
"""

from dataclasses import dataclass

from auditlog.registry import auditlog
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class Audited:
    label: str  # "Segment": the /audit/ type filter and the entries' object column
    url_name: str  # the object's page, reversed with its id
    personal: bool = False  # str(obj) names a person: entries say "<label> <id>" instead
    perms: tuple[str, ...] = ()  # the object's page needs one of these (none: every role)


AUDITED: dict[str, Audited] = {}  # by model label ("segments.customersegment")


def describe(
    model: type[models.Model],
    *,
    label: str,
    url_name: str,
    personal: bool = False,
    perms: tuple[str, ...] = (),
) -> None:
    AUDITED[model._meta.label_lower] = Audited(
        label=label, url_name=url_name, personal=personal, perms=perms
    )


def track(
    model: type[models.Model],
    *,
    label: str,
    url_name: str,
    fields: list[str],
    perms: tuple[str, ...] = (),
) -> None:
    describe(model, label=label, url_name=url_name, perms=perms)
    auditlog.register(model, include_fields=fields)


def audited(content_type_id: int) -> Audited | None:
    content_type = ContentType.objects.get_for_id(content_type_id)  # cached after the first
    return AUDITED.get(f"{content_type.app_label}.{content_type.model}")


def object_repr(obj: models.Model) -> str:
    entry = AUDITED.get(obj._meta.label_lower)
    if entry and entry.personal:
        return f"{entry.label} {obj.pk}"
    return str(obj)


def object_url(content_type_id: int, object_id: int | None, *, user) -> str:
    """The object's page, or "" when there is none or `user` may not open it."""
    entry = audited(content_type_id)
    if entry is None or object_id is None:
        return ""
    if entry.perms and not any(user.has_perm(perm) for perm in entry.perms):
        return ""
    try:
        return reverse(entry.url_name, args=[object_id])
    except NoReverseMatch:
        return ""


def type_choices() -> list[tuple[str, str]]:
    return sorted(((key, entry.label) for key, entry in AUDITED.items()), key=lambda c: c[1])


def field_label(content_type_id: int, name: str) -> str:
    """The field's verbose name ("selection sql"), or the name when the model has no such field."""
    model = ContentType.objects.get_for_id(content_type_id).model_class()
    try:
        return str(model._meta.get_field(name).verbose_name) if model else name
    except FieldDoesNotExist:  # not a model field, or one removed since
        return name.replace("_", " ")
