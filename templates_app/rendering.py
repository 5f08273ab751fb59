"""Turn a message template and a plain context dict into what is sent.

The one renderer: the preview, the test send and the automation sender all call
`render_message`, so what a marketer previews is byte for byte what a customer
receives. This is the only module that imports `mjml` and `liquid`.

How Liquid and MJML combine (see docs/templates.md for the measurements):

1. Every Liquid tag in the MJML source is swapped for an opaque placeholder, so
   MJML never sees Liquid syntax (a `<` in `{% if a < b %}` would break MJML).
2. MJML is compiled once per template version; the placeholders are swapped back.
   The result is a Liquid template of the finished HTML.
3. The plain-text part is derived from that HTML once, giving a Liquid template
   of the text.
4. Per recipient only Liquid runs: the HTML with autoescape (customer data is
   HTML-escaped), the text and subject without. Runs of text and `{{ a.b }}`
   outputs take a fast path that gives python-liquid's output byte for byte
   (see "The fast path" below).

Templates see plain dicts only. python-liquid resolves `a.b` as `a["b"]`, never
as a Python attribute, so `{{ customer.__class__ }}` is simply undefined.
"""

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from io import StringIO

from liquid import BoundTemplate, Environment, RenderContext
from liquid.ast import BlockNode, ConditionalBlockNode, Node
from liquid.builtin.content import ContentNode
from liquid.builtin.expressions import FilteredExpression, Path
from liquid.builtin.output import OutputNode
from liquid.builtin.tags.case_tag import CaseNode, MultiExpressionBlockNode
from liquid.builtin.tags.for_tag import ForNode
from liquid.builtin.tags.if_tag import IfNode
from liquid.builtin.tags.unless_tag import UnlessNode
from liquid.exceptions import LiquidError, OutputStreamLimitError
from liquid.stringify import to_liquid_string
from markupsafe import escape

try:  # what markupsafe.escape does to a str, without wrapping it in a Markup object
    from markupsafe import _escape_inner as _escape_str
except ImportError:  # pragma: no cover - another markupsafe; the public way is exact too

    def _escape_str(text: str) -> str:
        return str(escape(text))


from mjml import mjml2html

from templates_app.plaintext import html_to_text

# Limits. A template is marketer-written code run once per customer: bound it.
MAX_SOURCE_CHARS = 200_000
MAX_OUTPUT_CHARS = 2_000_000
MAX_LOOP_ITERATIONS = 10_000

LIQUID_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
BLANK_LINES = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")
MJML_POSITION = re.compile(r"at position (\d+):(\d+)")
UNCLOSED_BLOCK = re.compile(r"expected tag end(\w+)")


class _CharLimitedOutput(StringIO):
    """Output capped at MAX_OUTPUT_CHARS characters. python-liquid's own limit
    UTF-8-encodes every chunk to count bytes, a quarter of the render time here."""

    size = 0

    def write(self, text: str) -> int:
        self.size += len(text)
        if self.size > MAX_OUTPUT_CHARS:
            raise OutputStreamLimitError("output stream limit reached", token=None)
        return super().write(text)


class _BoundedTemplate(BoundTemplate):
    def _get_buffer(self) -> StringIO:
        return _CharLimitedOutput()


class _BoundedEnvironment(Environment):
    template_class = _BoundedTemplate
    loop_iteration_limit = MAX_LOOP_ITERATIONS
    # Bounds `capture` blocks; whole outputs are bounded by _CharLimitedOutput.
    output_stream_limit = MAX_OUTPUT_CHARS
    local_namespace_limit = 1_000_000
    context_depth_limit = 30


def _iso_dates_first(date_filter: Callable) -> Callable:
    """Liquid's `date` filter, parsing ISO 8601 strings (how attributes store dates)
    with `datetime.fromisoformat`: python-liquid uses dateutil, ~45 µs a date,
    and caches only 10 values, so every customer's own date paid that cost."""

    def date(value: object, fmt: object, *, environment: Environment) -> str:
        if isinstance(value, str) and not value.isdigit():
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                pass  # "now", "March 14, 2016", …: Liquid's own parsing
        return date_filter(value, fmt, environment=environment)

    date.with_environment = True
    return date


def _environment(*, autoescape: bool) -> Environment:
    env = _BoundedEnvironment(autoescape=autoescape, strict_filters=True)
    env.filters["date"] = _iso_dates_first(env.filters["date"])
    # No partials: a template cannot read anything but its own source.
    for tag in ("include", "render"):
        env.tags.pop(tag, None)
    return env


