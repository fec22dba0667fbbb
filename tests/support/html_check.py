"""Reading a stored HTML page the way a browser would, strictly: the stdlib parser plus an element stack.

``parse`` fails on what a browser would silently repair and a test should not
let through: an end tag that closes nothing open, an element left open at the
end, a second ``<html>``/``<head>``/``<body>``, a ``<script>``. It returns
every start tag with its attributes and the text a reader sees, so a test can
ask whether the page fetches or links anything from another host.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
# End tags HTML lets a document omit; the monitor's pages close them anyway, but a parse must not fail on them.
OPTIONAL_END = {"p", "li", "dt", "dd", "tr", "td", "th", "thead", "tbody", "option"}
# Elements a browser sets apart from their neighbours: their text is joined with a space, as a reader sees it.
SEPARATED = {"p", "li", "td", "th", "tr", "div", "section", "h1", "h2", "h3", "h4", "h5", "br", "dt", "dd", "caption"}
URL_ATTRIBUTES = ("src", "srcset", "href", "action", "formaction", "poster", "data", "background", "xlink:href")
_EXTERNAL = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:|//)", re.IGNORECASE)


class InvalidHtml(AssertionError):
    pass


@dataclass
class ParsedPage:
    doctype: str = ""
    tags: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    text: str = ""
    styles: str = ""

    def attributes(self, name: str) -> list[str]:
        return [attrs[name] for _tag, attrs in self.tags if name in attrs]

    def references(self) -> list[tuple[str, str, str]]:
        """(tag, attribute, value) of every attribute that names a URL."""
        return [(tag, name, attrs[name]) for tag, attrs in self.tags for name in URL_ATTRIBUTES if name in attrs]

    def external_references(self, *, allowed_hosts: tuple[str, ...] = ()) -> list[tuple[str, str, str]]:
        """References with a scheme or to another host (``//host``), except ``href`` links to ``allowed_hosts``."""
        out = []
        for tag, name, value in self.references():
            if not _EXTERNAL.match(value):
                continue
            if name == "href" and any(value.startswith(f"https://{host}/") for host in allowed_hosts):
                continue
            out.append((tag, name, value))
        return out


class _Strict(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = ParsedPage()
        self.stack: list[str] = []
        self.seen: dict[str, int] = {}
        self._text: list[str] = []
        self._style: list[str] = []

    def handle_decl(self, decl: str) -> None:
        self.page.doctype = decl

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            raise InvalidHtml("a <script> element")
        self.seen[tag] = self.seen.get(tag, 0) + 1
        if tag in ("html", "head", "body", "title") and self.seen[tag] > 1:
            raise InvalidHtml(f"a second <{tag}>")
        self.page.tags.append((tag, {k: v or "" for k, v in attrs}))
        if tag in SEPARATED:
            self._text.append(" ")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            raise InvalidHtml(f"an end tag for the void element <{tag}>")
        while self.stack and self.stack[-1] != tag and self.stack[-1] in OPTIONAL_END:
            self.stack.pop()
        if not self.stack or self.stack[-1] != tag:
            raise InvalidHtml(f"</{tag}> closes nothing open (open: {self.stack[-3:]})")
        self.stack.pop()
        if tag in SEPARATED:
            self._text.append(" ")

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1] == "style":
            self._style.append(data)
        else:
            self._text.append(data)


def parse(document: str) -> ParsedPage:
    """The page, or InvalidHtml saying what a strict reader would object to."""
    parser = _Strict()
    parser.feed(document)
    parser.close()
    if parser.page.doctype.lower() != "doctype html":
        raise InvalidHtml(f"not an HTML5 document (doctype {parser.page.doctype!r})")
    if parser.stack:
        raise InvalidHtml(f"elements left open: {parser.stack}")
    parser.page.text = re.sub(r"\s+", " ", "".join(parser._text))
    parser.page.styles = "".join(parser._style)
    return parser.page
