"""Every page must work under the Content-Security-Policy (no inline script or style).

The policy allows scripts and styles from our own origin only, so an inline
`<script>` body, an `on*=` handler, a `javascript:` link, a `<style>` block or a
`style=` attribute would silently do nothing in the browser. This scans the
project's own templates, and the HTML a few pages actually render (widgets and
third-party templates write markup too).
"""

from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings

# Scripts the browser does not execute are data, which the policy allows.
DATA_SCRIPT_TYPES = {"application/json", "application/ld+json"}
# Documents for the template preview frame: served only under templates_app's
# PREVIEW_CSP, which allows inline style (emails are styled inline) and no script.
PREVIEW_FRAME_TEMPLATES = {"preview_errors.html", "preview_whatsapp.html"}


class InlineCodeFinder(HTMLParser):
    def __init__(self, *, allow_style: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.allow_style = allow_style
        self.problems: list[str] = []
        self.open_script: tuple[int, bool] | None = None  # (line, executable)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        line, found = self.getpos()[0], dict(attrs)
        for name, value in attrs:
            if name.startswith("on") or (name == "style" and not self.allow_style):
                self.problems.append(f"line {line}: <{tag} {name}=...>")
            if name in {"href", "src", "action"} and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.problems.append(f"line {line}: <{tag} {name}=javascript:...>")
        if tag == "style" and not self.allow_style:
            self.problems.append(f"line {line}: <style> block")
        if tag == "script" and "src" not in found:
            self.open_script = (line, found.get("type") not in DATA_SCRIPT_TYPES)

    def handle_data(self, data: str) -> None:
        if self.open_script and self.open_script[1] and data.strip():
            self.problems.append(f"line {self.open_script[0]}: inline <script> body")
            self.open_script = None

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self.open_script = None


def inline_code(html: str, *, allow_style: bool = False) -> list[str]:
    finder = InlineCodeFinder(allow_style=allow_style)
    finder.feed(html)
    finder.close()
    return finder.problems


def project_templates() -> list[Path]:
    roots = [Path(d) for d in settings.TEMPLATES[0]["DIRS"]]
    roots += [
        Path(config.path) / "templates"
        for config in apps.get_app_configs()
        if Path(config.path).is_relative_to(settings.BASE_DIR)
        and "site-packages" not in Path(config.path).parts
    ]
    return sorted(path for root in roots for path in root.rglob("*.html"))


def test_the_scan_finds_every_kind_of_inline_code():
    html = """<a href="javascript:go()">x</a><p style="color:red" onclick="go()">y</p>
    <style>p{}</style><script>go()</script><script src="/static/a.js"></script>
    <script type="application/json">{"data": 1}</script>"""

    assert len(inline_code(html)) == 5
    assert len(inline_code(html, allow_style=True)) == 3


def test_the_project_has_templates_to_scan():
    assert len(project_templates()) > 20


@pytest.mark.parametrize(
    "template", project_templates(), ids=lambda p: str(p.relative_to(settings.BASE_DIR))
)
def test_no_template_has_inline_script_or_style(template):
    allow_style = template.name in PREVIEW_FRAME_TEMPLATES
    assert inline_code(template.read_text(), allow_style=allow_style) == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/login/",
        "/customers/",
        "/events/",
        "/segments/",
        "/segments/new/",
        "/templates/",
        "/templates/new/",
        "/automations/",
        "/automations/new/",
        "/imports/",
        "/imports/new/",
        "/api/v1/docs",
    ],
)
def test_rendered_pages_have_no_inline_script_or_style(logged_in, url):
    response = logged_in.get(url)

    assert response.status_code == 200
    assert inline_code(response.content.decode()) == []
