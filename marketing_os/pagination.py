"""Counting for list pages over tables of millions of rows.

`COUNT(*)` over ten million funnel events costs more than the page itself, so:
an unfiltered list of a large table shows the planner's estimate, and a
filtered list counts at most `CAP` matches ("more than 100,000").
"""

from django.core.paginator import Paginator
from django.db import connection
from django.db.models import QuerySet
from django.utils.functional import cached_property

ESTIMATE_ABOVE = 100_000
CAP = 100_000


def estimated_rows(table: str) -> int:
    """The planner's row estimate for `table` (-1 when never analysed)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [table])
        row = cursor.fetchone()
    return row[0] if row else -1


class EstimatedCountPaginator(Paginator):
    is_estimate = False  # the count is the planner's estimate
    is_capped = False  # there are more than `count` matches

    @cached_property
    def count(self) -> int:
        objects = queryset_of(self.object_list)
        if not isinstance(objects, QuerySet):
            return super().count
        if not objects.query.where:
            estimate = estimated_rows(objects.model._meta.db_table)
            if estimate > ESTIMATE_ABOVE:
                self.is_estimate = True
                return estimate
            return objects.count()
        capped = objects.order_by()[: CAP + 1].count()
        if capped > CAP:
            self.is_capped = True
            return CAP
        return capped


def queryset_of(objects: object) -> object:
    """The QuerySet behind a django-tables2 table's rows (BoundRows → TableData →
    QuerySet): the table hands its paginator the rows, not the queryset."""
    data = getattr(getattr(objects, "data", None), "data", None)
    return data if isinstance(data, QuerySet) else objects


PAGINATE = {"per_page": 50, "paginator_class": EstimatedCountPaginator}
