"""datasets/pydocs/build.py: golds verbatim in their pages; a page or gold missing is left out, named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from repo_scripts import load_script

from pearl.eval import load_dataset

build = load_script("datasets/pydocs/build.py")


@pytest.mark.skipif(not (build.DOCS / "howto/sorting.html").is_file(), reason="python3.11-doc is not installed here")
def test_the_set_builds_from_the_installed_pages_with_every_gold_once_in_its_page(tmp_path: Path) -> None:
    out = tmp_path / "pydocs.jsonl"
    assert build.main([str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 8 and sum(len(row["instructions"]) for row in rows) == 96
    for row in rows:
        assert row["input"].lstrip().startswith("<!DOCTYPE html>")  # the page as saved, markup and all
        assert all(row["input"].count(gold) == 1 for gold in row["outputs"])
    assert len(load_dataset(out).questions) == 96


def test_a_missing_page_or_gold_is_left_out_and_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "howto").mkdir()
    (tmp_path / "howto/sorting.html").write_text(
        "<html><body><p>Sorts are guaranteed\n   to be stable.</p></body></html>", encoding="utf-8"
    )
    monkeypatch.setattr(
        build,
        "DATA",
        {
            "howto/sorting.html": [
                ("Stable?", "words this page never says"),
                ("Are sorts stable?", "guaranteed to be stable"),
            ],
            "howto/missing.html": [("What?", "four words of gold")],
        },
    )
    rows, left_out = build.build(tmp_path)
    # The page's own text is written out, its line break and spaces kept.
    assert [row["outputs"] for row in rows] == [["guaranteed\n   to be stable"]]
    assert left_out == [
        "howto/sorting.html question 1: the page does not say 'words this page never says'",
        f"howto/missing.html: not read, 1 question left out: no {tmp_path / 'howto/missing.html'}",
    ]
    assert build.main([str(tmp_path / "out.jsonl"), str(tmp_path / "nowhere")]) == 2
