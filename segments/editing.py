"""Saving a segment from its form: the definition, a member upload, a first count."""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from segments.evaluation import SegmentError, evaluate_segment
from segments.forms import SegmentForm
from segments.members import UploadRefused, upload_members
from segments.models import CustomerSegment, MemberUpload

EDITED_FIELDS = [
    "name",
    "type",
    "description",
    "selection_sql",
    "handler_function",
    "updated_date",
    "definition_changed_date",
]


@dataclass
class SaveOutcome:
    segment: CustomerSegment
    upload: MemberUpload | None = None
    problem: str = ""  # saved, but the upload or the first evaluation failed


def save_segment(form: SegmentForm, *, user: AbstractBaseUser | None, now: datetime) -> SaveOutcome:
    """Save a valid form, import its member file, and count the members.

    The definition is saved even when the upload or count fails afterwards:
    the outcome's `problem` says what the marketer must fix.
    """
    with transaction.atomic():
        segment = form.save(commit=False)
        if form.definition_changed:
            segment.definition_changed_date = now
        if not segment.pk:
            segment.created_by = user if user and user.is_authenticated else None
        segment.updated_date = now
        if segment.pk:
            # Evaluation columns belong to evaluate_segment; an older copy must not undo them.
            segment.save(update_fields=EDITED_FIELDS)
        else:
            segment.save()
    outcome = SaveOutcome(segment)
    upload = form.cleaned_data.get("members_file")
    try:
        if segment.type == CustomerSegment.Type.MANUAL and upload:
            outcome.upload = upload_members(
                segment, upload, mode=form.cleaned_data["upload_mode"], user=user, now=now
            )
        evaluate_segment(segment, now=now)
    except (SegmentError, UploadRefused) as error:
        outcome.problem = str(error)
    return outcome
