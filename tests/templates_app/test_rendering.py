from types import SimpleNamespace

import pytest

from customers.personalisation import customer_context, sample_context
from templates_app import rendering
from templates_app.rendering import RenderError, check_template, render_message
from tests.factories import make_customer

UNSUBSCRIBE = "https://mos.example.com/unsubscribe/abc/"


def email(message: str, subject: str = "Hello") -> SimpleNamespace:
    return SimpleNamespace(type="email", subject=subject, message=message)


def mjml(body: str) -> str:
    opening = "<mjml><mj-body><mj-section><mj-column>"
    return f"{opening}\n{body}\n</mj-column></mj-section></mj-body></mjml>"


def context(**customer) -> dict:
    base = {"id": 1, "first_name": "Asha", "last_name": "Verma", "attributes": {}}
    return {"customer": base | customer, "unsubscribe_url": UNSUBSCRIBE}


@pytest.mark.django_db
def test_it_renders_every_attribute_type_from_a_real_customer():
    customer = make_customer(
        first_name="Asha",
        attributes={
            "score": ("numeric", 82.5),
            "course": ("string", "MBA"),
            "intake": ("date", "2027-01-15"),
            "last_login": ("timestamp", "2026-11-20T14:05:00Z"),
            "paid": ("boolean", True),
            "interests": ("array", ["Data", "Finance"]),
        },
    )
    message = mjml(
        "<mj-text>{{ customer.first_name }} {{ customer.attributes.score | plus: 1 }} "
        "{{ customer.attributes.course }} {{ customer.attributes.intake | date: '%d %B %Y' }} "
        "{{ customer.attributes.last_login | date: '%H:%M' }} "
        "{% if customer.attributes.paid %}paid{% endif %} "
        "{{ customer.attributes.interests | join: ' & ' }}</mj-text>"
    )
    rendered = render_message(email(message), customer_context(customer, unsubscribe_url=""))
    assert "Asha 83.5 MBA 15 January 2027 14:05 paid Data & Finance" in rendered.html
    assert "Asha 83.5 MBA 15 January 2027 14:05 paid Data & Finance" in rendered.text


def test_missing_variables_render_as_nothing_or_their_default():
    message = mjml(
        "<mj-text>[{{ customer.attributes.nope }}][{{ customer.mobile }}]"
        "[{{ customer.attributes.course | default: 'your course' }}]"
        "[{{ nothing.at.all }}]</mj-text>"
    )
    rendered = render_message(email(message), context())
    assert "[][][your course][]" in rendered.html


def test_the_subject_is_rendered_as_one_line_of_plain_text():
    rendered = render_message(
        email(mjml("<mj-text>x</mj-text>"), subject="Hi {{ customer.first_name }},\n  <welcome>"),
        context(first_name="Tom & Jerry"),
    )
    assert rendered.subject == "Hi Tom & Jerry, <welcome>"


def test_customer_data_is_escaped_in_the_html_part():
    message = mjml(
        "<mj-text>Dear {{ customer.first_name }}</mj-text>\n"
        '<mj-button href="https://example.com/?n={{ customer.last_name }}">Go</mj-button>'
    )
    rendered = render_message(
        email(message),
        context(first_name="<script>alert(1)</script>", last_name='x" onclick="steal()'),
    )
    assert "<script>alert(1)</script>" not in rendered.html
    assert "Dear &lt;script&gt;alert(1)&lt;/script&gt;" in rendered.html
    assert 'onclick="steal()' not in rendered.html
    assert "Dear <script>alert(1)</script>" in rendered.text


@pytest.mark.parametrize(
    "expression",
    [
        "customer.__class__",
        "customer.__class__.__mro__",
        "customer.first_name.__class__.__base__.__subclasses__",
        "customer.first_name.upper",
        "customer.items",
        "customer.attributes.__init__.__globals__",
        "unsubscribe_url.__len__",
        "customer['__class__']",
        "customer.attributes.courses.__class__.__name__",
    ],
)
def test_templates_cannot_reach_python_internals(expression):
    template = email(
        mjml(f"<mj-text>[{{{{ {expression} }}}}]</mj-text>"), subject=f"[{{{{ {expression} }}}}]"
    )
    rendered = render_message(template, context(attributes={"courses": ["MBA"]}))
    assert "[]" in rendered.html
    assert rendered.text == "[]"
    assert rendered.subject == "[]"


