"""What every HTML page the monitor writes shares: escaping untrusted text, the style sheet, the document.

The status page (html_page.py) and the index of pages in S3 (status_page.py)
are built from these. Everything from SES and DNS is untrusted: it is
HTML-escaped, its control and format characters (newline, ESC, bidi
overrides, zero-width characters) are shown as marked ``\\u202e``-style
escapes, and it is wrapped in ``<bdi>`` so right-to-left text cannot reorder
the page around it.
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Iterable

from .. import i18n

# Line and paragraph separators are not "C" characters but break lines like a newline does.
_SHOWN_CATEGORIES = ("Zl", "Zp")


def _codepoint(ch: str) -> str:
    """The escape the terminal report prints for ``ch`` (``\\x1b``, ``\\u202e``), so the two agree."""
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _hidden(ch: str) -> bool:
    category = unicodedata.category(ch)
    return category[0] == "C" or category in _SHOWN_CATEGORIES


def escape_attr(text: str) -> str:
    """Untrusted text for an attribute or ``<title>``: escaped, control/format characters as escapes."""
    return html.escape("".join(_codepoint(ch) if _hidden(ch) else ch for ch in text), quote=True)


def escape_html(text: str) -> str:
    """Untrusted text for the page body: escaped, isolated, invisible characters made visible.

    Each control or format character becomes a marked escape (``\\u202e`` in a
    dashed box, its Unicode name on hover) so it cannot be mistaken for text
    the record really shows.
    """
    if text.isprintable():  # the common case: no control, format or separator character but the space
        return f"<bdi>{html.escape(text, quote=True)}</bdi>"
    out = []
    for ch in text:
        if _hidden(ch):
            name = unicodedata.name(ch, "")
            label = f"U+{ord(ch):04X} {name}".strip()
            out.append(f'<span class="esc" title="{html.escape(label, quote=True)}">{_codepoint(ch)}</span>')
        else:
            out.append(html.escape(ch, quote=True))
    return "<bdi>" + "".join(out) + "</bdi>"


_STYLE = """
:root{color-scheme:light dark;
--bg:#fff;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--card:#f6f8fa;--code:#eaeef2;--link:#0550ae;
--crit-bg:#ffebe9;--crit-fg:#82071e;--crit-line:#cf222e;
--warn-bg:#fff8c5;--warn-fg:#6c4400;--warn-line:#bf8700;
--info-bg:#ddf4ff;--info-fg:#0a3069;--info-line:#0969da;
--ok-bg:#dafbe1;--ok-fg:#0f5323;--ok-line:#1a7f37;
--unk-bg:#fbefff;--unk-fg:#512a97;--unk-line:#8250df}
@media (prefers-color-scheme:dark){:root{
--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--line:#3d444d;--card:#151b23;--code:#212830;--link:#71b7ff;
--crit-bg:#3c0d12;--crit-fg:#ffb8b0;--crit-line:#f85149;
--warn-bg:#342600;--warn-fg:#f2cc60;--warn-line:#d29922;
--info-bg:#0c2a4a;--info-fg:#a5d6ff;--info-line:#4493f8;
--ok-bg:#0d2e1a;--ok-fg:#7ee2a8;--ok-line:#3fb950;
--unk-bg:#2a1748;--unk-fg:#dcbdfb;--unk-line:#ab7df8}}
*{box-sizing:border-box}
html{background:var(--bg);color:var(--fg)}
body{margin:0 auto;max-width:72rem;padding:1.5rem;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,
"Helvetica Neue",Arial,"Hiragino Sans","Yu Gothic UI","Noto Sans CJK JP",sans-serif;overflow-wrap:break-word}
:lang(ja) body{line-break:strict;word-break:normal}
.served{margin:0 0 .6rem;font-size:.92rem}
.finding ul.each{margin:0 0 .3rem;padding-left:1.1rem}
.finding p.shared{margin:.2rem 0 0}
dd,pre,.any{overflow-wrap:anywhere}
.nowrap{white-space:nowrap}
h1{font-size:1.6rem;margin:0 0 .25rem}
h2{font-size:1.3rem;margin:2rem 0 .75rem;padding-bottom:.3rem;border-bottom:1px solid var(--line)}
h3{font-size:1.05rem;margin:1.5rem 0 .5rem;color:var(--muted)}
h3 bdi{color:var(--fg)}
h4{font-size:1.05rem;margin:0;display:flex;gap:.5rem;align-items:baseline;flex-wrap:wrap}
h5{font-size:.95rem;margin:0 0 .25rem}
a{color:var(--link)}
code,pre,.mono{font-family:ui-monospace,SFMono-Regular,"SF Mono",Menlo,Consolas,"Liberation Mono",monospace;
font-size:.9em}
code{background:var(--code);padding:.05em .3em;border-radius:4px}
pre{background:var(--code);padding:.6rem .8rem;border-radius:6px;margin:.25rem 0 0;white-space:pre-wrap}
pre code{background:none;padding:0}
.muted,.meta{color:var(--muted)}
.meta{margin:.15rem 0 .6rem;font-size:.9rem}
.badge{display:inline-block;font:700 .72rem/1.1 system-ui,sans-serif;letter-spacing:.04em;padding:.22em .5em;
border-radius:4px;border:1px solid;white-space:nowrap;vertical-align:.1em}
.b-critical,.b-problem,.b-incomplete{background:var(--crit-bg);color:var(--crit-fg);border-color:var(--crit-line)}
.b-warning{background:var(--warn-bg);color:var(--warn-fg);border-color:var(--warn-line)}
.b-info{background:var(--info-bg);color:var(--info-fg);border-color:var(--info-line)}
.b-ok{background:var(--ok-bg);color:var(--ok-fg);border-color:var(--ok-line)}
.b-unknown{background:var(--unk-bg);color:var(--unk-fg);border-color:var(--unk-line)}
.esc{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85em;border:1px dashed var(--crit-line);
color:var(--crit-fg);background:var(--crit-bg);border-radius:3px;padding:0 .15em;margin:0 .05em}
.scanned{margin:0;color:var(--muted)}
.incomplete{border:2px solid var(--crit-line);background:var(--crit-bg);border-radius:8px;padding:.25rem 1rem 1rem;
margin:1.25rem 0}
.incomplete h2{border:0;margin:.6rem 0 .25rem;color:var(--crit-fg)}
.incomplete table{background:var(--bg)}
.tiles{list-style:none;display:flex;flex-wrap:wrap;gap:.6rem;margin:.5rem 0;padding:0}
.tile{border:1px solid var(--line);border-left-width:6px;border-radius:8px;padding:.4rem .9rem;min-width:9rem;
background:var(--card)}
.tile .n{display:block;font-size:1.6rem;font-weight:700;line-height:1.2}
.tile a{color:inherit;text-decoration:none}
.tile a:hover .l,.tile a:focus .l{text-decoration:underline}
.t-problem,.t-critical{border-left-color:var(--crit-line)}
.t-warning{border-left-color:var(--warn-line)}
.t-info{border-left-color:var(--info-line)}
.t-ok{border-left-color:var(--ok-line)}
.t-unknown{border-left-color:var(--unk-line)}
table{border-collapse:collapse;width:100%;margin:.4rem 0}
th,td{text-align:left;vertical-align:top;padding:.35rem .6rem;border-bottom:1px solid var(--line)}
thead th{font-size:.85rem;color:var(--muted);border-bottom-width:2px}
.facts{width:auto}
.facts th{font-weight:600;padding-right:1.5rem}
.facts td{overflow-wrap:anywhere}
.scroll{overflow-x:auto}
.identity{border:1px solid var(--line);border-left:6px solid var(--line);border-radius:8px;padding:.8rem 1rem;
margin:.75rem 0;background:var(--card)}
.st-problem{border-left-color:var(--crit-line)}
.st-unknown{border-left-color:var(--unk-line)}
.name{font-size:1.1rem}
.findings{list-style:none;margin:0;padding:0}
.finding{border-top:1px solid var(--line);padding:.6rem 0 .5rem}
.finding-head{margin:0 0 .35rem;display:flex;gap:.5rem;align-items:baseline;flex-wrap:wrap}
.finding dl{display:grid;grid-template-columns:4rem 1fr;gap:.2rem .9rem;margin:0}
.finding dt{color:var(--muted);font-size:.85rem;padding-top:.1rem}
.finding dd{margin:0}
.record{background:var(--bg);font-size:.9rem;margin:.1rem 0}
.record th,.record td{padding:.25rem .5rem}
.fixcmd{margin-top:.6rem;padding-top:.6rem;border-top:1px solid var(--line)}
.fixcmd p{margin:0 0 .2rem;font-size:.9rem}
.ok-list{font-size:.92rem}
.ok-list th[scope=row]{font-weight:600}
.ok-list td,.ok-list th{padding:.25rem .6rem}
details summary{cursor:pointer;color:var(--link)}
details ul{margin:.3rem 0;padding-left:1.2rem}
.none{padding:.6rem 1rem;border:1px solid var(--line);border-radius:8px;background:var(--card)}
.vh{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
footer{margin-top:2.5rem;font-size:.85rem;color:var(--muted)}
@media print{
:root{--bg:#fff;--fg:#000;--muted:#333;--line:#999;--card:#fff;--code:#f2f2f2;--link:#000;
--crit-bg:#fff;--crit-fg:#000;--crit-line:#000;--warn-bg:#fff;--warn-fg:#000;--warn-line:#555;
--info-bg:#fff;--info-fg:#000;--info-line:#999;--ok-bg:#fff;--ok-fg:#000;--ok-line:#999;
--unk-bg:#fff;--unk-fg:#000;--unk-line:#555}
body{max-width:none;padding:0;font-size:11pt}
.identity,.finding,.incomplete,tr{break-inside:avoid}
h2,h3,h4{break-after:avoid}
a{text-decoration:none}
}
"""

# default-src 'none' forbids every fetch and script; only the inline <style> (and data: images) may load.
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


def document(title: str, body: Iterable[str], *, lang: str | None = None) -> str:
    """An HTML5 document around ``body`` (markup the caller escaped): the page's head, CSP and inline style.

    Every page the monitor writes uses it, so they share one style sheet and
    one Content-Security-Policy that forbids scripts and fetches. ``lang`` is
    the page's language (default: the current one), for screen readers and fonts.
    """
    return "\n".join(
        [
            "<!DOCTYPE html>",
            f'<html lang="{html.escape(lang or i18n.current(), quote=True)}">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
            '<meta name="color-scheme" content="light dark">',
            '<meta name="referrer" content="no-referrer">',
            f"<title>{escape_attr(title)}</title>",
            f"<style>{_STYLE}</style>",
            "</head>",
            "<body>",
            *(part for part in body if part),
            "</body>",
            "</html>",
            "",
        ]
    )