HTML_ENV = _environment(autoescape=True)
TEXT_ENV = _environment(autoescape=False)


class TemplateSyntaxError(Exception):
    """A template that does not parse. `errors` lists every problem found."""

    def __init__(self, errors: list["SourceError"]):
        super().__init__("; ".join(str(error) for error in errors))
        self.errors = errors


class RenderError(Exception):
    """A template that parsed but failed for this context (e.g. a limit was hit)."""


@dataclass(frozen=True)
class SourceError:
    field: str  # "subject" or "message"
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{self.field}: {where}{self.message}"


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    html: str  # "" for WhatsApp templates
    text: str


@dataclass(frozen=True)
class CompiledTemplate:
    """One template version, parsed and compiled; cheap to render many times."""

    type: str
    subject: BoundTemplate
    html: BoundTemplate | None
    text: BoundTemplate
    variables: tuple[str, ...]  # e.g. ("customer.first_name", "unsubscribe_url")


def render_message(template: object, context: Mapping[str, object]) -> RenderedMessage:
    """Render `template` (anything with type, subject, message) for one recipient.

    `context` is plain data: `customer` (a dict) and `unsubscribe_url`.
    Raises TemplateSyntaxError for a template that does not parse, RenderError
    when rendering fails for this context.
    """
    message = normalise_newlines(template.message or "")
    compiled = compile_template(template.type, template.subject or "", message)
    return render_compiled(compiled, context)