def test_python_names_used_as_filters_are_refused():
    errors = check_template(type="email", subject="{{ customer | __class__ }}", message=mjml(""))
    assert [e.message for e in errors] == ["unknown filter '__class__'"]


def test_it_refuses_a_liquid_syntax_error_with_its_line():
    message = mjml("<mj-text>\nHello\n{% if customer.first_name %}\nno end\n</mj-text>")
    errors = check_template(type="email", subject="ok", message=message)
    assert [(e.field, e.line) for e in errors] == [("message", 4)]
    assert errors[0].message == "{% if %} is never closed with {% endif %}"


def test_it_refuses_a_broken_output_tag_in_the_subject_with_its_line():
    errors = check_template(type="email", subject="Hi {{ customer.first_name", message=mjml(""))
    assert [(e.field, e.line) for e in errors] == [("subject", 1)]


def test_it_refuses_unknown_filters_before_saving():
    errors = check_template(
        type="email", subject="x", message=mjml("<mj-text>\n{{ customer.id | shell }}</mj-text>")
    )
    assert [(e.line, e.message) for e in errors] == [(3, "unknown filter 'shell'")]


def test_it_refuses_an_mjml_syntax_error_with_its_line():
    message = "\n".join(
        ["<mjml>", "<mj-body>", "<mj-section>", "<mj-column>", "<mj-text>Hi</mj-column>"]
        + ["</mj-section>", "</mj-body>", "</mjml>"]
    )
    errors = check_template(type="email", subject="x", message=message)
    assert len(errors) == 1
    assert errors[0].line == 5
    assert errors[0].message.startswith("MJML does not parse")


def test_it_refuses_unquoted_mjml_attributes_with_their_line():
    errors = check_template(
        type="email", subject="x", message=mjml("\n<mj-text color=red>x</mj-text>")
    )
    assert [e.line for e in errors] == [3]


def test_it_refuses_mj_include_and_liquid_partials():
    include = check_template(
        type="email", subject="x", message=mjml('\n<mj-include path="/etc/passwd" />')
    )
    partial = check_template(type="email", subject="x", message=mjml("{% include 'secrets' %}"))
    assert [(e.line, e.message) for e in include] == [(3, "mj-include is not allowed")]
    assert "include" in partial[0].message


def test_liquid_keeps_working_inside_mjml_attributes_and_between_sections():
    message = (
        "<mjml><mj-body>\n"
        "{% for course in customer.attributes.courses %}\n"
        "<mj-section background-color=\"{% if course == 'MBA' %}#eeeeff"
        '{% else %}#ffffff{% endif %}">'
        "<mj-column><mj-text>{{ forloop.index }}. {{ course }}"
        "{% if customer.attributes.score < 50 %} (apply soon){% endif %}</mj-text></mj-column>"
        "</mj-section>\n{% endfor %}\n</mj-body></mjml>"
    )
    rendered = render_message(
        email(message), context(attributes={"courses": ["MBA", "BSc"], "score": 10})
    )
    mba, bsc = (rendered.html.count(f"background-color:#{c}") for c in ("eeeeff", "ffffff"))
    assert mba == bsc > 0
    assert "1. MBA (apply soon)" in rendered.html and "2. BSc (apply soon)" in rendered.html
    assert "1. MBA (apply soon)\n\n2. BSc (apply soon)" in rendered.text


