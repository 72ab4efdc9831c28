"""datasets/changelogs and datasets/infomanuals build.py: golds verbatim, once, in their documents; a document or
gold missing is left out and named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from repo_scripts import load_script

from pearl.eval import load_dataset

SETS = {"changelogs": 70, "infomanuals": 72}  # questions in all, over six documents each


@pytest.fixture(params=sorted(SETS))
def name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _build(name: str) -> Any:
    return load_script(f"datasets/{name}/build.py")


def test_the_set_builds_with_every_gold_verbatim_once(name: str, tmp_path: Path) -> None:
    build = _build(name)
    if not all(Path(path).is_file() for path in build.DATA):
        pytest.skip(f"the {name} documents are not all here")
    out = tmp_path / f"{name}.jsonl"
    assert build.main([str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 6 and sum(len(r["instructions"]) for r in rows) == SETS[name]
    for row in rows:
        assert len(row["instructions"]) == len(row["outputs"])
        assert all(row["input"].count(gold) == 1 for gold in row["outputs"])
    assert len(load_dataset(out).questions) == SETS[name]


def test_an_info_manual_is_read_as_info_shows_it() -> None:
    build = _build("infomanuals")
    path = next(iter(build.DATA))
    if not Path(path).is_file():
        pytest.skip(f"no {path}")
    text, _ = build.read(path)
    assert "\x1f" not in text and "\nTag Table:\n" not in text and "\nFile: grep.info,  Node: " in text


def test_a_missing_document_or_gold_is_left_out_and_named(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    build = _build(name)
    path = next(iter(build.DATA))
    data = {path: [("Who wrote it?", "words this document never says at all")], "/nowhere/x.gz": [("What?", "x")]}
    monkeypatch.setattr(build, "DATA", data)
    rows, left_out = build.build()
    assert rows == [] and left_out[-1] == (
        "/nowhere/x.gz: not read, 1 question left out: no /nowhere/x.gz (its Debian package is not installed)"
    )
    if Path(path).is_file():
        assert left_out[0] == f"{path} question 1: the page does not say 'words this document never says at all'"