def normalise_newlines(text: str) -> str:
    """Browsers post textareas with CRLF; mjml-python refuses CR in <mj-head>."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def render_compiled(compiled: CompiledTemplate, context: Mapping[str, object]) -> RenderedMessage:
    try:
        subject = " ".join(compiled.subject.render(**context).split())
        html = compiled.html.render(**context) if compiled.html else ""
        text = BLANK_LINES.sub("\n\n", compiled.text.render(**context)).strip()
    except LiquidError as error:
        raise RenderError(_describe(error)) from None
    return RenderedMessage(subject=subject, html=html, text=text)


@lru_cache(maxsize=32)  # drafts typed in the editor pass through here too
def compile_template(type: str, subject: str, message: str) -> CompiledTemplate:  # noqa: A002
    """Parse and compile one template version (cached by its content).

    Raises TemplateSyntaxError naming the field and line of each problem.
    """
    errors = _check_sizes(subject, message)
    if errors:  # refuse before parsing: parsing megabytes is slow
        raise TemplateSyntaxError(errors)
    subject_template = _parse(TEXT_ENV, subject, field="subject", errors=errors)
    if type == "whatsapp":
        text = _parse(TEXT_ENV, message, field="message", errors=errors)
        html = None
    else:
        found = len(errors)
        source_ok = _parse(HTML_ENV, message, field="message", errors=errors)
        source_ok = source_ok and len(errors) == found
        html, text = _compile_email(message, errors=errors) if source_ok else (None, None)
    if errors:
        raise TemplateSyntaxError(errors)
    variables = _variables(subject_template, html or text)
    return CompiledTemplate(
        type, _with_runs(subject_template), _with_runs(html), _with_runs(text), variables
    )


def check_template(*, type: str, subject: str, message: str) -> list[SourceError]:  # noqa: A002
    """Every problem that stops this template from being saved ([] when it is fine)."""
    try:
        compile_template(type, subject, normalise_newlines(message))
    except TemplateSyntaxError as error:
        return error.errors
    return []


def _check_sizes(subject: str, message: str) -> list[SourceError]:
    errors = []
    if len(subject) > 1000:
        errors.append(SourceError("subject", None, "is longer than 1,000 characters"))
    if len(message) > MAX_SOURCE_CHARS:
        errors.append(SourceError("message", None, f"is longer than {MAX_SOURCE_CHARS:,} chars"))
    return errors


def _parse(
    env: Environment, source: str, *, field: str, errors: list[SourceError], derived: bool = False
) -> BoundTemplate | None:
    """Parse Liquid, also refusing unknown filters (python-liquid finds those only at render)."""
    try:
        template = env.from_string(source)
    except LiquidError as error:
        errors.append(_liquid_error(error, source, field=field))
        return None
    if derived:  # compiled from a source already checked
        return template
    for name, spans in template.analyze(include_partials=False).filters.items():
        if name not in env.filters:
            line = _line_at(source, spans[0].index) if spans else None
            errors.append(SourceError(field, line, f"unknown filter '{name}'"))
    return template


def _compile_email(
    message: str, *, errors: list[SourceError]
) -> tuple[BoundTemplate | None, BoundTemplate | None]:
    """MJML → HTML once, with the Liquid tags carried through untouched."""
    masked, tags, nonce = _mask_liquid(message)
    try:
        # fonts={}: no Google Fonts link unless the template asks with <mj-font>.
        compiled = mjml2html(masked, include_loader=_refuse_include, fonts={})
    except ValueError as error:
        errors.append(
            _mjml_error(str(error), source=message, masked=masked, nonce=nonce, tags=tags)
        )
        return None, None
    html = _unmask(compiled, tags, nonce)
    text = _unmask(html_to_text(compiled, keep=_block_tag_marker(tags, nonce)), tags, nonce)
    html_template = _parse(HTML_ENV, html, field="message", errors=errors, derived=True)
    text_template = _parse(TEXT_ENV, text, field="message", errors=errors, derived=True)
    return html_template, text_template


def _mask_liquid(source: str) -> tuple[str, list[tuple[int, str]], str]:
    """Replace each Liquid tag with `L<nonce>N<i>Z`; return masked text and (offset, tag)."""
    nonce = hashlib.sha256(source.encode()).hexdigest()[:8]
    tags: list[tuple[int, str]] = []

    def placeholder(match: re.Match) -> str:
        tags.append((match.start(), match.group(0)))
        return f"L{nonce}N{len(tags) - 1}Z"

    return LIQUID_TAG.sub(placeholder, source), tags, nonce


def _unmask(text: str, tags: list[tuple[int, str]], nonce: str) -> str:
    return re.sub(rf"L{nonce}N(\d+)Z", lambda m: tags[int(m.group(1))][1], text)


def _block_tag_marker(tags: list[tuple[int, str]], nonce: str) -> re.Pattern:
    """Placeholders of `{% … %}` tags: kept in the text part even where their HTML is
    dropped (an attribute, <head>), so `if`/`for` blocks stay balanced."""
    indexes = "|".join(str(i) for i, (_, tag) in enumerate(tags) if tag.startswith("{%"))
    return re.compile(rf"L{nonce}N(?:{indexes})Z" if indexes else r"(?!x)x")


def _refuse_include(path: str) -> str:
    raise ValueError("mj-include is not allowed")


def _mjml_error(error: str, *, source: str, masked: str, nonce: str, tags: list) -> SourceError:
    if "include" in error:
        return SourceError("message", _line_of(source, "<mj-include"), "mj-include is not allowed")
    position = MJML_POSITION.search(error)
    if position:
        offset = len(masked.encode()[: int(position.group(1))].decode(errors="ignore"))
        line = _line_at(source, _unmasked_offset(offset, tags=tags, nonce=nonce))
        return SourceError("message", line, f"MJML does not parse: {_mjml_words(error)}")
    line, what = find_mjml_problem(source)
    return SourceError("message", line, f"MJML does not parse: {what or _mjml_words(error)}")


def _unmasked_offset(offset: int, *, tags: list[tuple[int, str]], nonce: str) -> int:
    """Map an offset in the masked source back to the original source."""
    shift = 0
    for index, (start, tag) in enumerate(tags):
        if start - shift > offset:
            break
        shift += len(tag) - len(f"L{nonce}N{index}Z")
    return offset + shift


def _mjml_words(message: str) -> str:
    return MJML_POSITION.sub("", message).replace(" in root template", "").strip()


def _line_of(source: str, needle: str) -> int | None:
    index = source.find(needle)
    return _line_at(source, index) if index >= 0 else None


def _line_at(source: str, index: int) -> int:
    return source.count("\n", 0, max(index, 0)) + 1


def _liquid_error(error: LiquidError, source: str, *, field: str) -> SourceError:
    token = getattr(error, "token", None)
    unclosed = UNCLOSED_BLOCK.search(_describe(error))
    if token is not None and token.start_index < 0 and unclosed:
        # Liquid noticed at the end of the source; the mistake is the opening tag.
        name = unclosed.group(1)
        opening = list(re.finditer(r"\{%-?\s*" + name + r"\b", source))
        line = _line_at(source, opening[-1].start()) if opening else None
        return SourceError(field, line, f"{{% {name} %}} is never closed with {{% end{name} %}}")
    if token is None:
        return SourceError(field, None, _describe(error))
    if token.start_index < 0:
        return SourceError(field, source.count("\n") + 1, _describe(error))
    return SourceError(field, _line_at(token.source or source, token.start_index), _describe(error))


def _describe(error: LiquidError) -> str:
    return getattr(error, "message", None) or str(error).splitlines()[0]


# The fast path. python-liquid spends most of a render on per-node overhead: a
# buffer write per text chunk, and per `{{ a.b }}` a chain-map lookup, ABC
# isinstance checks and to_liquid_string. So, at compile time, each run of
# consecutive text and `{{ a.b.c }}` outputs (at the top level and inside
# if/unless/case/for blocks) becomes one _Run node that looks the path up in the
# context dict itself and writes once. It takes a value only when it is sure it
# is what python-liquid would see; for anything else it renders the original
# node, so the output is python-liquid's byte for byte:
# - paths of plain string segments, none of `size`/`first`/`last`, whose root
#   no enclosing `for` binds and which is not `partial` (python-liquid's own);
# - only in templates that never assign (a local would shadow the context);
# - values reached through plain dicts that are a str or an int (not bool);
#   missing keys, None, lists, floats, … go to the original node;
# - filters are python-liquid's own, applied to the value found.
# Tags stay python-liquid nodes, rendered in the same render context, so their
# scoping, loop limits and errors are unchanged; so does the output limit (the
# same buffer). tests/templates_app/test_fast_path.py compares both renders.

SPECIAL_KEYS = frozenset({"size", "first", "last"})
NAMESPACE_KEYS = frozenset({"partial"})  # render_with_context puts it before the context
CONTAINERS = (IfNode, UnlessNode, CaseNode, ForNode, ConditionalBlockNode, MultiExpressionBlockNode)
_MISSING = object()


class _DataContext(RenderContext):
    """A render context that also keeps the plain dict the template is rendered with."""

    __slots__ = ("data",)


class _RunTemplate(_BoundedTemplate):
    """A template with _Run nodes; `plain` is the template as python-liquid parsed it."""

    plain: BoundTemplate

    def render(self, *args: object, **kwargs: object) -> str:
        data = dict(*args, **kwargs)
        context = _DataContext(self, globals=self.make_globals(data))
        context.data = data
        buffer = self._get_buffer()
        self.render_with_context(context, buffer)
        return buffer.getvalue()


@dataclass(frozen=True)
class _Lookup:
    path: tuple[str, ...]
    filters: tuple  # python-liquid Filter objects, applied in order
    node: OutputNode  # rendered instead when the value is not a plain str or int


class _Run(Node):
    """Literal text and `{{ a.b }}` outputs, written with one buffer write."""

    __slots__ = ("steps",)

    def __init__(self, nodes: list[Node], *, shadowed: frozenset[str]):
        super().__init__(nodes[0].token)
        self.blank = all(node.blank for node in nodes)
        self.steps = tuple(_step(node, shadowed=shadowed) for node in nodes)

    def __str__(self) -> str:
        return "".join(step if isinstance(step, str) else str(step.node) for step in self.steps)

    def render_to_output(self, context: _DataContext, buffer: StringIO) -> int:
        data, autoescape, out, written = context.data, context.autoescape, [], 0
        append = out.append
        for step in self.steps:
            if step.__class__ is str:
                append(step)
                continue
            value = data
            for key in step.path:  # _plain_value, inlined: this loop is the hot path
                value = value.get(key, _MISSING) if value.__class__ is dict else _MISSING
            kind = value.__class__
            if step.filters and (kind is str or kind is int):
                append(_filtered(value, step, context))
            elif kind is str:
                append(_escape_str(value) if autoescape else value)
            elif kind is int:
                append(str(value))
            else:
                written += buffer.write("".join(out))
                out.clear()
                written += _render_node(step.node, context, buffer)
        return written + buffer.write("".join(out))


def _filtered(value: object, step: _Lookup, context: RenderContext) -> str:
    """What OutputNode writes, with the path's value already found."""
    try:
        for filter_ in step.filters:
            value = filter_.evaluate(value, context)
        return to_liquid_string(value, context.autoescape)
    except LiquidError as error:
        context.env.error(error, token=step.node.token)
        return ""


