"""Terminal control sequences written by a model or a document never reach the terminal raw.

Every command that prints something a model or a document wrote is run with hostile text (a
window-title change, the bell, clear-screen, a cursor move, a one-byte CSI, a right-to-left
override) and its output checked; JSON output keeps the exact text, escaped.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
from conftest import SAMPLE_DIR
from fakeserver import FakeOpenAIServer
from typer.testing import CliRunner

from pearl.models import Trace, TraceEvent

HOSTILE = "\x1b]0;owned\x07\x1b[2J\x1b[10;10H\x9b31m\u202eevil\u202c\x7f\x08\r"
# What a terminal would act on: C0 controls but tab and newline, DEL, C1, bidi embeddings/overrides/isolates.
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
STORY = (SAMPLE_DIR / "the_keeper_of_tren_light.txt").read_text(encoding="utf-8")[:3000]

runner = CliRunner()


def _app():  # type: ignore[no-untyped-def]
    from pearl.cli import app

    return app


def _check(args: list[str], code: int = 0) -> str:
    result = runner.invoke(_app(), args)
    assert result.exit_code == code, (args, result.output)
    for stream in (result.stdout, result.stderr):
        assert not UNSAFE.findall(stream), (args, UNSAFE.findall(stream), stream[-400:])
    return result.stdout + result.stderr


@pytest.fixture
def hostile_doc(tmp_path: Path) -> Path:
    # The file name is hostile too: commands print it.
    doc = tmp_path / "story\x1b[2J\u202e.txt"
    paragraphs = STORY.split("\n\n")
    doc.write_text("\n\n".join([paragraphs[0] + f" The keeper said {HOSTILE} twice.", *paragraphs[1:]]))
    return doc


def test_ask_plan_index_and_context_print_no_control_characters(
    hostile_doc: Path, fake_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    fake_server.set_default(f"The keeper {HOSTILE} stayed [S0] [S1].")
    server = ["--base-url", fake_server.base_url, "--model", "fake-model"]
    shown = _check(["ask", str(hostile_doc), "Why did she stay?", "-m", "direct", *server])
    assert "The keeper ␛]0;owned␇␛[2J␛[10;10H" in shown  # shown, not acted on; the rest of the line kept
    _check(["ask", str(hostile_doc), "Why did she stay?", "-m", "rag", *server])  # citations quote the document
    _check(["ask", str(hostile_doc), "Why did she stay?", "-o", f"yes{HOSTILE}", "-o", "no", "-m", "rag", *server])
    _check(["plan", "Why did she stay?", "--file", str(hostile_doc), *server], code=1)  # rejected plans quoted
    _check(["index", str(hostile_doc), "--no-ner"])
    _check(["context", str(hostile_doc), "keeper said", "--no-ner"])


def test_json_output_keeps_the_exact_text_escaped(hostile_doc: Path, fake_server: FakeOpenAIServer) -> None:
    fake_server.set_default(f"The keeper {HOSTILE} stayed.")
    server = ["--base-url", fake_server.base_url, "--model", "fake-model"]
    result = runner.invoke(_app(), ["ask", str(hostile_doc), "Why?", "-m", "direct", "--json", *server])
    assert result.exit_code == 0, result.output
    assert not UNSAFE.findall(result.stdout)
    assert json.loads(result.stdout)["answer"] == f"The keeper {HOSTILE} stayed.".strip()
    context = runner.invoke(_app(), ["context", str(hostile_doc), "keeper said", "--no-ner", "--json"])
    assert not UNSAFE.findall(context.stdout) and HOSTILE.strip() in json.loads(context.stdout)["context"]["text"]


def test_trace_show_and_actions_print_no_control_characters(tmp_path: Path) -> None:
    trace = Trace(question=f"Why{HOSTILE}?", events=[TraceEvent(stage="answer", output=HOSTILE, error=HOSTILE)])
    path = tmp_path / "t.json"
    path.write_text(trace.model_dump_json(), encoding="utf-8")
    assert "␛" in _check(["trace", "show", str(path), "--prompts"])
    one_line = HOSTILE.rstrip("\r")  # a definition must be one line
    library = {
        "name": f"lib{one_line}",
        "version": "1",
        "actions": [{"name": "FIND_X", "params": ["CTX", "X"], "definition": f"find {one_line} X"}],
    }
    lib = tmp_path / "lib.json"
    lib.write_text(json.dumps(library), encoding="utf-8")
    _check(["actions", "list", str(lib)])
    _check(["actions", "show", "FIND_X", "--actions", str(lib)])


def test_eval_report_prints_no_control_characters(tmp_path: Path, fake_server: FakeOpenAIServer) -> None:
    fake_server.set_default(f"B{HOSTILE}")
    data = tmp_path / f"data{HOSTILE.strip()}.jsonl"
    data.write_text((SAMPLE_DIR / "quality_sample.jsonl").read_text(encoding="utf-8"), encoding="utf-8")
    out = tmp_path / "run"
    args = ["eval", str(data), "--limit", "1", "--methods", "direct", "--out", str(out)]
    _check([*args, "--base-url", fake_server.base_url, "--model", "fake-model"])


def test_log_records_are_made_safe_too() -> None:
    from pearl.cli._common import SafeFormatter

    record = logging.LogRecord("pearl", logging.WARNING, __file__, 1, "skipped %s", (HOSTILE,), None)
    assert not UNSAFE.findall(SafeFormatter("%(levelname)s: %(message)s").format(record))
