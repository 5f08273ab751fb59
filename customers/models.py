import math
from datetime import UTC, date, datetime

from django.conf import settings
from django.db import models
from django.db.models.expressions import Col, RawSQL
from django.db.models.functions import Lower, Now


class CustomerQuerySet(models.QuerySet):
    def search(self, q: str) -> "CustomerQuerySet":
        """Word-prefix search over name, email, mobile and lms_lead_id.

        Uses the `search_vector` generated column (GIN-indexed, see migration
        0002), so it needs no pg_trgm. Every word must match the start of some
        word of the customer: "pri sha" finds "Priya Sharma".
        """
        words = search_words(q)
        # An e-mail address (or its start) is looked up by its own prefix index
        # (migration 0008):
        # the planner cannot tell from the tsvector statistics that it is rare.
        emails = [w for w in words if "@" in w]
        long_words = [w for w in words if len(w) > SHORT_WORD and w not in emails]
        short_words = [w for w in words if len(w) <= SHORT_WORD and w not in emails]
        queryset = self
        if emails:
            queryset = queryset.alias(email_lower=Lower("email"))
            for email in emails:
                queryset = queryset.filter(email_lower__startswith=email)
        if long_words:
            queryset = queryset.filter(matches_words(long_words, indexed=True))
        if short_words:
            queryset = queryset.filter(matches_words(short_words, indexed=False))
        return queryset

    def not_erased(self) -> "CustomerQuerySet":
        return self.filter(erased_at__isnull=True)

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


# A word this short ("p", "98") is the prefix of a great many words, which the
# planner cannot estimate from its statistics: it guesses "few" and reads the
# GIN index for half the table (seconds). Such words are checked row by row
# instead, while the list walks its sort order and soon finds a page of matches.
SHORT_WORD = 3


def matches_words(words: list[str], *, indexed: bool) -> models.Func:
    vector = models.Func(SearchVectorColumn(), template="%(expressions)s")
    if not indexed:
        vector = models.Func(SearchVectorColumn(), template="(%(expressions)s || ''::tsvector)")
    return models.Func(
        vector,
        RawSQL("to_tsquery('simple', %s)", [prefix_tsquery(words)]),
        template="%(expressions)s",
        arg_joiner=" @@ ",
        output_field=models.BooleanField(),
    )


def search_words(q: str) -> list[str]:
    """The words of free text, lower-cased, without tsquery syntax."""
    words = "".join(c if c.isalnum() or c in "@.+_-" else " " for c in q).split()
    words = [w.strip(".-+_").lower().replace("'", "") for w in words]
    return [w for w in words if w]


def prefix_tsquery(words: list[str]) -> str:
    return " & ".join("'" + w + "':*" for w in words)


def value_matches(value: str) -> models.Q:
    """Match a typed-in value against jsonb values of any type, and array members."""
    candidates = [value]
    lowered = value.strip().lower()
    if lowered in {"true", "false"}:
        candidates.append(lowered == "true")
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if math.isfinite(number):  # "NaN", "1e400": JSON has no such number
        candidates.append(int(number) if number.is_integer() else number)
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
    created_date = models.DateTimeField(db_default=Now())
    updated_date = models.DateTimeField(db_default=Now())
    # Set by `customers.erasure`: the row is an anonymous tombstone (lms_lead_id "erased-<id>").
    erased_at = models.DateTimeField(null=True, blank=True)

    # The tombstones' lms_lead_id prefix: refused to upstream systems, so an upsert can never
    # write a person's data back into an erased row.
    ERASED_PREFIX = "erased-"

    objects = CustomerQuerySet.as_manager()

    class Meta:
        db_table = "customers"
        indexes = [
            models.Index(fields=["last_name", "first_name"], name="customers_name_idx"),
            models.Index(fields=["email"], name="customers_email_idx"),
            # The list's default order (newest first, id breaking ties): page
            # 1,000 is then a plain index walk, not a sort of 50,000 rows.
            models.Index(fields=["created_date", "id"], name="customers_created_id_idx"),
        ]

    def __str__(self) -> str:
        if self.is_erased:
            return ERASED_CUSTOMER
        return self.full_name or self.lms_lead_id

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)


ERASED_CUSTOMER = "Erased customer"


class ErasedLead(models.Model):
    """An lms_lead_id that was erased, as a keyed hash, so a repeated request is recognised.

    Deliberately not linked to the tombstone: with SECRET_KEY and a candidate
    id one can tell that the id was erased and when, not which row was theirs.
    """

    lead_key = models.TextField(unique=True)
    erased_at = models.DateTimeField()

    class Meta:
        db_table = "erased_leads"

    def __str__(self) -> str:
        return f"erased lead ({self.erased_at:%Y-%m-%d})"


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


class ImportJob(models.Model):
    """One CSV file imported (or being imported) by the upload page or `import_csv`.

    Counters are written once per committed chunk, so after a crash they say
    exactly what is stored: every row up to `last_line`.
    """

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"
        REFUSED = "refused"

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    id = models.BigAutoField(primary_key=True)
    kind = models.TextField()
    original_filename = models.TextField()
    stored_path = models.TextField(blank=True, default="")
    size = models.BigIntegerField(default=0)
    status = models.TextField(choices=Status.choices, default=Status.QUEUED)
    header = models.JSONField(default=list)
    ignored_columns = models.JSONField(default=list)
    rows_processed = models.BigIntegerField(default=0)
    bytes_processed = models.BigIntegerField(default=0)
    last_line = models.BigIntegerField(default=0)
    created = models.BigIntegerField(default=0)
    updated = models.BigIntegerField(default=0)
    skipped = models.BigIntegerField(default=0)
    message = models.TextField(blank=True, default="")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    host = models.TextField(blank=True, default="")
    pid = models.IntegerField(null=True, blank=True)
    created_at = models.DateTimeField(db_default=Now())
    started_at = models.DateTimeField(null=True, blank=True)
    progress_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "import_jobs"
        indexes = [
            models.Index(fields=["-created_at"], name="import_jobs_created_idx"),
            models.Index(fields=["kind", "-created_at"], name="import_jobs_kind_idx"),
            models.Index(fields=["status", "-created_at"], name="import_jobs_status_idx"),
        ]

    def __str__(self) -> str:
        return f"Import {self.pk} ({self.kind}, {self.original_filename})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def rows_per_second(self) -> float | None:
        if not (self.started_at and self.progress_at) or not self.rows_processed:
            return None
        seconds = (self.progress_at - self.started_at).total_seconds()
        return self.rows_processed / seconds if seconds > 0 else None

    @property
    def percent_done(self) -> int | None:
        if self.status == self.Status.DONE:
            return 100
        if not self.size:
            return None
        return min(99, int(100 * self.bytes_processed / self.size))


class ImportRowError(models.Model):
    """A line of an imported file that was skipped, with its reason and its cells."""

    id = models.BigAutoField(primary_key=True)
    # Indexed by (job, line) below, which also serves lookups by job alone.
    job = models.ForeignKey(
        ImportJob, on_delete=models.CASCADE, related_name="row_errors", db_index=False
    )
    line = models.BigIntegerField()
    field = models.TextField(blank=True, default="")
    message = models.TextField()
    cells = models.JSONField(null=True, blank=True)

    class Meta:
        db_table = "import_row_errors"
        indexes = [models.Index(fields=["job", "line"], name="import_row_errors_line_idx")]

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"

    @property
    def reason(self) -> str:
        return self.format_reason(self.field, self.message)

    @staticmethod
    def format_reason(field: str, message: str) -> str:
        """ "field: message", or the message alone for a whole-line problem."""
        return f"{field}: {message}" if field else message