def _render_node(node: Node, context: RenderContext, buffer: StringIO) -> int:
    """Render `node` as BoundTemplate.render_with_context renders a top-level node."""
    try:
        return node.render(context, buffer)
    except LiquidError as error:
        context.env.error(error, token=node.token)
        return 0


def _plain_path(node: Node, *, shadowed: frozenset[str]) -> tuple[str, ...] | None:
    if node.__class__ is not OutputNode or node.expression.__class__ is not FilteredExpression:
        return None
    if node.expression.left.__class__ is not Path:
        return None
    path = node.expression.left.path
    if not all(segment.__class__ is str for segment in path):
        return None
    if path[0] in shadowed or SPECIAL_KEYS.intersection(path[1:]):
        return None
    return tuple(path)


def _step(node: Node, *, shadowed: frozenset[str]) -> str | _Lookup:
    if node.__class__ is ContentNode:
        return node.text
    path = _plain_path(node, shadowed=shadowed)
    return _Lookup(path, tuple(node.expression.filters or ()), node)


def _merge_runs(nodes: list[Node], *, shadowed: frozenset[str]) -> list[Node]:
    merged: list[Node] = []
    pending: list[Node] = []
    for node in nodes:
        if node.__class__ is ContentNode or _plain_path(node, shadowed=shadowed):
            pending.append(node)
            continue
        if pending:
            merged.append(_Run(pending, shadowed=shadowed))
            pending = []
        _merge_blocks(node, shadowed=shadowed)
        merged.append(node)
    if pending:
        merged.append(_Run(pending, shadowed=shadowed))
    return merged


