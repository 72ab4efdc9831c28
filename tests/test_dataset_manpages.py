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
    shutil.which("man") is None or build.render("useradd.8")[0] is None, reason="no man, or no useradd(8), here"
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


@pytest.mark.parametrize(
    "setting",
    [
        "MAN_KEEP_FORMATTING=1",  # overstrikes for bold and underline, piped or not
        "MANWIDTH=120",
        "MANOPT=--no-hyphenation",
        "MANROFFOPT=-rLL=60n",
        "MANSECT=1",  # the section named in the set is the one read
        "MANPATH=/nonexistent",
        "LANGUAGE=de",  # a translated page, where one is installed
        "LANG=de_DE.UTF-8",
    ],
)
def test_a_readers_man_settings_do_not_change_the_text(monkeypatch: pytest.MonkeyPatch, setting: str) -> None:
    plain, _ = build.render("useradd.8")
    name, value = setting.split("=", 1)
    monkeypatch.setenv(name, value)
    assert build.render("useradd.8") == (plain, "") and plain is not None and "\b" not in plain


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
    assert left_out[0] == "useradd.8 question 1: the page does not say 'words this page never says at all'"
    # man's own words say why ("No manual entry for nosuchpage"), not a guess of ours
    assert (
        left_out[1].startswith("nosuchpage.1: not rendered, 1 question left out: ") and "nosuchpage" in left_out[1][49:]
    )
