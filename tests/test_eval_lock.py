"""Two `pearl eval` processes into one `--out` folder: one owns it, the other refuses or waits; no row twice.

The first run is held inside its first model call (the fake server answers only when the
test lets it), so the second one always starts while the first holds the folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

import pytest
from conftest import REPO, SAMPLE_DIR
from fakeserver import FakeOpenAIServer
from typer.testing import CliRunner

from pearl.cli import app

QUALITY = SAMPLE_DIR / "quality_sample.jsonl"
PAIRS = 2  # --limit 2 --methods direct

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the run lock uses flock")


def _gated(server: FakeOpenAIServer) -> threading.Event:
    """Let no reply out until the returned event is set."""
    gate = threading.Event()

    def reply(body: dict[str, Any]) -> str:
        gate.wait(60)
        return "B"

    server.set_default(reply)
    return gate


def _args(out: Path, server: FakeOpenAIServer, *extra: str) -> list[str]:
    return [
        *("eval", str(QUALITY), "--limit", str(PAIRS), "--methods", "direct", "--concurrency", "1"),
        *("--out", str(out), "--base-url", server.base_url, "--model", "fake-model", "--no-cache", *extra),
    ]


def _start(args: list[str], stderr: IO[str] | int = subprocess.PIPE) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    command = [sys.executable, "-m", "pearl", *args]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=stderr, text=True, cwd=REPO)


def _wait_for(condition: Any, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _rows(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]


def test_a_second_run_into_a_busy_folder_refuses(tmp_path: Path, fake_server: FakeOpenAIServer) -> None:
    gate = _gated(fake_server)
    out = tmp_path / "run"
    first = _start(_args(out, fake_server))
    try:
        _wait_for(lambda: fake_server.chat_requests, "the first run's first model call")
        second = _start(_args(out, fake_server))
        _, err = second.communicate(timeout=30)
        assert second.returncode == 2, err
        assert f"error: {out} is in use" in err and "--wait" in err and "--out" in err
        assert "Traceback" not in err and "re-run to resume" not in err
        assert len(fake_server.chat_requests) == 1  # the second run paid for nothing
    finally:
        gate.set()
        _, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    rows = _rows(out)
    assert len(rows) == PAIRS and len({(r["id"], r["method"]) for r in rows}) == PAIRS
    assert len(fake_server.chat_requests) == PAIRS


def test_with_wait_the_second_run_resumes_after_the_first(tmp_path: Path, fake_server: FakeOpenAIServer) -> None:
    gate = _gated(fake_server)
    out = tmp_path / "run"
    first = _start(_args(out, fake_server))
    log = tmp_path / "second.err"
    with log.open("w", encoding="utf-8") as handle:
        try:
            _wait_for(lambda: fake_server.chat_requests, "the first run's first model call")
            second = _start(_args(out, fake_server, "--wait"), stderr=handle)
            _wait_for(lambda: "waiting for it to finish" in log.read_text(encoding="utf-8"), "the second run to wait")
        finally:
            gate.set()
        report, err = first.communicate(timeout=60)
        assert first.returncode == 0, err
        second_report, _ = second.communicate(timeout=60)
    assert second.returncode == 0, log.read_text(encoding="utf-8")
    assert second_report == report  # the same summary: it ran nothing and found every row done
    rows = _rows(out)
    assert len(rows) == PAIRS and len({(r["id"], r["method"]) for r in rows}) == PAIRS
    assert len(fake_server.chat_requests) == PAIRS  # every question paid for once


def test_a_killed_run_leaves_no_stale_lock(tmp_path: Path, fake_server: FakeOpenAIServer) -> None:
    gate = _gated(fake_server)
    out = tmp_path / "run"
    first = _start(_args(out, fake_server))
    _wait_for(lambda: fake_server.chat_requests, "the first run's first model call")
    first.kill()  # SIGKILL: no cleanup code runs
    first.communicate(timeout=30)
    assert (out / "run.lock").is_file()
    gate.set()
    result = CliRunner().invoke(app, _args(out, fake_server))
    assert result.exit_code == 0, result.output
    assert len(_rows(out)) == PAIRS


def test_folder_lock_is_exclusive_and_released(tmp_path: Path) -> None:
    from pearl._files import FolderLock

    path = tmp_path / "run.lock"
    with FolderLock(path) as first:
        assert first.acquire()
        other = FolderLock(path)
        assert not other.acquire()  # flock conflicts between two open files, even in one process
        assert other.holder() == f"process {os.getpid()}"
    assert other.acquire()
    other.release()