def test_the_plain_text_part_keeps_links_as_text():
    message = mjml(
        '<mj-text>Read <a href="https://example.com/guide">the guide</a>.</mj-text>\n'
        '<mj-button href="{{ unsubscribe_url }}">Unsubscribe</mj-button>'
    )
    rendered = render_message(email(message), context())
    assert "Read the guide (https://example.com/guide)." in rendered.text
    assert f"Unsubscribe ({UNSUBSCRIBE})" in rendered.text
    assert "<" not in rendered.text


def test_loops_are_bounded():
    message = mjml("<mj-text>{% for i in (1..1000000) %}{{ i }}{% endfor %}</mj-text>")
    with pytest.raises(RenderError, match="loop"):
        render_message(email(message), context())


def test_output_size_is_bounded():
    message = mjml(
        "<mj-text>{% for i in (1..9000) %}{% for j in (1..9000) %}xxxxxxxxxx{% endfor %}"
        "{% endfor %}</mj-text>"
    )
    with pytest.raises(RenderError):
        render_message(email(message), context())


def test_whatsapp_templates_are_plain_text_with_the_same_variables():
    template = SimpleNamespace(
        type="whatsapp",
        subject="",
        message="Hi {{ customer.first_name }} <b>, see {{ unsubscribe_url }}",
    )
    rendered = render_message(template, context(first_name="Asha"))
    assert rendered.html == ""
    assert rendered.text == f"Hi Asha <b>, see {UNSUBSCRIBE}"


def test_mjml_is_compiled_once_per_template_version(monkeypatch):
    calls = []
    real = rendering.mjml2html
    monkeypatch.setattr(rendering, "mjml2html", lambda *a, **k: calls.append(1) or real(*a, **k))
    template = email(mjml("<mj-text>Once {{ customer.id }}</mj-text>"), subject="unique-4711")
    for n in range(3):
        assert f"Once {n}" in render_message(template, context(id=n)).html
    template.message = template.message.replace("Once", "Twice")
    render_message(template, context())
    assert len(calls) == 2


def test_it_lists_the_variables_a_template_uses():
    compiled = rendering.compile_template(
        "email",
        "{{ customer.first_name }}",
        mjml(
            "{% for c in customer.attributes.courses %}"
            "<mj-text>{{ c }} {{ unsubscribe_url }}</mj-text>{% endfor %}"
        ),
    )
    assert compiled.variables == (
        "customer.attributes.courses",
        "customer.first_name",
        "unsubscribe_url",
    )


def test_the_built_in_sample_renders_every_starter_variable():
    rendered = render_message(
        email(
            mjml("<mj-text>{{ customer.first_name }} {{ customer.attributes.course }}</mj-text>")
        ),
        sample_context(unsubscribe_url=UNSUBSCRIBE),
    )
    assert "Priya MBA in Business Analytics" in rendered.html


def test_windows_line_endings_from_a_browser_textarea_are_accepted():
    message = "<mjml>\r\n<mj-head>\r\n<mj-title>Hi</mj-title>\r\n</mj-head>\r\n" + mjml(
        "<mj-text>Hi {{ customer.first_name }}</mj-text>"
    ).removeprefix("<mjml>")
    assert check_template(type="email", subject="x", message=message) == []
    assert "Hi Asha" in render_message(email(message), context()).html


def test_an_oversized_template_is_refused_before_parsing():
    errors = check_template(type="email", subject="x", message="{{ a }}" * 40_000)
    assert [(e.field, e.message) for e in errors] == [("message", "is longer than 200,000 chars")]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2027-01-15", "15 Jan 2027 00:00"),
        ("2026-11-20T14:05:00Z", "20 Nov 2026 14:05"),
        ("2026-11-20T14:05:00+05:30", "20 Nov 2026 14:05"),
        ("March 14, 2016", "14 Mar 2016 00:00"),
        ("not a date", "not a date"),
    ],
)
def test_the_date_filter_reads_iso_dates_and_what_liquid_reads(value, expected):
    template = SimpleNamespace(
        type="whatsapp", subject="", message="{{ customer.attributes.d | date: '%d %b %Y %H:%M' }}"
    )
    assert render_message(template, context(attributes={"d": value})).text == expected
