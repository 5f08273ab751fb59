import pytest
from django.db import connection
from django_tables2 import RequestConfig

from customers.models import Customer
from customers.tables import CustomerTable
from marketing_os import pagination
from marketing_os.pagination import PAGINATE
from tests.factories import make_customers

pytestmark = pytest.mark.django_db


def paginated(rf, queryset) -> pagination.EstimatedCountPaginator:
    table = CustomerTable(queryset)
    RequestConfig(rf.get("/customers/"), paginate=PAGINATE).configure(table)
    return table.paginator


def test_a_table_shows_the_planners_estimate_for_a_large_unfiltered_list(rf, monkeypatch):
    monkeypatch.setattr(pagination, "ESTIMATE_ABOVE", 2)
    make_customers(4)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE customers")

    paginator = paginated(rf, Customer.objects.all())

    assert paginator.is_estimate
    assert paginator.count == 4


def test_a_table_counts_a_filtered_list_only_up_to_the_cap(rf, monkeypatch):
    monkeypatch.setattr(pagination, "CAP", 2)
    make_customers(4)

    paginator = paginated(rf, Customer.objects.filter(first_name="Asha"))

    assert paginator.is_capped
    assert paginator.count == 2
