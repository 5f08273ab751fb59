"""What segments keep about a person, for `customers.erasure` (registered in SegmentsConfig).

Their memberships go (manual lists and stored evaluations); upload reports
that list one of their identifiers as an unmatched line say "(erased)"
instead. Segment definitions are marketers' text: one that mentions the
person is reported to the operator, never rewritten (that would change who
the segment selects).
"""

from django.db import connection
from django.db.models import Q

from customers.erasure import ERASED, ErasureReport, Person, pattern_of
from segments.models import CustomerSegment, CustomerSegmentCustomer, MemberUpload, SegmentMember

SCRUB_UNMATCHED = f"""
    UPDATE {MemberUpload._meta.db_table} SET unmatched = (
        SELECT jsonb_agg(
            CASE WHEN lower(btrim(line->>1)) = ANY(%(values)s)
                 THEN jsonb_build_array(line->0, %(erased)s) ELSE line END
            ORDER BY position)
        FROM jsonb_array_elements(unmatched) WITH ORDINALITY AS t(line, position))
    WHERE jsonb_typeof(unmatched) = 'array' AND EXISTS (
        SELECT FROM jsonb_array_elements(unmatched) AS line
        WHERE lower(btrim(line->>1)) = ANY(%(values)s))
"""


def erase_segment_data(person: Person, report: ErasureReport) -> None:
    lists = CustomerSegmentCustomer.objects.filter(customer_id=person.id)
    report.count("manual segment memberships", lists._raw_delete(connection.alias))
    # No index by customer (members are read by segment): one scan, and erasures are rare.
    stored = SegmentMember.objects.filter(customer_id=person.id)
    report.count("stored segment members", stored._raw_delete(connection.alias))
    values = [value.strip().lower() for value in person.identifiers]
    with connection.cursor() as cursor:
        cursor.execute(SCRUB_UNMATCHED, {"values": values, "erased": ERASED})
        report.count("member-upload reports", cursor.rowcount)
    for segment in segments_mentioning(person):
        report.notes.append(
            f"Segment {segment.pk} ({segment.name}) mentions them in its definition; "
            "it was left as written: edit it by hand if it should not."
        )


def segments_mentioning(person: Person) -> list[CustomerSegment]:
    """Segments naming one of their identifiers as a whole word ("L-1" is not in "L-10")."""
    if not person.identifiers:
        return []
    words = f"(^|[^[:alnum:]_])({pattern_of(person.identifiers)})($|[^[:alnum:]_])"
    mentions = Q(selection_sql__iregex=words) | Q(description__iregex=words)
    return list(CustomerSegment.objects.filter(mentions | Q(name__iregex=words)).order_by("pk"))
