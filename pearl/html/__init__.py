"""Pages to look at: an answer with its plan, excerpts and document, and an evaluation run's report.

>>> answer = Pearl().ask("contract.pdf", "When does the agreement end?")
>>> Path("answer.html").write_text(render_answer_page(answer, index_for_trace(answer.trace)))
>>> trace = Trace.model_validate_json(Path("t.json").read_text())
>>> Path("t.html").write_text(render_trace_page(trace, index_for_trace(trace)))

Every page is one self-contained file (inline style and script, no network, opens from
disk), built from Jinja2 templates with autoescaping: document text, questions and model
output are always text, never markup. Long documents are drawn in chunks as they scroll
into view.
"""

from __future__ import annotations

from pearl.html._answer import render_answer_page, render_trace_page
from pearl.html._document import index_for_page, index_for_trace
from pearl.html._report import DEMO_SCORES, UNCACHED_NOTE, render_report_page

__all__ = [
    "DEMO_SCORES",
    "UNCACHED_NOTE",
    "index_for_page",
    "index_for_trace",
    "render_answer_page",
    "render_report_page",
    "render_trace_page",
]
