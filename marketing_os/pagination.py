"""Counting for list pages over tables of millions of rows.

`COUNT(*)` over ten million funnel events costs more than the page itself, so:
an unfiltered list of a large table shows the planner's estimate, and a
filtered list counts at most `CAP` matches ("more than 1,000"). Counting is the
dearest query of a filtered page: on 1M customers an attribute filter spent
~100 ms of its time counting to 10,000. A deeper page stays reachable: asking
for page N counts just far enough to know that page exists.
"""

from django.core.paginator import Paginator
from django.db import connection
from django.db.models import QuerySet
from django.utils.functional import cached_property

ESTIMATE_ABOVE = 100_000
CAP = 1_000
MAX_PER_PAGE = 200
MAX_ROWS = 2**62  # LIMIT is a bigint: a page number of 10**20 must not overflow it


def estimated_rows(table: str) -> int:
    """The planner's row estimate for `table` (-1 when never analysed)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [table])
        row = cursor.fetchone()
    return row[0] if row else -1


def queryset_of(object_list: object) -> object:
    """The QuerySet behind `object_list`: django-tables2 paginates its `BoundRows`,
    whose `.data.data` is the (ordered) queryset."""
    return getattr(getattr(object_list, "data", None), "data", object_list)


class EstimatedCountPaginator(Paginator):
    is_estimate = False  # the count is the planner's estimate
    is_capped = False  # there are more than `count` matches
    wanted_page = 1

    def __init__(self, object_list: object, per_page: object, *args, **kwargs) -> None:
        # `?per_page=` comes from the address: never below 1 (an error) or above
        # MAX_PER_PAGE (a million rows at once), whichever table asks.
        try:
            per_page = min(max(int(per_page), 1), MAX_PER_PAGE)
        except (TypeError, ValueError):
            per_page = PAGINATE["per_page"]
        super().__init__(object_list, per_page, *args, **kwargs)

    def validate_number(self, number: object) -> int:
        try:
            self.wanted_page = max(1, int(number))  # before `count` is first computed
        except (TypeError, ValueError):
            pass
        return super().validate_number(number)

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
        cap = min(CAP + (self.wanted_page - 1) * self.per_page, MAX_ROWS)
        capped = objects.order_by()[: cap + 1].count()
        if capped > cap:
            self.is_capped = True
            return cap
        return capped


PAGINATE = {"per_page": 50, "paginator_class": EstimatedCountPaginator}
