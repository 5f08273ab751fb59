"""The plain-text alternative of an HTML email: readable text, links kept as text.

Runs once per template version (over compiled MJML that still holds Liquid
placeholders), not once per recipient; see rendering.py.
"""

import re
from html.parser import HTMLParser

SKIPPED = {"head", "style", "script", "title"}
BLOCKS = {
    "address", "article", "blockquote", "br", "div", "footer", "h1", "h2", "h3", "h4", "h5",
    "h6", "header", "hr", "li", "ol", "p", "pre", "section", "table", "tr", "ul",
}  # fmt: skip
SPACES = re.compile(r"[ \t\r\f\v\xa0]+")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
HIDDEN = re.compile(r"display\s*:\s*none")
NEVER = re.compile(r"(?!x)x")


def html_to_text(html: str, *, keep: re.Pattern = NEVER) -> str:
    """Text of `html`. Matches of `keep` found where text is dropped (attributes,
    <head>) are kept anyway, so template tags there stay balanced."""
    parser = _TextParser(keep)
    parser.feed(html)
    parser.close()
    return parser.text()


class _TextParser(HTMLParser):
    def __init__(self, keep: re.Pattern):
        super().__init__(convert_charrefs=True)
        self.keep = keep
        self.chunks: list[str] = []
        self.skipping = 0
        self.open_tags = 0  # non-void elements open
        self.hidden_at: list[int] = []  # open_tags where a display:none element began
        self.link: tuple[str, int] | None = None  # (href, index of its first chunk)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self._keep_tags(" ".join(v or "" for k, v in attrs if k != "href"))
        if tag not in VOID:
            self.open_tags += 1
            if HIDDEN.search(values.get("style") or ""):  # e.g. MJML's preview text
                self.hidden_at.append(self.open_tags)
                self.skipping += 1
        if tag in SKIPPED:
            self.skipping += 1
        elif tag in BLOCKS:
            self.chunks.append("\n")
        if tag == "a":
            self.link = (values.get("href") or "", len(self.chunks))
        elif tag == "img" and self.link and values.get("alt"):
            self.chunks.append(values["alt"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID:
            if self.hidden_at and self.hidden_at[-1] == self.open_tags:
                self.hidden_at.pop()
                self.skipping -= 1
            self.open_tags -= 1
        if tag in SKIPPED:
            self.skipping = max(self.skipping - 1, 0)
        elif tag in BLOCKS:
            self.chunks.append("\n")
        elif tag == "a" and self.link:
            self._close_link(*self.link)

    def handle_data(self, data: str) -> None:
        if self.skipping:
            self._keep_tags(data)
        else:
            self.chunks.append(SPACES.sub(" ", data.replace("\n", " ")))

    def _close_link(self, href: str, first: int) -> None:
        self.link = None
        label = "".join(self.chunks[first:]).strip()
        if href and not href.startswith("#") and href.removeprefix("mailto:") not in label:
            self.chunks.append(f" ({href})" if label else href)

    def _keep_tags(self, text: str) -> None:
        self.chunks.extend(self.keep.findall(text))

    def text(self) -> str:
        lines = (SPACES.sub(" ", line).strip() for line in "".join(self.chunks).split("\n"))
        text = "\n".join(lines)
        return re.sub(r"\n{3,}", "\n\n", text).strip()
