"""datasets/rustdocs/build.py: golds verbatim, once, in their saved pages; a page or gold missing is left out, named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from repo_scripts import load_script

from pearl.eval import load_dataset

build = load_script("datasets/rustdocs/build.py")
DOCS = build.default_docs()


@pytest.mark.skipif(DOCS is None, reason="no Rust toolchain's HTML documentation is installed here")
def test_the_set_builds_from_the_installed_pages_with_every_gold_once_in_its_page(tmp_path: Path) -> None:
    assert DOCS is not None
    out = tmp_path / "rustdocs.jsonl"
    assert build.main([str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    questions = sum(len(row["instructions"]) for row in rows)
    if (DOCS / "crates1.95.0.js").is_file():  # the release the golds were checked on: every one of them
        assert len(rows) == 8 and questions == 96 and build.build(DOCS)[1] == []
    else:  # another release words some otherwise (or moves a page): those are left out, named, the rest kept
        assert len(rows) >= 6 and questions >= 72
    for row in rows:
        assert row["input"].lstrip().lower().startswith("<!doctype html>")  # the page as saved, markup and all
        assert all(row["input"].count(gold) == 1 for gold in row["outputs"])
    assert len(load_dataset(out).questions) == questions


def test_the_stable_toolchains_pages_are_read_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for toolchain in ("1.70.0-x86_64", "beta-x86_64", "nightly-x86_64", "stable-x86_64"):
        (tmp_path / f"rustup/toolchains/{toolchain}/share/doc/rust/html").mkdir(parents=True)
    monkeypatch.setenv("RUSTUP_HOME", str(tmp_path / "rustup"))
    assert build.default_docs() == tmp_path / "rustup/toolchains/stable-x86_64/share/doc/rust/html"
    monkeypatch.delenv("RUSTUP_HOME")
    monkeypatch.setattr(Path, "home", lambda: tmp_path / "nobody")  # ~/.rustup when RUSTUP_HOME is not set
    assert build.default_docs() is None
    (tmp_path / "nobody/.rustup/toolchains/nightly-x86_64/share/doc/rust/html").mkdir(parents=True)
    assert build.default_docs() == tmp_path / "nobody/.rustup/toolchains/nightly-x86_64/share/doc/rust/html"


def test_a_missing_page_or_gold_is_left_out_and_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "std").mkdir()
    (tmp_path / "std/index.html").write_text(
        "<!DOCTYPE html><html><body><p>Pinned values\n   stay put.</p></body></html>", encoding="utf-8"
    )
    data = {
        "std/index.html": [("Moved?", "words this page never says"), ("Do pinned values move?", "values stay put")],
        "book/missing.html": [("What?", "four words of gold")],
    }
    monkeypatch.setattr(build, "DATA", data)
    rows, left_out = build.build(tmp_path)
    assert [row["outputs"] for row in rows] == [["values\n   stay put"]]  # the page's own spaces written out
    assert left_out == [
        "std/index.html question 1: the page does not say 'words this page never says'",
        f"book/missing.html: not read, 1 question left out: no {tmp_path / 'book/missing.html'}",
    ]
    assert build.main([str(tmp_path / "out.jsonl"), str(tmp_path / "nowhere")]) == 2
    assert "rustup component add rust-docs" in capsys.readouterr().err
