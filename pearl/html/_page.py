"""The template environment every page is rendered with, and what makes a page safe to open.

Pages are Jinja2 templates with autoescaping on: text from a document, a question or a model
is always escaped, never pasted into markup. Data for a page's script travels as JSON in a
`<script type="application/json">` block, with `<`, `>`, `&`, U+2028 and U+2029 escaped so
no string can end the block or start a tag. Each page carries a Content-Security-Policy that
lets it load nothing (no network, no other file) and run only its own inline script and
style, named by their hashes.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import re
from collections.abc import Collection
from importlib import resources
from typing import Any

import jinja2
from markupsafe import Markup

from pearl._text import CONTROL_PICTURES, PLACE, citations

__all__ = ["asset", "cite_parts", "json_script", "render_page"]

_NUMBER = re.compile(r"\d+")

_JSON_ESCAPES = (
    ("<", "\\u003c"),
    (">", "\\u003e"),
    ("&", "\\u0026"),
    ("\u2028", "\\u2028"),
    ("\u2029", "\\u2029"),
)


def json_script(value: Any) -> Markup:
    """`value` as JSON that is safe inside a `<script type="application/json">` block of an HTML page."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for raw, escaped in _JSON_ESCAPES:
        text = text.replace(raw, escaped)
    return Markup(text)


def cite_parts(text: str, sentences: int | None = None, shown: Collection[int] | None = None) -> list[tuple[str, str]]:
    """`text` cut into ("text", ...) and ("cite", "12") pieces, so a template can link each `[S12]`.

    A citation of several labels (`[S12, S14]`, `[S3-S5]`: `pearl._text.citations`) becomes a piece for each. One
    that its links cannot say whole (a label of no sentence, a range running past the document's end, a year after
    a label) keeps its text as written, after the links to the sentences of it that exist: `[S8-S12]` in a document
    of 10 sentences is links to S8 and S9, then `[S8-S12]`, not `[S10][S11][S12]`, labels the model never wrote. A
    range too long to name every sentence of (`pearl._text.RANGE_LIMIT`) is its two ends joined by a dash.

    Args:
        sentences: the document's sentence count, when known: a label past its end (a model's
            made-up `[S600]`) stays text, not a link to nothing.
        shown: the labels the question's calls were shown, when known: another (one the model made up, or
            copied from an instruction's example) stays text, not a link to a sentence no call saw.
    """
    parts: list[tuple[str, str]] = []
    last = 0
    for start, end, ids in citations(text):
        linked = [sid for sid in ids if (sentences is None or sid < sentences) and (shown is None or sid in shown)]
        if not linked:
            continue  # left in the text around it
        if start > last:
            parts.append(("text", text[last:start]))
        written = text[start:end]
        spans = _spanned(written)
        for n, sid in enumerate(linked):
            if n and sid - linked[n - 1] > 1 and (linked[n - 1], sid) in spans:
                parts.append(("text", "\u2013"))  # a range too long to link whole, read as one: "[S84]–[S120]"
            parts.append(("cite", str(sid)))
        # Every number in a citation is a label's but a year the reader left out ("[S3, 2021]") and a page after the
        # labels ("[S3, p. 4]"), which the link's sentence shows.
        numbers = _NUMBER.findall(PLACE.sub("", written))
        if len(linked) < len(ids) or any(int(number) not in ids for number in numbers):
            parts.append(("text", written))
        last = end
    if last < len(text):
        parts.append(("text", text[last:]))
    return [(kind, value.translate(_PICTURED) if kind == "text" else value) for kind, value in parts]


_RANGE = re.compile(r"(\d+)[ \t]*(?:[-\u2013\u2014]|to)[ \t]*(?:S[ \t]*)?(\d+)", re.IGNORECASE)


def _spanned(written: str) -> set[tuple[int, int]]:
    """The (first, last) labels of each range a citation writes ("[S84-S120]"): one too long for `citations` to name
    every sentence of names its ends alone, which would read as two citations."""
    return {(int(a), int(b)) for a, b in _RANGE.findall(PLACE.sub("", written))}


_PICTURED = {c: picture for c, picture in CONTROL_PICTURES.items() if c not in (0x09, 0x0A, 0x0D)}
"""Control characters a model wrote, shown as their pictures (ESC as ␛), as the terminal shows them: a page drew them
as empty boxes (helper-217)."""


@functools.cache
def asset(name: str) -> str:
    """A static file shipped beside the templates (a page's CSS or script), as text."""
    return (resources.files("pearl.html") / "templates" / name).read_text(encoding="utf-8")


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("pearl.html", "templates"),
        autoescape=True,  # every template, whatever its name: page text is untrusted
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["json_script"] = json_script
    env.filters["cite_parts"] = cite_parts
    return env


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def render_page(template: str, script: str, **context: Any) -> str:
    """Render `template` with the shared stylesheet and the script asset `script`, under a policy naming both.

    Args:
        template: a template file name (e.g. "answer.html.j2").
        script: the page's script asset (e.g. "answer.js"); the only script the page may run.
        context: the template's variables.
    """
    style = asset("page.css")
    code = asset(script)
    csp = "; ".join(
        [
            "default-src 'none'",
            f"script-src {_sha256(code)}",
            f"style-src {_sha256(style)}",
            "img-src data:",
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )
    page = _environment().get_template(template)
    return page.render(csp=csp, style=Markup(style), script=Markup(code), **context)
