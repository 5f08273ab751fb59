"""First layer of the SQL sandbox: what a segment's SQL may say, decided by a parser.

A marketer's SQL is parsed with pglast (PostgreSQL's own parser) and accepted
only when it is exactly one SELECT (WITH … SELECT is fine) over the customer-side
tables, calling only functions from an allow-list. Everything else is refused
before it reaches the database, with a message that says why. The database
layers (`segments.sandbox`) hold even if this one is bypassed.
"""

from collections.abc import Iterator
from dataclasses import dataclass

from pglast import ast, parse_sql, prettify
from pglast.parser import ParseError

ALLOWED_TABLES = frozenset({"customers", "customer_attributes", "funnel_events"})
ALLOWED_SCHEMAS = frozenset({"public"})
# Pure functions a segment needs. Anything else (pg_sleep, set_config,
# current_setting, pg_read_file, lo_*, dblink, pg_terminate_backend, nextval, …)
# is refused: a deny-list would miss the next dangerous one.
ALLOWED_FUNCTIONS = frozenset(
    """
    count sum avg min max bool_and bool_or every array_agg string_agg jsonb_agg
    row_number rank dense_rank percent_rank cume_dist ntile lag lead first_value last_value
    lower upper initcap length char_length character_length octet_length btrim ltrim rtrim
    trim substring substr left right strpos position replace split_part starts_with concat
    concat_ws lpad rpad reverse repeat md5 regexp_replace regexp_match regexp_like
    textregexeq to_char to_date to_number to_timestamp
    abs ceil ceiling floor round trunc sign mod power sqrt greatest least random
    now date_trunc date_part extract age make_date make_time make_timestamp
    make_timestamptz make_interval justify_days justify_hours justify_interval timezone
    isfinite date_bin
    jsonb_typeof jsonb_array_length jsonb_array_elements jsonb_array_elements_text
    jsonb_extract_path jsonb_extract_path_text jsonb_object_keys jsonb_exists to_jsonb
    jsonb_build_array jsonb_build_object
    array_length array_position array_positions array_to_string array_remove cardinality
    unnest string_to_array
    """.split()
)
# Only these pg_catalog names are produced by the parser itself for SQL syntax
# (EXTRACT, AT TIME ZONE, TRIM, SUBSTRING … FROM, POSITION … IN, OVERLAPS).
ALLOWED_FUNCTION_SCHEMAS = frozenset({"pg_catalog"})
MODIFYING = (ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt, ast.MergeStmt)
STATEMENT_NAMES = {
    "VariableSetStmt": "SET",
    "VariableShowStmt": "SHOW",
    "TransactionStmt": "transaction control (BEGIN, COMMIT, ROLLBACK …)",
    "CopyStmt": "COPY",
    "CreateTableAsStmt": "CREATE TABLE … AS",
    "ExplainStmt": "EXPLAIN",
    "DoStmt": "DO",
    "CallStmt": "CALL",
}


@dataclass(frozen=True)
class SqlProblem:
    """Why a segment's SQL was refused; `position` is 1-based, in characters."""

    message: str
    position: int | None = None

    def location(self, sql: str) -> str:
        """'line 2, column 7' for `position` within `sql`, or '' when unknown."""
        if not self.position:
            return ""
        before = sql[: self.position - 1]
        line = before.count("\n") + 1
        column = len(before) - (before.rfind("\n") + 1) + 1
        return f"line {line}, column {column}"

    def excerpt(self, sql: str) -> str:
        """The line the problem is on, with a caret under the position."""
        if not self.position:
            return ""
        before = sql[: self.position - 1]
        start = before.rfind("\n") + 1
        end = sql.find("\n", start)
        line = sql[start : end if end >= 0 else len(sql)]
        return line + "\n" + " " * (len(before) - start) + "^"


