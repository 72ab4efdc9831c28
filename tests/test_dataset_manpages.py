"""datasets/manpages/build.py: golds verbatim in their pages; a page or gold missing is left out, named."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from repo_scripts import load_script

from pearl.eval import load_dataset

build = load_script("datasets/manpages/build.py")

pytestmark = pytest.mark.skipif(
    shutil.which("man") is None or build.render("useradd.8") is None, reason="no man, or no useradd(8), here"
)


def test_the_set_builds_with_every_gold_verbatim_in_its_page(tmp_path: Path) -> None:
    out = tmp_path / "manpages.jsonl"
    assert build.main([str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert rows and all(len(row["instructions"]) == len(row["outputs"]) for row in rows)
    for row in rows:
        assert "\b" not in row["input"] and "\t" not in row["input"]  # overstrikes and tabs gone
        assert all(gold in row["input"] for gold in row["outputs"])
    assert len(load_dataset(out).questions) == sum(len(row["instructions"]) for row in rows)


def test_a_readers_man_settings_do_not_change_the_text(monkeypatch: pytest.MonkeyPatch) -> None:
    plain = build.render("useradd.8")
    monkeypatch.setenv("MAN_KEEP_FORMATTING", "1")  # overstrikes for bold and underline, piped or not
    monkeypatch.setenv("MANWIDTH", "120")
    assert build.render("useradd.8") == plain and "\b" not in plain


def test_a_missing_page_or_gold_is_left_out_and_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        build,
        "DATA",
        {
            "useradd.8": [("Who?", "words this page never says at all"), *build.DATA["useradd.8"][:1]],
            "nosuchpage.1": [("What?", "four words of gold")],
        },
    )
    rows, left_out = build.build()
    assert [len(row["instructions"]) for row in rows] == [1]
    assert left_out == [
        "useradd.8 question 1: the page does not say 'words this page never says at all'",
        "nosuchpage.1: not installed (1 question)",
    ]
