"""The held-out set builders (datasets/*/build.py) as a user runs them: an option is never taken for the output."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from repo_scripts import load_script

BUILDERS = ["changelogs", "infomanuals", "licences", "manpages", "pydocs", "readmes", "rustdocs", "usrdocs"]


@pytest.mark.parametrize("name", BUILDERS)
def test_help_prints_the_usage_and_writes_nothing(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # `build.py --help` wrote a 735 KB file named "--help" in the working folder.
    build = load_script(f"datasets/{name}/build.py")
    monkeypatch.chdir(tmp_path)
    assert build.main(["--help"]) == 0
    assert f"python datasets/{name}/build.py OUT.jsonl" in capsys.readouterr().out
    assert build.main(["-o", "x.jsonl"]) == 2
    assert f"usage: python datasets/{name}/build.py OUT.jsonl" in capsys.readouterr().err
    assert os.listdir(tmp_path) == []
