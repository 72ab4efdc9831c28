"""datasets/licences/build.py: every gold is verbatim, once, in its licence (skips where the licences are absent)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from repo_scripts import load_script

from pearl.eval import load_dataset

build = load_script("datasets/licences/build.py")

pytestmark = pytest.mark.skipif(
    not all((build.LICENCES / name).is_file() for name in build.DATA), reason="no /usr/share/common-licenses here"
)


def test_the_set_builds_with_every_gold_verbatim_once(tmp_path: Path) -> None:
    out = tmp_path / "licences.jsonl"
    assert build.main([str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 8 and sum(len(r["instructions"]) for r in rows) == 96
    for row in rows:
        assert len(row["instructions"]) == len(row["outputs"])
        assert all(row["input"].count(gold) == 1 for gold in row["outputs"])
    assert len(load_dataset(out).questions) == 96  # pearl eval reads it too (as free-text questions)


def test_a_gold_that_is_not_in_its_licence_stops_the_build(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(build.DATA, "BSD", [("Who wrote it?", "words this licence never says at all")])
    with pytest.raises(SystemExit, match="BSD question 1: the gold occurs 0 times"):
        build.build()
