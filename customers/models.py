from datetime import UTC, date, datetime

from django.db import models
from django.db.models.expressions import Col, RawSQL
from django.db.models.functions import Now


class CustomerQuerySet(models.QuerySet):
    def search(self, q: str) -> "CustomerQuerySet":
        """Word-prefix search over name, email, mobile and lms_lead_id.

        Uses the `search_vector` generated column (GIN-indexed, see migration
        0002), so it needs no pg_trgm. Every word must match the start of some
        word of the customer: "pri sha" finds "Priya Sharma".
        """
        query = tsquery_for(q)
        if not query:
            return self
        return self.alias(
            matches=models.Func(
                SearchVectorColumn(),
                RawSQL("to_tsquery('simple', %s)", [query]),
                template="%(expressions)s",
                arg_joiner=" @@ ",
                output_field=models.BooleanField(),
            )
        ).filter(matches=True)

    def with_attribute(self, name: str, value: str = "") -> "CustomerQuerySet":
        """Customers having attribute `name` (equal to, or containing, `value`)."""
        attributes = CustomerAttribute.objects.filter(customer=models.OuterRef("pk"))
        attributes = attributes.filter(field_name=name) if name else attributes
        if value:
            attributes = attributes.filter(value_matches(value))
        return self.filter(models.Exists(attributes))


class SearchVectorColumn(models.Expression):
    """`<alias>.search_vector`, the generated column of migration 0002 (not a model field).

    Resolved to a `Col` so Django relabels the table alias when the search is
    used as a subquery (`customer__in=Customer.objects.search(q)` names the
    table `U0` there; a hard-coded `customers.` would not exist).
    """

    target = models.Field(name="search_vector")
    target.column = "search_vector"

    def resolve_expression(self, query=None, *args, **kwargs) -> Col:
        return Col(query.get_initial_alias(), self.target)


def tsquery_for(q: str) -> str:
    """Turn free text into a safe prefix tsquery: every word quoted, `:*` added."""
    words = [w for w in "".join(c if c.isalnum() or c in "@.+_-" else " " for c in q).split()]
    words = [w.strip(".-+_") for w in words]
    return " & ".join("'" + w.lower().replace("'", "") + "':*" for w in words if w)


def value_matches(value: str) -> models.Q:
    """Match a typed-in value against jsonb values of any type, and array members."""
    candidates = [value]
    lowered = value.strip().lower()
    if lowered in {"true", "false"}:
        candidates.append(lowered == "true")
    try:
        number = float(value)
        candidates.append(int(number) if number.is_integer() else number)
    except ValueError:
        pass
    condition = models.Q()
    for candidate in candidates:
        condition |= models.Q(field_value=candidate)
        condition |= models.Q(
            field_type=CustomerAttribute.FieldType.ARRAY, field_value__contains=[candidate]
        )
    return condition


class Customer(models.Model):
    id = models.BigAutoField(primary_key=True)
    lms_lead_id = models.TextField(unique=True)
    first_name = models.TextField(null=True, blank=True)
    last_name = models.TextField(null=True, blank=True)
    email = models.TextField(null=True, blank=True)
    mobile = models.TextField(null=True, blank=True)
    created_date = models.DateTimeField(db_default=Now(), db_index=True)
    updated_date = models.DateTimeField(db_default=Now())

    objects = CustomerQuerySet.as_manager()

    class Meta:
        db_table = "customers"
        indexes = [
            models.Index(fields=["last_name", "first_name"], name="customers_name_idx"),
            models.Index(fields=["email"], name="customers_email_idx"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.lms_lead_id

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)


class CustomerAttribute(models.Model):
    class FieldType(models.TextChoices):
        NUMERIC = "numeric"
        STRING = "string"
        DATE = "date"
        TIMESTAMP = "timestamp"
        BOOLEAN = "boolean"
        ARRAY = "array"

    id = models.BigAutoField(primary_key=True)
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="attributes", db_index=False
    )
    field_type = models.TextField(choices=FieldType.choices)
    field_name = models.TextField()
    field_value = models.JSONField()
    created_date = models.DateTimeField(db_default=Now())
    updated_date = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "customer_attributes"
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "field_name"], name="customer_attributes_customer_name_uniq"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    field_type__in=["numeric", "string", "date", "timestamp", "boolean", "array"]
                ),
                name="customer_attributes_field_type_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["field_name", "field_value"], name="attributes_name_value_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.field_name}={self.field_value!r}"

    @property
    def typed_value(self) -> object:
        """The value as Python: date, aware datetime, bool, list, number or str.

        Falls back to the stored JSON value when it does not parse (rows can be
        written by hand in SQL), so a page never fails on one odd row.
        """
        value, kind = self.field_value, self.field_type
        try:
            if kind == self.FieldType.DATE and isinstance(value, str):
                return date.fromisoformat(value)
            if kind == self.FieldType.TIMESTAMP and isinstance(value, str):
                moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
                return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        except ValueError:
            pass
        return value
