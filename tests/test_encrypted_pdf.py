"""Encrypted PDFs: one clear error saying what to do, from every command that reads a document.

The PDFs in tests/data/ were written by tests/data/make_encrypted_pdfs.py (pypdf, which needs
`cryptography` to write AES); they are committed so that these tests need neither.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO
from fakeserver import FakeOpenAIServer

from pearl.documents import load_document
from pearl.errors import DocumentError

DATA = Path(__file__).resolve().parent / "data"
AES_FILES = ("aes128-empty-password.pdf", "aes256-empty-password.pdf")

# Runs each command in a process where `cryptography` cannot be imported, as on a machine
# without it: pypdf then falls back to a provider that cannot do AES.
_WITHOUT_CRYPTOGRAPHY = """
import json, sys
sys.modules["cryptography"] = None
sys.modules["Crypto"] = None  # pycryptodome, pypdf's other AES provider
from typer.testing import CliRunner
from pearl.cli import app
results = []
for args in json.loads(sys.argv[1]):
    result = CliRunner().invoke(app, args)
    crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
    results.append({"code": result.exit_code, "stdout": result.stdout, "stderr": result.stderr,
                    "exception": repr(result.exception) if crashed else None})
print(json.dumps(results))
"""


def _run_without_cryptography(commands: list[list[str]]) -> list[dict[str, object]]:
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run(
        [sys.executable, "-c", _WITHOUT_CRYPTOGRAPHY, json.dumps(commands)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    results: list[dict[str, object]] = json.loads(done.stdout.splitlines()[-1])
    return results


def test_aes_pdf_without_cryptography_is_one_clear_error_in_every_command(fake_server: FakeOpenAIServer) -> None:
    server = ["--base-url", fake_server.base_url, "--model", "fake-model"]
    commands: list[list[str]] = []
    files: list[str] = []
    for name in AES_FILES:
        pdf = str(DATA / name)
        commands += [
            ["ask", pdf, "Who lit the lamp?", "--method", "direct", *server],
            ["index", pdf],
            ["context", pdf, "lamp"],
            ["plan", "Who lit the lamp?", "--file", pdf, *server],
        ]
        files += [pdf] * 4
    for pdf, args, result in zip(files, commands, _run_without_cryptography(commands), strict=True):
        stderr = str(result["stderr"])
        assert result["code"] == 2 and result["exception"] is None, (args, result)
        assert "Traceback" not in stderr and "DependencyError" not in stderr, (args, stderr)
        assert stderr.startswith(f"error: {pdf}: the PDF is AES-encrypted"), (args, stderr)
        assert "pip install cryptography" in stderr and "decrypt" in stderr and stderr.count("\n") == 1
    assert not fake_server.chat_requests  # nothing was paid for a document that cannot be read


def test_with_cryptography_the_same_pdfs_read() -> None:
    pytest.importorskip("cryptography")  # what the error message tells the user to install
    for name in AES_FILES:
        assert "The keeper lit the lamp at dusk." in load_document(DATA / name).text


def test_pdf_that_needs_a_password_says_so() -> None:
    with pytest.raises(DocumentError, match="needs a password; save a decrypted copy first"):
        load_document(DATA / "rc4-password.pdf")
