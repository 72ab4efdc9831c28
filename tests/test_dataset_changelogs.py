"""datasets/changelogs/build.py: golds verbatim, once, in their documents; a document or gold missing is left out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from repo_scripts import load_script

from pearl.eval import load_dataset

build = load_script("datasets/changelogs/build.py")


@pytest.mark.skipif(not all(Path(path).is_file() for path in build.DATA), reason="the changelogs are not all here")
def test_the_set_builds_with_every_gold_verbatim_once(tmp_path: Path) -> None:
    out = tmp_path / "changelogs.jsonl"
    assert build.main([str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 6 and sum(len(r["instructions"]) for r in rows) == 70
    for row in rows:
        assert len(row["instructions"]) == len(row["outputs"])
        assert all(row["input"].count(gold) == 1 for gold in row["outputs"])
    assert len(load_dataset(out).questions) == 70


def test_a_missing_document_or_gold_is_left_out_and_named(monkeypatch: pytest.MonkeyPatch) -> None:
    path = next(iter(build.DATA))
    data = {path: [("Who wrote it?", "words this document never says at all")], "/nowhere/x.gz": [("What?", "x")]}
    monkeypatch.setattr(build, "DATA", data)
    rows, left_out = build.build()
    assert (
        left_out[-1]
        == "/nowhere/x.gz: not read, 1 question left out: no /nowhere/x.gz (its Debian package is not installed)"
    )
    if Path(path).is_file():
        assert (
            rows == []
            and left_out[0] == f"{path} question 1: the page does not say 'words this document never says at all'"
        )
