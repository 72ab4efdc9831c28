"""datasets/readmes/build.py: golds verbatim, once, in the READMEs installed packages carry; a package not installed,
or a gold its README lacks, is left out and named."""

from __future__ import annotations

import importlib.metadata
import json
from pathlib import Path
from typing import Any

import pytest
from repo_scripts import load_script

from pearl.eval import load_dataset


@pytest.fixture
def build() -> Any:
    return load_script("datasets/readmes/build.py")


def test_the_set_builds_with_every_gold_verbatim_once(build: Any, tmp_path: Path) -> None:
    texts = {dist: build.read(dist)[0] for dist in build.DATA}
    if any(text is None for text in texts.values()):
        pytest.skip("the seven packages are not all installed")
    out = tmp_path / "readmes.jsonl"
    assert build.main([str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    carried = [importlib.metadata.metadata(dist).get_payload() for dist in build.DATA]  # type: ignore[attr-defined]
    assert [row["input"] for row in rows] == carried  # each README as its package carries it, unchanged
    for row in rows:
        assert len(row["instructions"]) == len(row["outputs"]) > 0
        assert all(row["input"].count(gold) == 1 for gold in row["outputs"])
    measured = {
        "orjson": "3.8.3",
        "tqdm": "4.70.1",
        "regex": "2026.5.9",
        "responses": "0.26.0",
        "threadpoolctl": "3.8.0",
        "python-dotenv": "1.2.2",
        "wcwidth": "0.7.0",
    }
    if all(importlib.metadata.version(dist) == version for dist, version in measured.items()):
        assert len(load_dataset(out).questions) == 84  # the releases the set was written on keep every question


def test_a_missing_package_or_gold_is_left_out_and_named(build: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    data = {"pytest": [("Who wrote it?", "words this README never says at all")], "no-such-dist-xyz": [("What?", "x")]}
    monkeypatch.setattr(build, "DATA", data)
    rows, left_out = build.build()
    assert rows == []
    assert left_out == [
        "pytest question 1: the page does not say 'words this README never says at all'",
        "no-such-dist-xyz: not read, 1 question left out: no-such-dist-xyz is not installed",
    ]
