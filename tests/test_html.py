"""The HTML pages: answer and trace pages, the evaluation report, and the same pages opened in headless Chromium.

The browser tests skip, saying why, where no Chromium with its driver is installed
(`apt-get install -y chromium chromium-driver`, `pip install selenium`).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from conftest import SAMPLE_DIR
from fakeserver import FakeOpenAIServer
from headless import (
    network_requests,
    open_page,
    page_timings,
    start_chromium,
    synthetic_index,
    synthetic_rows,
    why_not,
)
from typer.testing import CliRunner

from pearl import Pearl, load_settings
from pearl.cli import app
from pearl.context import render_sentences
from pearl.errors import DocumentError, PearlError, ServerError
from pearl.eval import counting_fake_llm, fake_reply, load_dataset, render_report, run_eval, summarize
from pearl.html import index_for_trace, render_answer_page, render_report_page, render_trace_page
from pearl.html._page import cite_parts, json_script
from pearl.llm import CompletionRequest, FakeLLM
from pearl.models import Answer, Citation, Trace, TraceEvent
from pearl.trace import interrupted

runner = CliRunner()
QUESTION = "Why did Varga stay <b>at the light</b>?"
SCRIPT = "<script>window.__pwned = 1</script>"
IMG = '"><img src=x onerror="window.__pwned = 2">'
HOSTILE = (
    "The Keeper of Tr'en Point\n\n"
    "Captain Ilse Varga kept the light at Tr'en Point for eleven years. "
    f"The log for the last night read {SCRIPT} and nothing else. "
    f"Her assistant wrote {IMG} in the margin of the log.\n\n"
    "She stayed because her brother Korvin was lost at sea in the winter of 1903. "
    "Every night she lit the lamp for him, and every morning she wrote the weather in the log.\n\n"
    "In the spring the Board of Lights sent an inspector to the rock. "
    "He found the oil clean and the lens polished, and he went away again."
)
CHAIN = 'who = FIND_CHARACTER(CTX, "Varga")\nwhy = FIND_REASON(CTX, who)'


def hostile_llm(plan: str | None = CHAIN) -> FakeLLM:
    """The counting fake, planning `plan` (None: never a valid plan), its step results carrying markup."""

    def reply(request: CompletionRequest) -> str:
        kind = (request.prompt or "").split(".")[0]
        if kind in ("plan", "plan_fix"):
            return plan if plan is not None else "no plan today"
        text = fake_reply(request)
        return f"{text} {IMG}" if kind == "step" else text

    return FakeLLM(default=reply)


def ask(tmp_path: Path, llm: FakeLLM | None = None, text: str = HOSTILE, **settings: Any) -> Answer:
    document = tmp_path / "keeper.txt"
    document.write_text(text, encoding="utf-8")
    pearl = Pearl(llm=llm or hostile_llm(), settings=load_settings(cache=False, **settings))
    return pearl.ask(document, QUESTION)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def parse(page: str) -> list[tuple[str, dict[str, str | None]]]:
    """Every start tag of `page`, as an HTML parser (a browser's tokenizer) reads it."""
    parser = _Tags()
    parser.feed(page)
    return parser.tags


def script_blocks(page: str) -> list[tuple[str, str]]:
    """(attributes, text) of each script element."""
    return re.findall(r"<script([^>]*)>(.*?)</script>", page, re.DOTALL)


def data_block(page: str, name: str) -> Any:
    return json.loads(next(text for attrs, text in script_blocks(page) if f'id="{name}"' in attrs))


# ---------------------------------------------------------------- what traces record


def test_trace_records_its_document_and_answer(tmp_path: Path) -> None:
    answer = ask(tmp_path)
    trace = Trace.model_validate_json(answer.trace.model_dump_json())
    assert trace.document is not None
    assert trace.document.sources == [str((tmp_path / "keeper.txt").resolve())]
    assert trace.document.content_hash == hashlib.sha256(HOSTILE.encode()).hexdigest()
    assert trace.answer is not None and trace.answer.answer == answer.answer
    assert trace.answer.citations == answer.citations and not trace.answer.trace.events


def test_a_trace_of_a_file_over_the_default_limit_shows_its_document(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Asked with a raised --max-bytes, the file was over the limit `trace html` read it again with, and the note said
    # to raise a --max-bytes that command does not have (helper-212). Here the limit is made small, not the file big.
    import pearl.html._document as pages
    from pearl.documents import load_document

    story = tmp_path / "story.txt"
    story.write_text(HOSTILE, encoding="utf-8")
    answer = Pearl(llm=hostile_llm(), settings=load_settings(cache=False)).ask(story, QUESTION)
    small = 100
    monkeypatch.setattr(pages, "DEFAULT_MAX_BYTES", small, raising=False)
    monkeypatch.setattr(pages, "load_document", lambda sources, max_bytes=small: load_document(sources, max_bytes))
    assert len(HOSTILE.encode()) > small and index_for_trace(answer.trace).sentence_count > 0


def test_text_given_as_such_has_no_sources() -> None:
    answer = Pearl(llm=hostile_llm(), settings=load_settings(cache=False)).ask(HOSTILE, QUESTION)
    assert answer.trace.document is not None and answer.trace.document.sources == []
    with pytest.raises(DocumentError, match="given as text"):
        index_for_trace(answer.trace)


def test_the_cited_sentence_buttons_are_off_when_no_sentence_is_cited(tmp_path: Path) -> None:
    # They did nothing when clicked: nothing to go to.
    story = tmp_path / "story.txt"
    story.write_text(HOSTILE, encoding="utf-8")
    answer = Pearl(llm=hostile_llm(), settings=load_settings(cache=False)).ask(story, QUESTION)
    index = index_for_trace(answer.trace)
    assert answer.citations and 'id="next-cite" title="next cited sentence">' in render_answer_page(answer, index)
    page = render_answer_page(
        answer.model_copy(update={"citations": [], "answer": "Nobody says.", "explanation": None}), index
    )
    assert 'id="prev-cite" title="no sentence is cited" disabled>' in page
    assert 'id="next-cite" title="no sentence is cited" disabled>' in page
    assert _unclosed(page) == [], _unclosed(page)


@pytest.mark.parametrize("method", ["direct", "rag"])
def test_labels_left_out_of_the_evidence_are_not_drawn_as_cited(tmp_path: Path, method: str) -> None:
    # The page marked every label of the answer as cited, [S40] of a 9-sentence story and all that `direct` (shown no
    # labels) wrote, beside notes saying they were left out of the evidence.
    story = tmp_path / "story.txt"
    filler = " ".join(f"Row {n} of the ledger was copied out again." for n in range(300))
    story.write_text(f"{HOSTILE}\n\n{filler}\n", encoding="utf-8")
    fake = FakeLLM(default=lambda request: "She stayed for the lamp [S1] [S250].")
    answer = Pearl(llm=fake, settings=load_settings(cache=False)).ask(story, QUESTION, method=method)
    index = index_for_trace(answer.trace)
    assert index.sentence_count > 250  # [S250] is a sentence: rag was not shown it, and direct is shown no label
    document = data_block(render_answer_page(answer, index), "pearl-document")
    assert document["cited"] == [c.sentence_id for c in answer.citations] == ([1] if method == "rag" else [])
    assert document["used"] == ([1] if method == "rag" else [])


def test_a_folder_is_read_again_file_by_file(tmp_path: Path) -> None:
    folder = tmp_path / "story"
    folder.mkdir()
    first, second = HOSTILE.split("\n\nShe stayed", 1)
    (folder / "a.txt").write_text(first, encoding="utf-8")
    (folder / "b.txt").write_text("She stayed" + second, encoding="utf-8")
    answer = Pearl(llm=hostile_llm(), settings=load_settings(cache=False)).ask(folder, QUESTION)
    assert answer.trace.document is not None
    assert answer.trace.document.sources == [str((folder / name).resolve()) for name in ("a.txt", "b.txt")]
    document = data_block(render_answer_page(answer, index_for_trace(answer.trace)), "pearl-document")
    assert [name for _, name in document["parts"]] == answer.trace.document.sources
    assert document["sentences"][document["parts"][1][0]].startswith("She stayed")
    # A citation is placed in its own file, as the command line places it, not in the folder's joined text.
    index = index_for_trace(answer.trace)
    sid = document["parts"][1][0]
    cited = Citation.of(sid, index.text, index.sent_starts[sid], index.sent_ends[sid], index.parts, index.name)
    page = render_answer_page(answer.model_copy(update={"citations": [cited]}), index)
    assert cited.file_start == 0 < cited.start
    assert f"{cited.source}:0–{cited.file_end}" in page and f"{cited.source}:{cited.start}–" not in page
    said = "The model cited none of the sentences it was shown; these are the closest of them."
    assert said not in page  # the model's own citation
    inferred = cited.model_copy(update={"inferred": True})
    assert said in render_answer_page(answer.model_copy(update={"citations": [inferred]}), index)


def test_index_for_trace_refuses_a_gone_or_changed_file(tmp_path: Path) -> None:
    answer = ask(tmp_path)
    assert index_for_trace(answer.trace).sentence_count > 5
    (tmp_path / "keeper.txt").write_text(HOSTILE + " One more sentence.", encoding="utf-8")
    with pytest.raises(DocumentError, match="changed since the trace was written"):
        index_for_trace(answer.trace)
    (tmp_path / "keeper.txt").unlink()
    with pytest.raises(DocumentError, match="no such file"):
        index_for_trace(answer.trace)
    with pytest.raises(DocumentError, match="older pearl"):
        index_for_trace(Trace())
    # A trace is a file anyone may pass on: one naming "/usr" had it walked for 29 s before its hash refused it, a
    # pipe named there blocked for ever, and a huge file was read whole (helper-160).
    named = answer.trace.document
    assert named is not None
    for sources, said in (([str(tmp_path)], "names what is not a file"), (["/dev/null"], "names what is not a file")):
        forged = answer.trace.model_copy(update={"document": named.model_copy(update={"sources": sources})})
        with pytest.raises(DocumentError, match=said):
            index_for_trace(forged)
    big = tmp_path / "big.txt"
    big.write_text("x" * (13 * named.chars + 100), encoding="utf-8")
    forged = answer.trace.model_copy(update={"document": named.model_copy(update={"sources": [str(big)]})})
    with pytest.raises(DocumentError, match="larger than the trace's document was"):
        index_for_trace(forged)


def test_a_trace_of_a_source_file_read_as_prose_by_an_older_pearl_gets_its_page(tmp_path: Path) -> None:
    tool = tmp_path / "tool.py"
    tool.write_text("import json\n\n\ndef load(path):\n    return json.load(path)\n", encoding="utf-8")
    answer = Pearl(FakeLLM(default="It reads JSON [S1]."), load_settings(cache=False)).ask(tool, "How?", method="rag")
    assert answer.trace.document is not None and answer.trace.document.content_hash.endswith("-code")
    assert index_for_trace(answer.trace).parts[0].code
    # Before source files were read as code, the trace's hash was the text's alone, its sentences the prose's.
    older = answer.trace.document.model_copy(update={"content_hash": hashlib.sha256(tool.read_bytes()).hexdigest()})
    index = index_for_trace(answer.trace.model_copy(update={"document": older}))
    assert not index.parts[0].code and render_sentences(index, [1]) == "[S1] def load(path): return json.load(path)"
    tool.write_text("import json\n", encoding="utf-8")
    with pytest.raises(DocumentError, match="changed since the trace was written"):
        index_for_trace(answer.trace.model_copy(update={"document": older}))


# ---------------------------------------------------------------- what pages hold


def test_untrusted_text_never_becomes_markup(tmp_path: Path) -> None:
    answer = ask(tmp_path)
    page = render_answer_page(answer, index_for_trace(answer.trace))
    tags = [tag for tag, _ in parse(page)]
    assert "img" not in tags and "b" not in tags
    assert tags.count("script") == 2  # the document's data and the page's own script
    assert "&lt;b&gt;at the light&lt;/b&gt;" in page  # the question, escaped
    assert "&lt;img src=x onerror=" in page  # the step output, escaped
    data = next(text for attrs, text in script_blocks(page) if "application/json" in attrs)
    assert "<" not in data and ">" not in data
    sentences = json.loads(data)["sentences"]
    assert any(SCRIPT in s for s in sentences) and any(IMG in s for s in sentences)


def test_json_for_a_page_cannot_close_its_block() -> None:
    value = {"text": "</script><script>alert(1)</script> & \u2028\u2029 <!--"}
    out = str(json_script(value))
    assert not any(ch in out for ch in "<>&\u2028\u2029")
    assert json.loads(out) == value


def test_policy_allows_only_the_pages_own_script_and_style(tmp_path: Path) -> None:
    page = render_answer_page(ask(tmp_path))
    policy = next(attrs["content"] for tag, attrs in parse(page) if attrs.get("http-equiv"))
    assert policy is not None and "default-src 'none'" in policy and "unsafe" not in policy
    code = next(text for attrs, text in script_blocks(page) if not attrs)
    style = re.search(r"<style>(.*?)</style>", page, re.DOTALL)
    assert style is not None
    for text, directive in ((code, "script-src"), (style.group(1), "style-src")):
        digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
        assert f"{directive} 'sha256-{digest}'" in policy


def test_page_draws_the_plan_and_each_steps_excerpts(tmp_path: Path) -> None:
    llm = hostile_llm()
    answer = ask(tmp_path, llm)
    page = render_answer_page(answer, index_for_trace(answer.trace))
    tags = parse(page)
    nodes = [attrs["href"] for tag, attrs in tags if tag == "a" and attrs.get("class") == "node-link"]
    assert nodes == ["#step-who", "#step-why"]
    assert sum(1 for tag, attrs in tags if tag == "path" and attrs.get("class") == "edge") == 1  # who -> why
    step_prompt = next(r for r in llm.history if (r.prompt or "").startswith("step")).messages[-1].content
    shown = re.findall(r"\[S(\d+)\]", step_prompt)
    assert shown
    excerpts = page.split('id="step-who"', 1)[1].split('class="excerpt-list"', 1)[1].split("</ol>", 1)[0]
    listed = re.findall(r'<li><a dir="ltr" class="cite" href="#S(\d+)"', excerpts)
    assert listed == shown


def _path_points(d: str, samples: int = 40) -> list[tuple[float, float]]:
    """Points along an SVG path of M, L and C commands (as the plan graph draws its edges)."""
    tokens = re.findall(r"[MLC]|-?\d+(?:\.\d+)?", d)
    points: list[tuple[float, float]] = []
    at = (0.0, 0.0)
    k = 0
    while k < len(tokens):
        command = tokens[k]
        count = {"M": 1, "L": 1, "C": 3}[command]
        xy = [float(t) for t in tokens[k + 1 : k + 1 + 2 * count]]
        k += 1 + 2 * count
        ends = [(xy[i], xy[i + 1]) for i in range(0, len(xy), 2)]
        if command == "C":
            (x1, y1), (x2, y2), (x3, y3) = ends
            for n in range(1, samples + 1):
                t = n / samples
                a, b, c, e = (1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t**2, t**3
                points.append((a * at[0] + b * x1 + c * x2 + e * x3, a * at[1] + b * y1 + c * y2 + e * y3))
        elif command == "L":
            points += [
                (at[0] + (ends[0][0] - at[0]) * n / samples, at[1] + (ends[0][1] - at[1]) * n / samples)
                for n in range(1, samples + 1)
            ]
        else:
            points.append(ends[0])
        at = ends[-1]
    return points


def test_a_plan_graphs_lines_never_run_behind_a_step_they_do_not_join() -> None:
    # `cmp` reads `who` and `why`, and `why` reads `who`: the line who -> cmp ran straight behind the box of
    # `why`, its arrowhead on why -> cmp's, so the graph drew the chain who -> why -> cmp alone.
    from pearl.html._answer import _graph
    from pearl.planning import parse_plan

    plan = parse_plan(
        'who = FIND_CHARACTER(CTX, "Varga")\nlast = FIND_EVENT(CTX, "the storm")\n'
        'why = FIND_MOTIVE(CTX, who, "staying")\nboth = CONCAT(why, last)\ncmp = COMPARE(who, both)\n'
        "end = COMPARE(cmp, last)",
        None,
    )
    graph = _graph(plan, [])
    boxes = {n.var: (n.x, n.y, n.x + graph.node_w, n.y + graph.node_h) for n in graph.nodes}
    ends = [(source, step.var) for step in plan.steps for source in step.inputs]
    assert len(graph.edges) == len(ends) == 7
    for (source, target), d in zip(ends, graph.edges, strict=True):
        points = _path_points(d)
        for var, (left, top, right, bottom) in boxes.items():
            if var not in (source, target):
                inside = [p for p in points if left < p[0] < right and top < p[1] < bottom]
                assert not inside, f"{source} -> {target} runs behind {var}"
        assert all(0 <= x <= graph.width and 0 <= y <= graph.height for x, y in points)  # drawn, not cut off


def _two_block_stage(between: str, after: str) -> Any:
    """How the page draws a step whose prompt shows two excerpt blocks, `between` them and `after` the second."""
    from pearl.html._answer import _stage
    from pearl.models import Message, TraceEvent

    prompt = (
        'Question: Why?\n<excerpts name="keeper.txt" note="2 of 9 sentences, chosen for the question">\n'
        f"[S1] One. [S2] Two.\n</excerpts>\n{between}"
        '<excerpts name="keeper.txt" note="3 more sentences, chosen for this step">\n'
        f"[S5] Five. [S6] Six. [S7] Seven.\n</excerpts>\n{after}"
    )
    event = TraceEvent(stage="step s1 = FIND", prompt="step", messages=[Message(role="user", content=prompt)])
    return _stage(1, event)


def test_a_steps_excerpts_are_summed_up_by_every_block_they_came_in() -> None:
    # "34 excerpts shown: 5 of 193 sentences, chosen for the question" named the first block alone.
    stage = _two_block_stage("Action: FIND(CTX, X)\n", "")
    assert [e.sid for e in stage.excerpts] == [1, 2, 5, 6, 7]
    assert stage.fence_note == "2 of 9 sentences, chosen for the question; 3 more sentences, chosen for this step"


def test_a_steps_excerpts_hold_nothing_of_the_prompt_between_their_blocks() -> None:
    # The text between two blocks (the step's instructions) was drawn as the end of the first block's last
    # sentence: "Two. </excerpts> Action: FIND(CTX, X) What it does: ...".
    stage = _two_block_stage("Action: FIND(CTX, X)\nWhat it does: finds X.\n", "Reply in one line.\n")
    assert [e.text for e in stage.excerpts] == ["One.", "Two.", "Five.", "Six.", "Seven."]


def test_a_closing_answer_step_is_drawn_with_the_final_answer_call_that_carried_it_out(tmp_path: Path) -> None:
    answer = ask(tmp_path, hostile_llm(CHAIN + '\nend = ANSWER(CTX, "Why did Varga stay?")'))
    assert len([e for e in answer.trace.events if e.stage == "answer"]) == 1
    assert not [e for e in answer.trace.events if e.stage.startswith("step end") and e.prompt]
    page = render_answer_page(answer, index_for_trace(answer.trace))
    step = page.split('id="step-end"', 1)[1].split("</li>", 1)[0]
    assert 'class="step llm"' in page.split('id="step-end"', 1)[0].rsplit("<li", 1)[1]
    assert "No record of this step" not in step and "Sentences the steps relied on" not in page.split("Other stages")[1]
    assert 'class="output"' in step and 'class="excerpt-list"' in step  # the final call's reply and excerpts


def test_a_step_run_again_is_drawn_with_its_last_attempt(tmp_path: Path) -> None:
    # After a context overflow the question runs again: the trace holds the failed attempt first.
    answer = ask(tmp_path, hostile_llm(CHAIN + '\nend = ANSWER(CTX, "Why did Varga stay?")'))
    events = answer.trace.events
    failed = [
        e.model_copy(update={"error": "EARLIER-ATTEMPT", "output": ""}) if e.prompt else e
        for e in events
        if e.stage.startswith("step ") or e.stage == "answer"
    ]
    trace = answer.trace.model_copy(update={"events": [*failed, *events]})
    page = render_answer_page(answer.model_copy(update={"trace": trace}), index_for_trace(trace))
    for var in ("who", "why", "end"):
        assert "EARLIER-ATTEMPT" not in page.split(f'id="step-{var}"', 1)[1].split("</li>", 1)[0]
    others = page.split("Other stages", 1)[1]
    assert "EARLIER-ATTEMPT" in others and "(by the final answer call)" not in others


def test_a_label_the_document_does_not_have_is_noted_and_not_drawn_as_a_link(tmp_path: Path) -> None:
    def reply(request: CompletionRequest) -> str:
        kind = (request.prompt or "").split(".")[0]
        if kind in ("plan", "plan_fix"):
            return CHAIN
        if kind != "answer":
            return fake_reply(request)
        shown = re.findall(r"\[S(\d+)\]", request.messages[-1].content.replace("like [S12]", ""))
        return f"She stayed for her brother [S{shown[0]}] [S600]."

    answer = ask(tmp_path, FakeLLM(default=reply))
    valid = int(re.findall(r"\[S(\d+)\]", answer.answer)[0])
    assert valid in [c.sentence_id for c in answer.citations] and 600 not in [c.sentence_id for c in answer.citations]
    assert [n for n in answer.notes if "[S600]" in n] == [
        "the model cited [S600], which the document does not have (its sentences are [S0] to [S7]); "
        "left out of the evidence"
    ]
    # Drawn from the document, or from the trace alone (the document gone): [S600] is text, not a link to nothing.
    for page in (render_answer_page(answer, index_for_trace(answer.trace)), render_trace_page(answer.trace)):
        said = page.split('class="answer-text">', 1)[1].split("</div>", 1)[0]
        assert f'data-sid="{valid}">[S{valid}]</a>' in said and " [S600]." in said and 'data-sid="600"' not in page


def test_each_label_of_a_citation_of_several_is_drawn_as_a_link() -> None:
    # "[S3, S600]": S3 a link, the citation as written beside it (S600 is no sentence); "[S4-S6]" three links.
    parts = cite_parts("He left [S3, S600] then [S4-S6].", sentences=10)
    assert parts == [
        ("text", "He left "),
        ("cite", "3"),
        ("text", "[S3, S600]"),
        ("text", " then "),
        ("cite", "4"),
        ("cite", "5"),
        ("cite", "6"),
        ("text", "."),
    ]
    assert cite_parts("Not one: [S3, S7] [Section 2].", shown={9}) == [("text", "Not one: [S3, S7] [Section 2].")]
    # Control characters a model wrote are shown as their pictures, as the terminal shows them: a page drew them as
    # empty boxes (helper-217). Line breaks and tabs stay.
    assert cite_parts("\x1b[31mRED\x1b[0m\tok\n[S2]\x07", sentences=10) == [
        ("text", "␛[31mRED␛[0m\tok\n"),
        ("cite", "2"),
        ("text", "␇"),
    ]


def test_a_citation_its_links_cannot_say_whole_keeps_its_text_as_written() -> None:
    # A range past the document's end (10 sentences, S0 to S9) was drawn as links to S8 and S9, then "[S10][S11][S12]":
    # labels the model never wrote, in the text as if cited. A year after a label was drawn as "[S2021]".
    parts = cite_parts("Dawn [S8-S12]. Built in 2021 [S3, 2021].", sentences=10)
    assert parts == [
        ("text", "Dawn "),
        ("cite", "8"),
        ("cite", "9"),
        ("text", "[S8-S12]"),
        ("text", ". Built in 2021 "),
        ("cite", "3"),
        ("text", "[S3, 2021]"),
        ("text", "."),
    ]
    # Round brackets, and a page after the labels, are links too; the page is the linked sentence's to show.
    assert cite_parts("Dawn (S8, S9), built [S3, p. 2].", sentences=10) == [
        ("text", "Dawn "),
        ("cite", "8"),
        ("cite", "9"),
        ("text", ", built "),
        ("cite", "3"),
        ("text", "."),
    ]

    # A range too long to link every sentence of is its two ends, joined as a range: "[S84][S120]" read as two
    # citations of two sentences.
    assert cite_parts("All of it [S84-S120], and [S2, S90].", sentences=200) == [
        ("text", "All of it "),
        ("cite", "84"),
        ("text", "\u2013"),
        ("cite", "120"),
        ("text", ", and "),
        ("cite", "2"),
        ("cite", "90"),
        ("text", "."),
    ]
    # A range short enough to link whole is its links alone, two labels as three: "[S3-S4]" is no dash.
    assert cite_parts("[S3-S4] and [S3-S5]", sentences=10) == [
        *[("cite", "3"), ("cite", "4")],
        ("text", " and "),
        *[("cite", "3"), ("cite", "4"), ("cite", "5")],
    ]


def test_a_label_in_a_direct_answer_is_not_drawn_as_a_link(tmp_path: Path) -> None:
    document = tmp_path / "keeper.txt"
    document.write_text(HOSTILE, encoding="utf-8")
    llm = FakeLLM(default=lambda request: "She stayed for her brother [S1].")
    answer = Pearl(llm=llm, settings=load_settings(cache=False)).ask(document, QUESTION, method="direct")
    page = render_answer_page(answer, index_for_trace(answer.trace))
    said = page.split('class="answer-text">', 1)[1].split("</div>", 1)[0]
    assert "[S1]" in said and 'data-sid="1"' not in said


def test_labels_no_call_was_shown_are_not_drawn_as_links(tmp_path: Path) -> None:
    # pearl-fulldoc's steps read the document unlabelled: a label they wrote was a link to a sentence they never saw.
    # A label within the document that no call of pearl's was shown (made up, or copied) was a link too.
    def reply(request: CompletionRequest) -> str:
        kind = (request.prompt or "").split(".")[0]
        if kind in ("plan", "plan_fix"):
            return CHAIN
        shown = re.findall(r"^\[S(\d+)\]", request.messages[-1].content, re.MULTILINE)
        return f"She stayed for her brother [S{shown[0] if shown else 2}] [S7]."

    document = tmp_path / "keeper.txt"
    document.write_text(HOSTILE, encoding="utf-8")
    for method in ("pearl-fulldoc", "pearl"):
        answer = Pearl(llm=FakeLLM(default=reply), settings=load_settings(cache=False)).ask(
            document, QUESTION, method=method
        )
        page = render_answer_page(answer, index_for_trace(answer.trace))
        linked = {int(n) for n in re.findall(r'class="cite" href="#S\d+" data-sid="(\d+)">\[S\d+\]</a>', page)}
        cited = {c.sentence_id for c in answer.citations}
        if method == "pearl-fulldoc":
            assert not linked - cited, linked  # only the evidence list's own entries
            assert "brother [S2] [S7]." in page
        else:
            said = "\n".join(m.content.replace("like [S12]", "") for e in answer.trace.events for m in e.messages)
            shown = {int(n) for n in re.findall(r"\[S(\d+)\]", said)}
            assert linked and linked <= shown | cited


def test_fallback_answer_says_so(tmp_path: Path) -> None:
    answer = ask(tmp_path, hostile_llm(plan=None), plan_attempts=1)
    assert answer.fallback
    page = render_answer_page(answer)
    assert 'id="fallback"' in page and "Fallback answer." in page
    assert 'id="fallback"' not in render_answer_page(ask(tmp_path))


def test_a_fallback_for_a_window_too_small_to_plan_says_no_plan_was_asked_for(tmp_path: Path) -> None:
    # Its banner said "No valid plan was found" and its plan section "the attempts are below": there were none
    # (helper-193).
    fake = FakeLLM(default="B [S3]", context_window=1024)
    story = (SAMPLE_DIR / "the_keeper_of_tren_light.txt").read_text(encoding="utf-8")
    answer = Pearl(llm=fake, settings=load_settings(cache=False)).ask(story, "Who keeps the light?")
    assert answer.fallback
    page = render_answer_page(answer)
    assert "No plan could be asked for" in page and "No valid plan was found" not in page
    assert "the attempts are below" not in page
    # Rendered without its trace (ask --json's answer), it says the same from its note; an answer of no valid plan
    # says that, and that its attempts are not on the page (helpers 194 and 195).
    assert "No plan could be asked for" in render_answer_page(answer.model_copy(update={"trace": Trace()}))
    unplanned = answer.model_copy(update={"trace": Trace(), "notes": ["no valid plan after 8 attempts"]})
    page = render_answer_page(unplanned)
    assert "No valid plan was found" in page and "the attempts are not on this page" in page


def test_the_question_answer_evidence_and_outputs_take_their_own_direction(tmp_path: Path) -> None:
    # An Arabic answer's pieces, kept apart around its links, were laid out left to right, its question's "?" at the
    # wrong end: only the document's paragraphs had dir="auto" (helper-193).
    answer = ask(tmp_path)
    page = render_answer_page(answer, index_for_trace(answer.trace))
    for opened in (
        '<h1 dir="auto" id="q-head"',
        '<div dir="auto" class="answer-text">',
        '<span dir="auto" class="ctext">',
    ):
        assert opened in page, opened
    assert '<div dir="auto" class="output">' in page
    # pearl's own labels, "[S3]" and "(A)", are left to right of their own, so that they decide no direction: an
    # Arabic answer opening on "[S3]" was laid out left to right, by the S (helper-194)
    assert '<a dir="ltr" class="cite"' in page and 'class="cite"' not in page.replace('<a dir="ltr" class="cite"', "")


def test_the_page_of_a_failed_multiple_choice_question_lists_its_options() -> None:
    # The trace kept no options: a failed question's page dropped them (helper-193).
    trace = Trace(question="How many steps?", options=["96", "127"], method="rag")
    page = render_trace_page(trace)
    assert "(A)</span> 96" in page and "(B)</span> 127" in page


def test_trace_without_an_answer_still_makes_a_page() -> None:
    page = render_trace_page(Trace(question="What?", method="pearl"), notes=["a note"])
    assert "the trace holds no final answer" in page and "a note" in page and 'id="doc-missing"' in page


def test_the_page_of_a_failed_question_says_where_it_failed_at_the_top() -> None:
    failed = TraceEvent(stage="answer", prompt="answer.v7#0", error="cannot connect to http://127.0.0.1:9/v1")
    page = render_trace_page(Trace(question="What?", method="pearl", events=[failed]))
    top = page[: page.index('id="answer"')]
    assert "the question failed at its answer stage: cannot connect to http://127.0.0.1:9/v1" in top
    assert "no final answer" not in page
    # One stopped by Ctrl-C says so (it read "failed at its interrupted stage").
    stopped = interrupted(Trace(question="What?", method="pearl"), "step 2/4 FIND_X")
    top = (page := render_trace_page(stopped))[: page.index('id="answer"')]
    assert "the question was interrupted during step 2/4 FIND_X" in top and "failed at" not in top


def test_the_page_of_a_question_that_failed_after_calls_counts_them_and_its_unrun_steps() -> None:
    # It said "0 model calls", "This method answers without a plan" when planning had failed, and showed the
    # ANSWER step the final call never ran as "local, no model call".

    def planning_fails(request: CompletionRequest) -> str | ServerError:
        return ServerError("503: overloaded")

    with pytest.raises(PearlError) as caught:
        Pearl(FakeLLM(default=planning_fails), load_settings(cache=False, plan_attempts=1)).ask(HOSTILE, "Why?")
    assert caught.value.trace is not None
    page = render_trace_page(caught.value.trace)
    assert '<p class="usage">1 model call (0 cached)' in page and "answers without a plan" not in page
    plan = 'who = FIND_CHARACTER(CTX, "Varga")\nans = ANSWER(CTX, "Why did Varga stay?")'

    def answer_fails(request: CompletionRequest) -> str | ServerError:
        kind = (request.prompt or "").split(".")[0]
        return plan if kind == "plan" else "Varga keeps the light [S1]." if kind == "step" else ServerError("503")

    with pytest.raises(PearlError) as caught:
        Pearl(FakeLLM(default=answer_fails), load_settings(cache=False)).ask(HOSTILE, "Why did Varga stay?")
    assert caught.value.trace is not None
    trace = caught.value.trace
    page = render_trace_page(trace)
    assert '<p class="usage">3 model calls (0 cached)' in page  # the plan, the step, the answer call that failed
    assert '<p class="error">503</p>' in page[page.index('id="step-ans"') :][:400]  # the call that carried it out
    stopped = trace.model_copy(update={"events": trace.events[:-1]})  # stopped before the answer call
    page = render_trace_page(stopped)
    assert '<p class="usage">2 model calls (0 cached)' in page
    node = page[page.index("<title>ans = ANSWER") :]
    assert node[: node.index("</g>")].endswith('class="node-detail">not run</text>\n')
    # A step not run is drawn greyed and dashed, not in the red of the one that failed.
    assert '<g class="node missing">' in page[: page.index("<title>ans = ANSWER")][-300:]
    assert ".graph .node.missing rect{fill:#f7f8fa;stroke:#aab2bf;stroke-dasharray:2 3}" in page
    assert ".node.missing rect{stroke:var(--bad)}" not in page and ".node.failed rect{stroke:var(--bad)}" in page


def test_a_step_stopped_waiting_for_its_reply_is_drawn_interrupted_with_its_prompt() -> None:
    # Ctrl-C while a step waited on the model: the trace kept nothing of its call, and the page drew it "not run".
    waiting = asyncio.Event()

    class Hangs(FakeLLM):
        async def acomplete(self, request: CompletionRequest) -> Any:
            if (request.prompt or "").startswith("step"):
                waiting.set()
                await asyncio.Event().wait()  # a model that never answers
            return await super().acomplete(request)

    started: list[Trace] = []
    pearl = Pearl(Hangs(default=lambda request: CHAIN), load_settings(cache=False), on_trace=started.append)

    async def stopped() -> None:
        asking = asyncio.ensure_future(pearl.aask(HOSTILE, "Why did Varga stay?"))
        await waiting.wait()
        asking.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asking

    asyncio.run(asyncio.wait_for(stopped(), 30))
    step = next(event for event in started[0].events if event.stage.startswith("step"))
    assert step.error == "interrupted" and "Varga" in step.messages[-1].content  # what it was shown is kept
    assert started[0].usage().calls == 1  # the plan: a call stopped waiting has no reply and no known cost
    page = render_trace_page(started[0])
    assert "the question was interrupted during its step" in page
    node = page[page.index("<title>who = FIND_CHARACTER") :]
    assert node[: node.index("</g>")].endswith('class="node-detail">interrupted</text>\n')
    assert '<g class="node llm interrupted">' in page[: page.index("<title>who = FIND_CHARACTER")][-300:]
    # Closed by the command line's stage, it says during what, as before.
    page = render_trace_page(interrupted(started[0], "step 1/2 FIND_CHARACTER"))
    assert "the question was interrupted during step 1/2 FIND_CHARACTER" in page


def test_every_step_stopped_waiting_for_its_reply_is_kept_interrupted() -> None:
    # Two steps waited at once: the first cancelled was kept, as an error, and the second, seeing it, was not
    # (helper-202: drawn "not run").
    waiting: list[str] = []

    class Hangs(FakeLLM):
        async def acomplete(self, request: CompletionRequest) -> Any:
            if (request.prompt or "").startswith("step"):
                waiting.append(request.messages[-1].content)
                await asyncio.Event().wait()
            return await super().acomplete(request)

    plan = 'a = FIND_CHARACTER(CTX, "Varga")\nb = FIND_CHARACTER(CTX, "Dorota")\nc = FIND_RELATION(CTX, a, b)'
    started: list[Trace] = []
    pearl = Pearl(Hangs(default=lambda request: plan), load_settings(cache=False), on_trace=started.append)

    async def stopped() -> None:
        asking = asyncio.ensure_future(pearl.aask(HOSTILE, "Who are they?"))
        while len(waiting) < 2:
            await asyncio.sleep(0.01)
        asking.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asking

    asyncio.run(asyncio.wait_for(stopped(), 30))
    assert sorted(e.stage.split()[1] for e in started[0].events if e.error == "interrupted") == ["a", "b"]


def test_a_step_cancelled_because_another_failed_leaves_the_failure_the_pages_headline() -> None:
    # Two steps at once, one failing while the other waited: the other, cancelled, was kept as "interrupted" after
    # the failure, and the page said the question was interrupted, not why it failed (helper-201).
    class OneFails(FakeLLM):
        async def acomplete(self, request: CompletionRequest) -> Any:
            shown = request.messages[-1].content
            if (request.prompt or "").startswith("step") and "X: Varga" in shown:
                await asyncio.Event().wait()  # waits until cancelled
            if (request.prompt or "").startswith("step"):
                await asyncio.sleep(0.05)
                raise ServerError("server said 500: boom")
            return await super().acomplete(request)

    plan = 'a = FIND_CHARACTER(CTX, "Varga")\nb = FIND_CHARACTER(CTX, "Dorota")\nc = FIND_RELATION(CTX, a, b)'
    with pytest.raises(PearlError) as caught:
        Pearl(OneFails(default=lambda request: plan), load_settings(cache=False)).ask(HOSTILE, "Who are they?")
    assert caught.value.trace is not None
    page = render_trace_page(caught.value.trace)
    assert "the question failed at its step" in page and "boom" in page
    assert "the question was interrupted" not in page and 'class="node-detail">interrupted<' not in page


# ---------------------------------------------------------------- the commands


def _server_reply(body: dict[str, Any]) -> str:
    last = str(body["messages"][-1]["content"])
    return CHAIN if last.rstrip().endswith("Plan:") else "She stayed for her brother [S3]."


def test_ask_html_and_trace_html(tmp_path: Path, fake_server: FakeOpenAIServer) -> None:
    fake_server.set_default(_server_reply)
    document = tmp_path / "keeper.txt"
    document.write_text(HOSTILE, encoding="utf-8")
    server = ["--base-url", fake_server.base_url, "--model", "m"]
    trace, page = tmp_path / "t.json", tmp_path / "answer.html"
    result = runner.invoke(app, ["ask", str(document), QUESTION, "--trace", str(trace), "--html", str(page), *server])
    assert result.exit_code == 0, result.output
    assert '"sentences":[' in page.read_text() and "She stayed for her brother" in page.read_text()
    result = runner.invoke(app, ["trace", "html", str(trace), "-o", str(tmp_path / "again.html")])
    assert result.exit_code == 0, result.output
    assert '"sentences":[' in (tmp_path / "again.html").read_text()
    # -o naming the trace, or the document's file, wrote the page over it, exit 0: the trace or the document was lost.
    for kept, name in ((trace, "trace"), (document, "document's")):
        before = kept.read_bytes()
        result = runner.invoke(app, ["trace", "html", str(trace), "-o", str(kept)])
        assert result.exit_code == 2 and f"-o {kept} is the {name} file too" in result.stderr, result.output
        assert kept.read_bytes() == before
    document.unlink()  # gone: still a page, without the document, saying why
    result = runner.invoke(app, ["trace", "html", str(trace)])
    assert result.exit_code == 0, result.output
    assert "no such file" in result.stderr
    gone = (tmp_path / "t.html").read_text()
    assert 'id="doc-missing"' in gone and "the document is not shown" in gone and "null</script>" in gone
    bad = runner.invoke(app, ["trace", "html", str(tmp_path / "answer.html")])
    assert bad.exit_code == 2 and "not a pearl trace" in bad.output


# ---------------------------------------------------------------- evaluation runs


def test_eval_keeps_traces_and_writes_report_html(tmp_path: Path) -> None:
    out = tmp_path / "run"
    pearl = Pearl(llm=counting_fake_llm(), settings=load_settings(cache=False))
    data = load_dataset(SAMPLE_DIR / "custom.jsonl")
    run_eval(pearl, data, ["pearl", "direct"], out)
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert rows and all(r["trace"] and (out / r["trace"]).is_file() for r in rows)
    trace = Trace.model_validate_json((out / rows[0]["trace"]).read_text())
    assert trace.question and trace.answer is not None and trace.document is not None
    report = (out / "report.html").read_text()
    table = data_block(report, "pearl-rows")
    links = [row[-1] for row in table["rows"]]
    assert len(links) == len(rows) and all(link.startswith("traces/") and (out / link).is_file() for link in links)
    page = (out / links[0]).read_text()
    assert '"sentences":[' in page  # the dataset's document, shown
    stamps = {p: p.stat().st_mtime_ns for p in (out / "traces").glob("*.html")}
    time.sleep(0.01)
    run_eval(pearl, data, ["pearl", "direct"], out)  # resumed: nothing ran, no page is rendered again
    assert {p: p.stat().st_mtime_ns for p in (out / "traces").glob("*.html")} == stamps


def test_report_html_shows_what_report_md_shows(tmp_path: Path) -> None:
    # It had no score by split, no accuracy, EM, F1 or ROUGE-L, no limit, and its question types in another order.
    out = tmp_path / "run"
    pearl = Pearl(llm=counting_fake_llm(), settings=load_settings(cache=False))
    run_eval(pearl, load_dataset(SAMPLE_DIR / "quality_sample.jsonl"), ["direct"], out, limit=5)
    md, page = (out / "report.md").read_text(), (out / "report.html").read_text()
    assert "split all, limit 5;" in md and "split all, limit 5;" in page
    assert "## Score by split" in md and '<h2 id="splits-head">Score by split</h2>' in page
    for column in ("accuracy", "unparseable"):
        assert f"| {column} |" in md and f"<th>{column}</th>" in page
    types_md = re.findall(r"\| (\w+) \(\d+\)", md.split("## Score by question type")[1].split("##")[0])
    types_page = re.findall(r"<th>(\w+) \(\d+\)</th>", page.split('id="types-head"')[1].split("</table>")[0])
    assert types_md and types_page == types_md
    free = tmp_path / "free"
    run_eval(pearl, load_dataset(SAMPLE_DIR / "questions.jsonl"), ["direct"], free, limit=8)
    for column in ("EM", "F1", "ROUGE-L"):
        assert f"<th>{column}</th>" in (free / "report.html").read_text()


def test_trace_html_never_replaces_the_page_an_eval_run_wrote_unasked(tmp_path: Path) -> None:
    out = tmp_path / "run"
    pearl = Pearl(llm=counting_fake_llm(), settings=load_settings(cache=False))
    run_eval(pearl, load_dataset(SAMPLE_DIR / "custom.jsonl"), ["direct"], out, limit=1)
    trace = next((out / "traces").glob("*.json"))
    page = trace.with_suffix(".html")
    written = page.read_text()
    assert '"sentences":[' in written  # the run's page shows the dataset's document
    result = runner.invoke(app, ["trace", "html", str(trace)])
    assert result.exit_code == 2 and page.read_text() == written
    assert result.stderr.splitlines() == [
        f"error: {page} exists (pearl eval writes each trace's page beside it, as pearl ask --html may); "
        "give -o FILE to write elsewhere, or add --force to replace it"
    ]
    result = runner.invoke(app, ["trace", "html", str(trace), "-o", str(tmp_path / "again.html")])
    assert result.exit_code == 0 and (tmp_path / "again.html").is_file() and page.read_text() == written
    # Named by -o, it was replaced without a word, where ask --html and every other output refuse.
    result = runner.invoke(app, ["trace", "html", str(trace), "-o", str(page)])
    assert result.exit_code == 2 and page.read_text() == written
    assert result.stderr.splitlines() == [f"error: -o {page} exists: add --force to replace it, or choose another -o"]
    for named in (["-o", str(page)], []):
        page.write_text(written, encoding="utf-8")
        result = runner.invoke(app, ["trace", "html", str(trace), *named, "--force"])  # asked: replaced
        assert result.exit_code == 0 and page.read_text() != written, named


def test_report_page_tabulates_every_row_and_draws_each_method() -> None:
    rows = synthetic_rows(40)
    summary = summarize(rows)
    pages = {("q0", "pearl"): "traces/q0.pearl.html", ("q0", "direct"): "javascript:alert(1)"}
    page = render_report_page(summary, rows, pages=pages)
    table = data_block(page, "pearl-rows")
    assert len(table["rows"]) == 40 and table["rows"][0][-1] == "traces/q0.pearl.html"
    assert table["rows"][1][:2] == ["q0", "direct"] and table["rows"][1][-1] == ""  # no scheme, ever
    assert {r[4] for r in table["rows"]} == {"right", "wrong", "error"}
    labels = re.findall(r'<text class="method-label"[^>]*>([^<]+)</text>', page)
    assert labels == [m.method for m in summary.methods]
    assert all(m.score_low is not None and m.score_low <= m.score <= (m.score_high or 0) for m in summary.methods)
    assert "<b>in bold</b>" not in page
    assert _unclosed(page) == [], _unclosed(page)  # a stray </div> closed nothing, or the section around it


def _unclosed(page: str) -> list[str]:
    """The `div`, `section` and `main` end tags of `page` that close no element of theirs, and those never closed."""
    from html.parser import HTMLParser

    problems: list[str] = []
    open_tags: list[str] = []

    class Nesting(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag in ("div", "section", "main"):
                open_tags.append(tag)

        def handle_endtag(self, tag: str) -> None:
            if tag in ("div", "section", "main"):
                if not open_tags or open_tags[-1] != tag:
                    problems.append(f"</{tag}> at line {self.getpos()[0]} closes {open_tags[-1:] or 'nothing'}")
                else:
                    open_tags.pop()

    Nesting().feed(page)
    return problems + [f"<{tag}> never closed" for tag in open_tags]
    assert "<th>s/q</th><th>model s/q</th>" in page  # wall time, and the time in the model without waits


def tied_rows() -> list[Any]:
    """Rows on which the four methods score alike at a like cost, as with a model at chance: one spot on the chart."""
    from pearl.eval import ResultRow

    methods = ("pearl", "direct", "rag", "pearl-fulldoc")
    return [
        ResultRow(
            id=f"q{i}",
            method=m,
            kind="choice",
            qtype="what",
            answer="A",
            gold="A",
            correct=True,
            score=1.0,
            prompt_tokens=1500 + k,
            calls=1,
            seconds=0.1,
        )
        for i in range(10)
        for k, m in enumerate(methods)
    ]


def test_report_shows_the_option_each_method_chose() -> None:
    # The table showed pearl's steps' prose alone: a "wrong" row beside gold "B" could not be checked.
    from pearl.eval import ResultRow

    rows = [
        ResultRow(id="q1", method="pearl", kind="choice", prediction="C", answer="Dorota is the niece [S4].", gold="B"),
        ResultRow(id="q1", method="direct", kind="choice", prediction="B", answer="(B) The keeper.", gold="B"),
        ResultRow(id="q2", method="rag", kind="free", prediction="The keeper.", answer="The keeper.", gold="x"),
    ]
    table = data_block(render_report_page(summarize(rows), rows), "pearl-rows")["rows"]
    assert [row[9] for row in table] == ["(C) Dorota is the niece [S4].", "(B) The keeper.", "The keeper."]


def test_report_page_says_which_failed_questions_the_comparisons_leave_out() -> None:
    rows = tied_rows()
    server = {"error": "HTTP 500", "error_type": "ServerError", "score": 0.0, "correct": None}
    rows[1] = rows[1].model_copy(update=server)  # q0, direct
    summary = summarize(rows)
    assert {(c.a, c.b): c.failed for c in summary.comparisons if c.failed} == {
        ("pearl", "direct"): 1,
        ("direct", "rag"): 1,
        ("direct", "pearl-fulldoc"): 1,
    }
    said = "the model server left unanswered for one of the two methods (pearl/direct 1, direct/rag 1, "
    assert said in render_report(summary) and said in render_report_page(summary, rows)
    silent = [r.model_copy(update=server) for r in rows if r.method in ("pearl", "rag")]
    page = render_report_page(summarize(silent), silent)  # every pair left out: a row of dashes, not a 0.0 score
    assert '<td>pearl</td><td class="text">rag</td><td>0</td><td>–</td>' in page


def test_report_counts_one_question_in_the_singular() -> None:
    rows = tied_rows()[:1]
    assert "<p>1 question, 1 result." in render_report_page(summarize(rows), rows)
    assert "1 question, 1 result." in render_report(summarize(rows))
    assert "10 questions, 40 results." in render_report(summarize(tied_rows()))


def test_report_chart_labels_of_tied_methods_do_not_overlap() -> None:
    summary = summarize(tied_rows())
    page = render_report_page(summary, tied_rows())
    labels = re.findall(r'<text class="method-label" x="([\d.]+)" y="([\d.]+)" text-anchor="(\w+)"[^>]*>([^<]+)<', page)
    assert sorted(m for *_, m in labels) == sorted(m.method for m in summary.methods)
    baselines = [float(y) for _, y, _, _ in labels]
    assert len(set(baselines)) == len(labels)  # one spot: every name on a line of its own
    assert all(abs(a - b) >= 15 for n, a in enumerate(baselines) for b in baselines[n + 1 :])
    lone = render_report_page(summarize(tied_rows()[:1]), tied_rows()[:1])  # at 100%, the chart's top edge
    y = float(re.findall(r'<circle cx="[\d.]+" cy="([\d.]+)"', lone)[0])
    label = float(re.findall(r'<text class="method-label" x="[\d.]+" y="([\d.]+)"', lone)[0])
    assert abs(label - y) <= 10  # beside its point, not a line below it


# ---------------------------------------------------------------- in a real browser

LOAD_BOUND_MS = 4000
"""A million-word page must load (navigation start to the load event) within this; measured here ~0.6 s."""


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    reason = why_not()
    if reason is not None:
        pytest.skip(f"no headless browser: {reason}")
    try:
        driver = start_chromium(tmp_path_factory.mktemp("chromium"))
    except Exception as exc:  # noqa: BLE001  (Selenium's errors for a browser that cannot start vary)
        pytest.skip(f"Chromium is installed but does not start: {str(exc).splitlines()[0]}")
    try:
        yield driver
    finally:
        driver.quit()


def test_browser_citation_click_marks_the_sentence_and_markup_stays_text(browser: Any, tmp_path: Path) -> None:
    answer = ask(tmp_path)
    page = tmp_path / "answer.html"
    page.write_text(render_answer_page(answer, index_for_trace(answer.trace)), encoding="utf-8")
    url = open_page(browser, page)
    assert browser.execute_script("return document.body.dataset.ready") == "1"
    assert browser.execute_script("return window.__pwned === undefined")
    counts = browser.execute_script(
        "return [document.querySelectorAll('img').length, document.querySelectorAll('script').length,"
        " document.querySelectorAll('b').length]"
    )
    assert counts == [0, 2, 0]
    texts = browser.execute_script("return Array.from(document.querySelectorAll('.s'), s => s.textContent)")
    assert any(SCRIPT in t for t in texts) and any(IMG in t for t in texts)
    citation = answer.citations[0]
    # Without a script, a link's #S12 lands on the evidence list's item, and the buttons that need one are hidden
    # (helper-217: every link did nothing, the buttons looked alive); with one, the id is the document's sentence's.
    source = page.read_text(encoding="utf-8")
    assert f'<li id="cite-S{citation.sentence_id}"><span class="nojs-target" id="S{citation.sentence_id}"></span>' in (
        source
    )
    assert '<div class="doc-nav" id="doc-nav" hidden>' in source
    assert browser.execute_script("return document.querySelectorAll('.nojs-target[id]').length") == 0
    assert browser.execute_script("return document.getElementById('doc-nav').hidden") is False
    browser.find_element("css selector", f"#cite-S{citation.sentence_id} a.cite").click()
    marked = browser.execute_script("const m = document.querySelector('.marked'); return [m.id, m.textContent]")
    assert marked == [f"S{citation.sentence_id}", citation.text]
    assert browser.execute_script("return document.querySelectorAll('.marked').length") == 1
    excerpt = browser.execute_script(
        "document.querySelector('details.excerpts').open = true;"
        "return document.querySelector('details.excerpts a.cite').dataset.sid"
    )
    browser.find_element("css selector", f"details.excerpts a.cite[data-sid='{excerpt}']").click()
    assert browser.execute_script("return document.querySelector('.marked').id") == f"S{excerpt}"
    assert network_requests(browser, url) == []
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0


def test_browser_a_heading_is_bold_and_the_clause_it_opens_is_not(browser: Any, tmp_path: Path) -> None:
    # "1. Term." heading its clause's paragraph made the whole clause bold, the cited sentence in it too (helper-217).
    text = (
        "SERVICES AGREEMENT\n\n1. Term. This agreement runs for two years from the date below. It renews each year "
        "unless ended.\n\n2. Fees. The client pays the fees monthly.\n"
    )
    answer = ask(tmp_path, text=text)
    page = tmp_path / "answer.html"
    page.write_text(render_answer_page(answer, index_for_trace(answer.trace)), encoding="utf-8")
    open_page(browser, page)
    weights = browser.execute_script(
        "return Array.from(document.querySelectorAll('.chunk .s'),"
        " s => [s.textContent, getComputedStyle(s).fontWeight])"
    )
    bold = {sentence: int(weight) >= 600 for sentence, weight in weights}
    assert bold["1. Term."] and bold["SERVICES AGREEMENT"], weights
    assert not bold["This agreement runs for two years from the date below."], weights


def test_browser_a_citation_opened_as_a_link_shows_its_sentence_below_the_documents_header(
    browser: Any, tmp_path: Path
) -> None:
    # Opened as answer.html#S40 (a new tab, a shared link), the browser's own jump put the sentence at the top of the
    # pane, under the sticky header, out of sight (helper-193).
    story = (SAMPLE_DIR / "the_keeper_of_tren_light.txt").read_text(encoding="utf-8")
    answer = ask(tmp_path, text=story)
    page = tmp_path / "answer.html"
    page.write_text(render_answer_page(answer, index_for_trace(answer.trace)), encoding="utf-8")
    sid = 60  # far enough down the story that the pane must scroll to it
    try:
        for width in (1400, 390):  # on a narrow screen the header is taller (helper-194: half hidden under it)
            browser.set_window_size(width, 1000)
            browser.get("about:blank")  # loaded afresh, as a new tab loads it: not a jump within the page open
            browser.get(page.resolve().as_uri() + f"#S{sid}")
            time.sleep(1.0)  # the page draws the document, then the browser jumps to the anchor
            top, head = browser.execute_script(
                "return [document.getElementById(arguments[0]).getBoundingClientRect().top,"
                " document.querySelector('.doc-head').getBoundingClientRect().bottom]",
                f"S{sid}",
            )
            assert top >= head - 1, (width, top, head)
    finally:
        browser.set_window_size(1400, 1000)


def test_browser_without_the_document_a_label_goes_to_an_excerpt_that_shows_its_sentence(
    browser: Any, tmp_path: Path
) -> None:
    # The document not shown (its file changed or gone), a step's [S5] that the answer does not cite did nothing.
    answer = ask(tmp_path)
    page = tmp_path / "answer.html"
    page.write_text(render_answer_page(answer), encoding="utf-8")
    open_page(browser, page)
    assert browser.execute_script("return document.getElementById('doc-body')") is None
    cited = {c.sentence_id for c in answer.citations}
    shown = browser.execute_script(
        "return Array.from(document.querySelectorAll('.excerpt-list a.cite'), a => +a.dataset.sid)"
    )
    sid = next(n for n in shown if n not in cited)
    assert not browser.execute_script(
        "return Array.from(document.querySelectorAll('details.excerpts')).some(d => d.open)"
    )
    # Inside a closed list: opened with the click (a script's click, as a link cannot be clicked unseen).
    browser.execute_script(f"document.querySelector('.excerpt-list a.cite[data-sid=\"{sid}\"]').click()")
    marked = browser.execute_script(
        "const m = document.querySelector('.marked'); return m && [m.tagName, m.textContent, m.closest('details').open]"
    )
    assert marked is not None and marked[0] == "LI" and marked[1].startswith(f"[S{sid}]") and marked[2]
    assert browser.execute_script("return document.querySelectorAll('.marked').length") == 1


def test_browser_draws_a_source_files_code_line_by_line_in_a_monospace_font(browser: Any, tmp_path: Path) -> None:
    tool = tmp_path / "tool.py"
    tool.write_text("import json\n\n\nclass Loader:\n    def load(self, path):\n        return json.load(path)\n")
    llm = FakeLLM(default="It reads JSON [S1].")
    answer = Pearl(llm, load_settings(cache=False)).ask(tool, "How does it load?", method="rag")
    page = tmp_path / "answer.html"
    page.write_text(render_answer_page(answer, index_for_trace(answer.trace)), encoding="utf-8")
    open_page(browser, page)
    drawn = browser.execute_script(
        "const p = document.getElementById('S1').parentElement;"
        "return [p.className, p.textContent, getComputedStyle(p).fontFamily, getComputedStyle(p).whiteSpace]"
    )
    assert drawn[0] == "code" and drawn[1] == "class Loader:\n    def load(self, path):\n        return json.load(path)"
    assert "monospace" in drawn[2] and drawn[3] == "pre-wrap"
    cited = browser.execute_script("return document.querySelector('#cite-S1 pre').textContent")
    assert cited == drawn[1]


def test_browser_plan_graph_text_stays_inside_its_boxes(browser: Any, tmp_path: Path) -> None:
    # A 24-character label ran 8px past its box, and a cached call's cost line 25px past it (cut off at the
    # graph's edge in its last column).
    from pearl.models import Message

    plan = 'motive_of_the_girl = FIND_MOTIVE(CTX, "Dorota", "water")\nwho = FIND_CHARACTER(CTX, "Dorota")\n'
    plan += 'answer_the_question = SUMMARIZE_X(who, "why")'
    events = [TraceEvent(stage="plan accepted", output=plan)]
    for var, action in (
        ("motive_of_the_girl", "FIND_MOTIVE"),
        ("who", "FIND_CHARACTER"),
        ("answer_the_question", "SUMMARIZE_X"),
    ):
        events.append(
            TraceEvent(
                stage=f"step {var} = {action}",
                prompt="step.v2",
                prompt_tokens=123_456,
                completion_tokens=1_234,
                latency_s=12.34,
                cached=True,
                output="o",
                messages=[Message(role="user", content="q")],
            )
        )
    answer = Answer(question="Why?", answer="a", method="pearl", plan=plan, trace=Trace(question="Why?", events=events))
    page = tmp_path / "graph.html"
    page.write_text(render_answer_page(answer), encoding="utf-8")
    open_page(browser, page)
    over = browser.execute_script(
        "return Array.from(document.querySelectorAll('.graph .node'), g => {"
        " const r = g.querySelector('rect').getBBox();"
        " return Array.from(g.querySelectorAll('text'), t => { const b = t.getBBox();"
        "  return [t.textContent, b.x >= r.x && b.x + b.width <= r.x + r.width - 4]; });"
        "}).flat().filter(([, inside]) => !inside)"
    )
    assert over == []


def test_browser_a_direction_override_turns_no_other_sentence_or_link_backwards(browser: Any, tmp_path: Path) -> None:
    # One U+202E (right-to-left override) left open in a sentence drew every later sentence of its paragraph
    # backwards ("tfel ehS"), cited ones too, and in an answer reversed its links: "[2S] dna [1S]".
    from pearl.html._document import index_for_page
    from pearl.models import Document, DocumentPart

    hebrew = "\u05e9\u05dc\u05d5\u05dd \u05e2\u05d5\u05dc\u05dd. \u05d0\u05e0\u05d9 \u05db\u05d0\u05df."
    text = f"The fee is \u202e001 pounds. The keeper paid it at once. She left.\n\n{hebrew}"
    index = index_for_page(
        Document(text=text, name="bidi.txt", parts=[DocumentPart(name="bidi.txt", start=0, end=len(text))])
    )
    assert index.sentence_count == 5
    said = "Paid \u202eat once [S1] and [S2]."
    answer = Answer(question="Paid?", answer=said, method="pearl", citations=[index.citation(1), index.citation(2)])
    page = tmp_path / "bidi.html"
    page.write_text(render_answer_page(answer, index), encoding="utf-8")
    open_page(browser, page)
    left_to_right = browser.execute_script(
        "return [1, 2].map(i => { const t = document.getElementById('S' + i).firstChild, r = document.createRange();"
        " r.setStart(t, 0); r.setEnd(t, 1); const first = r.getBoundingClientRect().left;"
        " r.setStart(t, t.length - 1); r.setEnd(t, t.length); return first < r.getBoundingClientRect().left; })"
    )
    assert left_to_right == [True, True]
    links = browser.execute_script(
        "return Array.from(document.querySelectorAll('.answer-text a.cite'), a => a.getBoundingClientRect().left)"
    )
    assert links[0] < links[1]
    # A Hebrew paragraph still reads right to left: its first sentence is the right one.
    first, second = browser.execute_script(
        "return [3, 4].map(i => document.getElementById('S' + i).getBoundingClientRect().left)"
    )
    assert first > second


def test_browser_fallback_is_visible(browser: Any, tmp_path: Path) -> None:
    page = tmp_path / "fallback.html"
    page.write_text(render_answer_page(ask(tmp_path, hostile_llm(plan=None), plan_attempts=1)), encoding="utf-8")
    open_page(browser, page)
    banner = browser.find_element("id", "fallback")
    assert banner.is_displayed() and "Fallback answer" in banner.text


def test_browser_printing_draws_the_whole_document_and_every_row(browser: Any, tmp_path: Path) -> None:
    # Drawn as they scroll into view, the document and the question table printed a few screens of themselves: the
    # first 2,200 of 17,000 characters, 6 of 250 questions (helper-193).
    index = synthetic_index(20_000)
    answer = Answer(question="Where?", answer="Here [S10].", method="pearl", citations=[index.citation(10)])
    page = tmp_path / "answer.html"
    page.write_text(render_answer_page(answer, index), encoding="utf-8")
    open_page(browser, page)
    drawn = "return document.querySelectorAll('.s').length"
    assert browser.execute_script(drawn) < index.sentence_count
    browser.execute_script("window.dispatchEvent(new Event('beforeprint'))")
    assert browser.execute_script(drawn) == index.sentence_count
    rows = synthetic_rows(250)
    report = tmp_path / "report.html"
    report.write_text(render_report_page(summarize(rows), rows), encoding="utf-8")
    open_page(browser, report)
    drawn = "return document.querySelectorAll('#rows-body tr:not(.spacer)').length"
    assert browser.execute_script(drawn) < len(rows)
    browser.execute_script("window.dispatchEvent(new Event('beforeprint'))")
    assert browser.execute_script(drawn) == len(rows)


def test_browser_million_word_page_loads_and_scrolls(browser: Any, tmp_path: Path) -> None:
    index = synthetic_index(1_000_000)
    last = index.sentence_count - 2
    answer = Answer(
        question="Where does it end?",
        answer=f"At the end [S{last}].",
        method="pearl",
        citations=[index.citation(10), index.citation(last)],
    )
    page = tmp_path / "million.html"
    page.write_text(render_answer_page(answer, index), encoding="utf-8")
    url = open_page(browser, page)
    timings = page_timings(browser)
    assert timings["load"] < LOAD_BOUND_MS, timings
    assert timings["pearl-first-sentence"] <= timings["load"]
    # Drawn lazily: the page holds a small part of the million words until scrolled.
    assert browser.execute_script("return document.querySelectorAll('.s').length") < 5000
    browser.find_element("css selector", f".answer-text a.cite[data-sid='{last}']").click()
    marked = browser.execute_script("const m = document.querySelector('.marked'); return [m.id, m.textContent]")
    assert marked == [f"S{last}", index.sentence_text(last)]
    reached = browser.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        const pane = document.getElementById('docpane');
        const started = performance.now();
        pane.scrollTop = 0;
        requestAnimationFrame(() => {
          pane.scrollTop = pane.scrollHeight;
          const wait = () => document.getElementById('S' + arguments[0])
            ? done(performance.now() - started) : requestAnimationFrame(wait);
          requestAnimationFrame(wait);
        });
        """,
        index.sentence_count - 1,
    )
    assert reached < LOAD_BOUND_MS
    assert network_requests(browser, url) == []


def test_browser_report_of_a_thousand_rows_filters_and_links(browser: Any, tmp_path: Path) -> None:
    rows = synthetic_rows(1000)
    pages = {(r.id, r.method): f"traces/{r.id}.{r.method}.html" for r in rows}
    page = tmp_path / "report.html"
    page.write_text(render_report_page(summarize(rows), rows, pages=pages), encoding="utf-8")
    url = open_page(browser, page)
    timings = page_timings(browser)
    assert timings["load"] < LOAD_BOUND_MS, timings
    drawn = (
        "return Array.from(document.querySelectorAll('#rows-body tr:not(.spacer)'),"
        " r => r.cells[0].textContent + ' ' + r.cells[1].textContent)"
    )
    first = browser.execute_script(drawn)
    assert first[0] == "q0 pearl" and len(first) < 200  # only the rows in view (and a screen around) are drawn
    order = [f"{r.id} {r.method}" for r in rows]
    browser.execute_async_script(  # a screen at a time: rows come and go at the edges
        "const done = arguments[0], w = document.getElementById('rows-wrap'); let k = 0;"
        "const step = () => { if (k++ === 12) { done(); return; } w.scrollTop += w.clientHeight / 2;"
        " requestAnimationFrame(step); }; requestAnimationFrame(step)"
    )
    middle = browser.execute_script(drawn)
    start = order.index(middle[0])
    assert start > 0 and middle == order[start : start + len(middle)]  # in order, none missing or repeated
    browser.execute_async_script(
        "const done = arguments[0], w = document.getElementById('rows-wrap'); w.scrollTop = w.scrollHeight;"
        "requestAnimationFrame(() => requestAnimationFrame(done))"
    )
    assert browser.execute_script(drawn)[-1] == "q249 pearl-fulldoc"
    browser.execute_script(
        "const s = document.getElementById('f-method'); s.value = 'rag'; s.dispatchEvent(new Event('input'))"
    )
    assert browser.find_element("id", "row-count").text == "250 of 1000 rows"
    browser.execute_script(  # as Selenium's Select and some tools send it: `change` alone
        "const s = document.getElementById('f-method'); s.value = 'direct'; s.dispatchEvent(new Event('change'))"
    )
    assert browser.find_element("id", "row-count").text == "250 of 1000 rows"
    assert (
        browser.execute_script("return document.querySelector('#rows-body tr:not(.spacer)').cells[1].textContent")
        == "direct"
    )
    browser.execute_script(
        "const s = document.getElementById('f-method'); s.value = 'rag'; s.dispatchEvent(new Event('input'))"
    )
    href = browser.execute_script("return document.querySelector('#rows-body tr a').getAttribute('href')")
    assert href == "traces/q0.rag.html"
    # Sorted by question, ids go in natural order (as text, q10 came between q1 and q2).
    browser.execute_script("document.querySelector('th[data-col=\"0\"]').click()")
    ids = [line.split()[0] for line in browser.execute_script(drawn)[:12]]
    assert ids == [f"q{n}" for n in range(12)], ids
    browser.execute_script(
        "const s = document.getElementById('f-outcome'); s.value = 'error'; s.dispatchEvent(new Event('input'))"
    )
    shown = browser.execute_script(
        "return Array.from(document.querySelectorAll('#rows-body tr:not(.spacer)'), r => r.className)"
    )
    assert shown and set(shown) == {"error"}
    assert browser.execute_script("return document.querySelectorAll('b').length") == 0
    assert network_requests(browser, url) == []


def at_widths(browser: Any, page: Path, widths: tuple[int, ...], height: int = 900) -> Iterator[int]:
    """`page` opened at each window width in turn (yielded), the window put back to 1400 x 1000 after."""
    try:
        for width in widths:
            browser.set_window_size(width, height)
            open_page(browser, page)
            yield width
    finally:
        browser.set_window_size(1400, 1000)


def test_browser_report_page_never_scrolls_sideways(browser: Any, tmp_path: Path) -> None:
    # A run of multiple-choice and free-text questions has the methods table's every column (20): wider than the
    # page's 1200px, it made the whole page scroll sideways, on a phone a screen and a half of it.
    from pearl.eval import ResultRow

    rows = [
        *synthetic_rows(40),
        *(
            ResultRow(
                id=f"f{i}", method=m, kind="free", answer="x", gold="x y z", em=1.0, f1=1.0, rouge_l=1.0, score=1.0
            ).model_copy(update={"evidence_shown": True, "tags": ["short", "hard"]})
            for i in range(10)
            for m in ("pearl", "direct", "rag", "pearl-fulldoc")
        ),
    ]
    page = tmp_path / "report.html"
    page.write_text(render_report_page(summarize(rows), rows), encoding="utf-8")
    for width in at_widths(browser, page, (1400, 390)):
        sizes = browser.execute_script("const e = document.documentElement; return [e.scrollWidth, e.clientWidth]")
        assert sizes[0] <= sizes[1], (width, sizes)
        # Each wide table scrolls in its own box instead, so none of it is out of reach.
        assert browser.execute_script(
            "return Array.from(document.querySelectorAll('table'), t => t.parentElement)"
            ".every(box => box.scrollWidth <= box.clientWidth || getComputedStyle(box).overflowX === 'auto')"
        )


def test_browser_report_answer_column_keeps_its_room_on_a_narrow_screen(browser: Any, tmp_path: Path) -> None:
    # The other columns' fixed widths took all of a 1000 px table: the answer column was 0 px wide, its header and
    # cells gone (helper-193).
    rows = synthetic_rows(20)
    page = tmp_path / "report.html"
    page.write_text(render_report_page(summarize(rows), rows), encoding="utf-8")
    for width in at_widths(browser, page, (1000, 390)):
        answer = browser.execute_script(
            "return document.querySelector('#rows .c-answer').getBoundingClientRect().width"
        )
        assert answer >= 140, (width, answer)
    for width in at_widths(browser, page, (1400, 1920)):  # a desktop's box holds the table unscrolled (helper-194)
        box = "const b = document.getElementById('rows-wrap'); return [b.scrollWidth, b.clientWidth]"
        sizes = browser.execute_script(box)
        assert sizes[0] <= sizes[1], (width, sizes)


def test_browser_report_chart_stays_readable_on_a_narrow_screen(browser: Any, tmp_path: Path) -> None:
    # The chart shrank with the screen, its 11 px labels drawn 6 px tall at 390 px (helper-217): it keeps its size,
    # and its box scrolls sideways.
    rows = synthetic_rows(20)
    page = tmp_path / "report.html"
    page.write_text(render_report_page(summarize(rows), rows), encoding="utf-8")
    for width in at_widths(browser, page, (1400, 390)):
        tick = "return document.querySelector('.chart .tick').getBoundingClientRect().height"
        assert browser.execute_script(tick) >= 10, width
        box = "const b = document.querySelector('.chart-wrap'); return getComputedStyle(b).overflowX"
        assert browser.execute_script(box) == "auto"


def test_browser_report_table_headers_stay_in_sight_down_a_long_table(browser: Any, tmp_path: Path) -> None:
    # The summary tables' boxes, there to scroll sideways, also held their sticky header: it stuck to a box as tall
    # as its table, which never scrolled, so a long table's header went off the page with its first rows. Each box
    # is now at most three quarters of the window high, scrolling down inside, its header kept at its top.
    from pearl.eval import ResultRow

    rows = [
        ResultRow(id=f"q{i}", method=f"m{k:02d}", kind="choice", answer="B", gold="B", correct=True, score=1.0)
        for k in range(12)  # tables of 12 methods and of their 66 pairs (`summarize` takes any methods' rows)
        for i in range(3)
    ]
    page = tmp_path / "report.html"
    page.write_text(render_report_page(summarize(rows), rows), encoding="utf-8")
    for width in at_widths(browser, page, (1400, 390), height=700):
        # Each table's last row brought into view, as reading down to it does: its header is in view too.
        seen = browser.execute_script(
            "return Array.from(document.querySelectorAll('table'), t => {"
            "  t.rows[t.rows.length - 1].scrollIntoView({block: 'end'});"
            "  const top = t.querySelector('thead th').getBoundingClientRect().top;"
            "  return [t.id || t.closest('section').getAttribute('aria-labelledby'), t.rows.length,"
            "          top >= 0 && top < innerHeight];"
            "})"
        )
        assert len(seen) >= 4 and max(count for _, count, _ in seen) > 60, seen
        assert all(in_view for _, _, in_view in seen), (width, seen)


def test_browser_report_table_sorts_from_the_keyboard_and_says_how(browser: Any, tmp_path: Path) -> None:
    # "Click a column to sort": the headers took clicks alone, out of reach of Tab, and said nothing of the order.
    from selenium.webdriver.common.keys import Keys

    rows = synthetic_rows(60)
    page = tmp_path / "report.html"
    page.write_text(render_report_page(summarize(rows), rows), encoding="utf-8")
    open_page(browser, page)
    browser.find_element("id", "f-text").click()
    browser.switch_to.active_element.send_keys(Keys.TAB)
    assert browser.execute_script("return document.activeElement.closest('th').dataset.col") == "0"
    calls = "return Array.from(document.querySelectorAll('#rows-body tr:not(.spacer)'), r => +r.cells[6].textContent)"
    for _ in range(6):  # on to the column of calls (question, method, type, outcome, score, prompt tok, calls)
        browser.switch_to.active_element.send_keys(Keys.TAB)
    assert browser.execute_script("return document.activeElement.closest('th').dataset.col") == "7"
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    drawn = browser.execute_script(calls)
    assert drawn == sorted(drawn) and drawn[0] == min(r.calls for r in rows)
    browser.switch_to.active_element.send_keys(" ")  # again: the other way
    drawn = browser.execute_script(calls)
    assert drawn == sorted(drawn, reverse=True) and drawn[0] == max(r.calls for r in rows)
    said = browser.execute_script(
        "return Array.from(document.querySelectorAll('th[aria-sort]'), th => [th.dataset.col, th.ariaSort])"
    )
    assert said == [["7", "descending"]]


def test_browser_report_chart_labels_apart_and_inside(browser: Any, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(render_report_page(summarize(tied_rows()), tied_rows()), encoding="utf-8")
    open_page(browser, page)
    boxes = browser.execute_script(
        "const svg = document.querySelector('svg.chart').getBoundingClientRect();"
        "return Array.from(document.querySelectorAll('.method-label'), t => {"
        " const b = t.getBoundingClientRect();"
        " return [b.left - svg.left, b.right - svg.left, b.top - svg.top, b.bottom - svg.top, svg.width, svg.height];"
        "})"
    )
    assert len(boxes) == 4
    for n, (left, right, top, bottom, width, height) in enumerate(boxes):
        assert left >= 0 and right <= width and top >= 0 and bottom <= height, boxes[n]  # drawn, not clipped
        for other in boxes[n + 1 :]:
            apart = right <= other[0] or other[1] <= left or bottom <= other[2] or other[3] <= top
            assert apart, (boxes[n], other)
