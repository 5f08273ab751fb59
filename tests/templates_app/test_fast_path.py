"""The fast path renders exactly what python-liquid renders.

`compile_template` merges text and `{{ a.b }}` outputs into fast nodes; each
compiled part keeps the template python-liquid parsed as `.plain`. Every case
here renders both ways and compares subject, HTML and text byte for byte, or the
error when rendering fails.
"""

import dataclasses
import importlib.util
from collections import OrderedDict
from pathlib import Path

import pytest

from customers.personalisation import sample_context
from templates_app import rendering
from templates_app.rendering import RenderError, compile_template, render_compiled

ROOT = Path(__file__).resolve().parents[2]
STARTERS = importlib.import_module("templates_app.migrations.0002_starter_templates").STARTERS


def _bench_module():
    spec = importlib.util.spec_from_file_location("bench_render", ROOT / "bench" / "render.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BENCH = _bench_module()


def mjml(body: str) -> str:
    opening = "<mjml><mj-body><mj-section><mj-column>"
    return f"{opening}\n{body}\n</mj-column></mj-section></mj-body></mjml>"


def customer(**changes) -> dict:
    base = {
        "id": 7,
        "lms_lead_id": "LMS-0000007",
        "first_name": "Asha",
        "last_name": "Verma",
        "email": "asha@example.com",
        "mobile": "+91 90000 00007",
        "attributes": {
            "course": "MBA in Business Analytics",
            "intake_date": "2027-01-15",
            "last_login": "2026-11-20T14:05:00+00:00",
            "application_score": 82,
            "gpa": 3.75,
            "scholarship_eligible": True,
            "paid": False,
            "interests": ["Data science", "Finance", "<b>Law</b>"],
            "address": {"city": "Pune & Mumbai", "pin": 411001},
            "friends": [{"first_name": "Ravi"}, {"first_name": "Meera <3"}],
            "size": "XL",
            "nothing": None,
        },
    }
    return base | changes


CONTEXTS = {
    "plain": {"customer": customer(), "unsubscribe_url": "https://mos.example.com/u/7/"},
    "hostile": {
        "customer": customer(
            first_name="<script>alert('x')</script>",
            last_name='x" onclick="steal()',
            email="a&b@example.com",
            mobile="'quoted' & \"double\"",
        ),
        "unsubscribe_url": "https://mos.example.com/u/?a=1&b=2",
    },
    "sparse": {
        "customer": {"id": 8, "first_name": "", "last_name": None, "attributes": {}},
        "unsubscribe_url": "",
    },
    "odd types": {
        "customer": customer(
            first_name=True,
            last_name=3.5,
            email=["a@example.com"],
            mobile=OrderedDict(number="+91"),
            attributes=OrderedDict(course="Law"),
        ),
        "unsubscribe_url": 12,
        "partial": "context value",
    },
    "no customer": {"unsubscribe_url": "https://mos.example.com/u/9/"},
}

FIELDS = (
    "{{ customer.first_name }} {{ customer.last_name }} ({{ customer.email }}) "
    "{{ customer.mobile }} {{ customer.id }} {{ customer['lms_lead_id'] }}"
)
EDGE_CASES = {
    "fields and escaping": FIELDS,
    "attributes": '<a href="https://example.com/?n={{ customer.last_name }}'
    '&m={{ customer.email }}">{{ unsubscribe_url }}</a>',
    "missing": "[{{ customer.attributes.nope }}][{{ nothing.at.all }}][{{ customer.mobile.x }}]"
    "[{{ customer.attributes.nothing }}][{{ customer.first_name.missing }}]",
    "nested": "{{ customer.attributes.address.city }} {{ customer.attributes.address.pin }}",
    "arrays": "{{ customer.attributes.interests }}|{{ customer.attributes.interests.first }}|"
    "{{ customer.attributes.interests.last }}|{{ customer.attributes.interests.size }}|"
    "{{ customer.attributes.interests[1] }}|{{ customer.attributes.size }}|"
    "{{ customer.first_name.size }}|{{ customer.attributes.friends.first.first_name }}",
    "numbers and booleans": "{{ customer.attributes.application_score }}"
    " {{ customer.attributes.gpa }} {{ customer.attributes.scholarship_eligible }}"
    " {{ customer.attributes.paid }} {{ customer.attributes.application_score | plus: 1 }}"
    " {{ customer.attributes.gpa | times: 2 }}",
    "dates": "{{ customer.attributes.intake_date | date: '%d %B %Y' }} "
    "{{ customer.attributes.last_login | date: '%H:%M %Z' }} {{ customer.first_name | date: '%Y' }}"
    " {{ customer.id | date: '%Y' }}",
    "filters": "{{ customer.first_name | default: 'there' }} {{ customer.mobile | default: 'n/a' }}"
    " {{ customer.attributes.paid | default: 'unpaid' }} {{ customer.first_name | upcase }}"
    " {{ customer.last_name | downcase | append: '!' }} {{ customer.email | escape }}"
    " {{ customer.first_name | truncate: 4 }} {{ customer.nope | default: customer.email }}"
    " {{ customer.attributes.interests | join: ' & ' }} {{ customer.first_name | size }}"
    " {{ customer.first_name | replace: 'a', '<' }} {{ customer.id | plus: customer.id }}",
    "whitespace control": "a  {{- customer.first_name -}}  b\n  {%- if customer.id -%}\n  yes  "
    "{%- endif -%}\n  c {{- customer.email }}\n{%- for i in customer.attributes.interests -%}"
    "\n [{{- i -}}] \n{%- endfor %}",
    "conditions": "{% if customer.attributes.scholarship_eligible %}S {{ customer.first_name }}"
    "{% elsif customer.id > 3 %}E {{ customer.last_name }}{% else %}N{% endif %}"
    "{% unless customer.attributes.paid %}unpaid {{ customer.email }}{% endunless %}"
    "{% case customer.attributes.course %}{% when 'Law', 'MBA in Business Analytics' %}"
    "C {{ customer.attributes.course }}{% else %}other{% endcase %}",
    "loops": "{% for interest in customer.attributes.interests limit: 2 %}"
    "{{ forloop.index }}:{{ interest }} for {{ customer.first_name }};{% else %}none{% endfor %}"
    "{% for i in customer.attributes.interests reversed %}{% if forloop.first %}{% continue %}"
    "{% endif %}{{ i }}{% break %}{% endfor %}"
    "{% for a in (1..2) %}{% for b in (1..2) %}{{ forloop.parentloop.index }}{{ b }}"
    "{% endfor %}{% endfor %}",
    "loop variable shadows the context": "{% for customer in customer.attributes.friends %}"
    "{{ customer.first_name }} {{ forloop.index }} {{ unsubscribe_url }}|{% endfor %}"
    "{{ customer.first_name }}",
    "assign shadows the context": "{% assign customer = 'x' %}{{ customer }}"
    " {{ customer.first_name }}",
    "capture": "{% capture greeting %}Hi {{ customer.first_name }}{% endcapture %}"
    "{{ greeting }} {{ customer.email }}",
    "counters": "{% increment n %}{{ n }} {{ customer.id }} {% decrement unsubscribe_url %}"
    "{{ unsubscribe_url }}",
    "partial and builtins": "[{{ partial }}][{{ now | date: '%Y' | size }}][{{ today | size }}]",
    "literals": "{{ 'a<b' }} {{ 1 }} {{ true }} {{ nil }} {{ empty }} {{ blank }} {{ (1..3) }}",
    "dynamic paths": "{{ customer.attributes[customer.attributes.size] }}"
    " {{ customer[customer.attributes.course] }}",
    "raw and comments": "{% raw %}{{ customer.first_name }}{% endraw %}"
    "{% comment %}{{ customer.email }}{% endcomment %}{% # {{ x }} %}{{ customer.id }}",
    "liquid tag": "{% liquid\nif customer.id\necho customer.first_name\nendif %}",
    "stateful tags": "{% for i in (1..3) %}{% cycle 'a', 'b' %}{% ifchanged %}{{ customer.id }}"
    "{% endifchanged %}{% endfor %}{% tablerow i in (1..2) %}{{ customer.first_name }}"
    "{% endtablerow %}",
    "unicode": "नमस्ते {{ customer.first_name }} — ✓ {{ customer.attributes.address.city }}",
    "empty": "",
}


def plain(compiled: rendering.CompiledTemplate) -> rendering.CompiledTemplate:
    """The same template rendered by python-liquid alone."""
    parts = {name: getattr(compiled, name) for name in ("subject", "html", "text")}
    return dataclasses.replace(
        compiled, **{name: getattr(t, "plain", t) for name, t in parts.items() if t is not None}
    )


def outcome(compiled: rendering.CompiledTemplate, context: dict) -> object:
    try:
        return render_compiled(compiled, context)
    except RenderError as error:
        return f"RenderError: {error}"


def assert_same_both_ways(type_: str, subject: str, message: str) -> None:
    compiled = compile_template(type_, subject, message)
    for name, context in CONTEXTS.items():
        assert outcome(compiled, context) == outcome(plain(compiled), context), name


CORPUS = [
    ("bench", BENCH.SUBJECT, BENCH.MESSAGE),
    *[(starter["name"], starter["subject"], starter["message"]) for starter in STARTERS],
]


@pytest.mark.parametrize(("name", "subject", "message"), CORPUS, ids=[c[0] for c in CORPUS])
def test_real_templates_render_the_same_through_the_fast_path(name, subject, message):
    assert_same_both_ways("email", subject, message)


@pytest.mark.parametrize("source", EDGE_CASES.values(), ids=EDGE_CASES.keys())
def test_edge_cases_render_the_same_in_email_subject_and_whatsapp(source):
    assert_same_both_ways("email", source, mjml(f"<mj-text>{source}</mj-text>"))
    assert_same_both_ways("email", "", mjml(f"<mj-raw><p>{source}</p></mj-raw>"))
    assert_same_both_ways("whatsapp", source, source)


def test_the_bench_customers_render_the_same_through_the_fast_path():
    compiled = compile_template("email", BENCH.SUBJECT, BENCH.MESSAGE)
    for context in BENCH.customers(60):
        assert render_compiled(compiled, context) == render_compiled(plain(compiled), context)


def test_the_sample_customer_renders_the_same_in_every_starter():
    context = sample_context(unsubscribe_url="https://mos.example.com/u/preview/")
    for starter in STARTERS:
        compiled = compile_template("email", starter["subject"], starter["message"])
        assert render_compiled(compiled, context) == render_compiled(plain(compiled), context)


def test_limits_fail_the_same_way_through_the_fast_path():
    too_long = "{% for i in (1..9000) %}" + "{{ customer.email }}" * 20 + "{% endfor %}"
    too_many = "{% for i in (1..200) %}{% for j in (1..200) %}{{ customer.id }}{% endfor %}"
    too_many += "{% endfor %}"
    for source in (too_long, too_many):
        compiled = compile_template("whatsapp", "", source)
        fast = outcome(compiled, CONTEXTS["plain"])
        assert fast == outcome(plain(compiled), CONTEXTS["plain"])
        assert str(fast).startswith("RenderError: ")


def test_the_bench_template_takes_the_fast_path_and_keeps_the_plain_tree_untouched():
    compiled = compile_template("email", BENCH.SUBJECT, BENCH.MESSAGE)
    for part in (compiled.subject, compiled.html, compiled.text):
        assert type(part.nodes[0]).__name__ == "_Run"
        assert all(type(node).__name__ != "_Run" for node in part.plain.nodes)


def test_a_template_that_assigns_stays_on_plain_liquid():
    source = "{% assign x = 1 %}{{ customer.first_name }}{{ x }}"
    compiled = compile_template("whatsapp", "", source)
    assert not hasattr(compiled.text, "plain")