class SqlRefused(Exception):
    def __init__(self, problem: SqlProblem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def char_position(sql: str, byte_offset: int | None) -> int | None:
    """pglast reports 0-based byte offsets; people count characters from 1."""
    if byte_offset is None or byte_offset < 0:
        return None
    return len(sql.encode()[:byte_offset].decode(errors="ignore")) + 1


def select_body(sql: str) -> str:
    """The one statement of `sql` without a trailing semicolon or comment.

    Raises `SqlRefused` unless `sql` is a single SELECT the policy accepts.
    """
    statement = parse_one(sql)
    check_tree(sql, statement.stmt)
    encoded = sql.encode()
    start = statement.stmt_location or 0
    end = start + statement.stmt_len if statement.stmt_len else len(encoded)
    return encoded[start:end].decode().strip()


def parse_one(sql: str) -> ast.RawStmt:
    if not sql or not sql.strip():
        raise SqlRefused(SqlProblem("Write a SELECT that returns customer ids."))
    try:
        statements = parse_sql(sql)
    except ParseError as error:
        message, offset = error.args[0], error.args[1] if len(error.args) > 1 else None
        position = char_position(sql, offset)
        if position is None and "end of input" in message:
            position = len(sql.rstrip()) + 1
        raise SqlRefused(SqlProblem(f"SQL syntax: {message}", position)) from None
    if len(statements) != 1:
        raise SqlRefused(
            SqlProblem(f"Write exactly one SELECT statement; this has {len(statements)}.")
        )
    statement = statements[0]
    if not isinstance(statement.stmt, ast.SelectStmt):
        raise SqlRefused(
            SqlProblem(f"Only a SELECT is allowed, not {statement_name(statement.stmt)}.")
        )
    return statement


def check_tree(sql: str, select: ast.SelectStmt) -> None:
    cte_names = {node.ctename for node in walk(select) if isinstance(node, ast.CommonTableExpr)}
    for node in walk(select):
        message = refusal(node, cte_names)
        if message:
            position = char_position(sql, getattr(node, "location", None))
            raise SqlRefused(SqlProblem(message, position))
    columns = leftmost(select).targetList or ()
    if len(columns) != 1:
        raise SqlRefused(
            SqlProblem(f"Return exactly one column of customer ids; this returns {len(columns)}.")
        )


def refusal(node: ast.Node, cte_names: set[str]) -> str | None:
    """Why `node` may not appear in a segment's SQL (None when it may)."""
    if isinstance(node, MODIFYING):
        return (
            "Data-modifying statements (INSERT, UPDATE, DELETE, MERGE) are not allowed, "
            "not even inside WITH."
        )
    if isinstance(node, ast.SelectStmt) and node.intoClause:
        return "SELECT … INTO creates a table and is not allowed."
    if isinstance(node, ast.SelectStmt) and node.lockingClause:
        return "FOR UPDATE / FOR SHARE lock rows and are not allowed."
    if isinstance(node, ast.FuncCall):
        return function_refusal(node)
    if isinstance(node, ast.XmlExpr | ast.XmlSerialize):
        return "XML functions are not allowed in segment SQL."
    if isinstance(node, ast.RangeVar):
        return table_refusal(node, cte_names)
    if type(node).__name__.endswith("Stmt") and not isinstance(node, ast.SelectStmt):
        return f"{statement_name(node)} is not allowed inside a SELECT."
    return None


def statement_name(node: ast.Node) -> str:
    kind = type(node).__name__
    return STATEMENT_NAMES.get(kind) or kind.removesuffix("Stmt").upper()


def function_refusal(node: ast.FuncCall) -> str | None:
    names = [part.sval for part in node.funcname]
    *schema, name = names
    if schema and (len(schema) > 1 or schema[0] not in ALLOWED_FUNCTION_SCHEMAS):
        return f"Function {'.'.join(names)} is not allowed: only plain built-in functions are."
    if name.lower() not in ALLOWED_FUNCTIONS:
        return f"Function {name}() is not allowed in segment SQL (it is not on the allow-list)."
    return None


def table_refusal(node: ast.RangeVar, cte_names: set[str]) -> str | None:
    if node.catalogname or (node.schemaname and node.schemaname not in ALLOWED_SCHEMAS):
        return f"Table {node.schemaname}.{node.relname} is not allowed."
    if node.relname in ALLOWED_TABLES or (not node.schemaname and node.relname in cte_names):
        return None
    allowed = ", ".join(sorted(ALLOWED_TABLES))
    return f"Table {node.relname} is not allowed: segment SQL may read {allowed}."


def leftmost(select: ast.SelectStmt) -> ast.SelectStmt:
    """The SELECT whose columns a UNION / INTERSECT / EXCEPT returns."""
    while select.larg is not None:
        select = select.larg
    return select


def walk(node: object) -> Iterator[ast.Node]:
    """Every AST node under `node`, itself included."""
    if isinstance(node, list | tuple):
        for item in node:
            yield from walk(item)
    elif isinstance(node, ast.Node):
        yield node
        for attribute in node:
            yield from walk(getattr(node, attribute))


def pretty_sql(sql: str) -> str:
    """`sql` laid out for reading (comments kept); as typed when it does not parse."""
    try:
        return prettify(sql, preserve_comments=True)
    except Exception:  # noqa: BLE001 — showing the SQL as typed is always acceptable
        return sql