def _merge_blocks(node: Node, *, shadowed: frozenset[str]) -> None:
    """Merge runs inside the blocks of if/unless/case/for; other tags are left alone."""
    if isinstance(node, BlockNode):
        node.nodes = _merge_runs(node.nodes, shadowed=shadowed)
    elif node.__class__ in CONTAINERS:
        inner = shadowed.union(str(name) for name in node.block_scope())
        for child in node.children(None, include_partials=False):
            _merge_blocks(child, shadowed=inner)


def _with_runs(template: BoundTemplate | None) -> BoundTemplate | None:
    """`template` parsed again (a tree of its own) with _Run nodes, or `template`
    itself when it assigns or is empty."""
    if not template or not template.nodes or template.analyze(include_partials=False).locals:
        return template
    fresh = template.env.from_string(template.nodes[0].token.source)
    if str(fresh) != str(template):  # not the same source: stay on the plain template
        return template
    fast = _RunTemplate(
        template.env,
        _merge_runs(fresh.nodes, shadowed=NAMESPACE_KEYS),
        name=template.name,
        globals=template.globals,
        matter=template.matter,
    )
    fast.plain = template
    return fast


def _variables(*templates: BoundTemplate | None) -> tuple[str, ...]:
    paths: set[str] = set()
    for template in templates:
        if template is not None:
            paths.update(template.global_variable_paths(include_partials=False))
    return tuple(sorted(paths))


MJ_TAG = re.compile(r"<(/?)(mjml|mj-[a-z-]+)\b((?:[^>\"']|\"[^\"]*\"|'[^']*')*?)(/?)>")
UNQUOTED_ATTRIBUTE = re.compile(r"\s[\w-]+=(?![\"'])")


def find_mjml_problem(source: str) -> tuple[int | None, str]:
    """Locate the usual MJML mistakes by line, since mjml-python rarely says where.

    A light scan of `mjml`/`mj-*` tags: unbalanced or mismatched tags and
    attributes without quotes. Returns (line, what) or (None, "").
    """
    stack: list[tuple[str, int]] = []
    for match in MJ_TAG.finditer(LIQUID_TAG.sub(_same_length_blank, source)):
        closing, name, attributes, self_closing = match.groups()
        line = _line_at(source, match.start())
        if UNQUOTED_ATTRIBUTE.search(attributes):
            return line, f"<{name}> has an attribute value without quotes"
        if self_closing:
            continue
        if not closing:
            stack.append((name, line))
        elif not stack or stack[-1][0] != name:
            opened = f"<{stack[-1][0]}> (line {stack[-1][1]})" if stack else "nothing"
            return line, f"</{name}> closes {opened}"
        else:
            stack.pop()
    if stack:
        return stack[-1][1], f"<{stack[-1][0]}> is never closed"
    return None, ""


def _same_length_blank(match: re.Match) -> str:
    return re.sub(r"[^\n]", " ", match.group(0))
