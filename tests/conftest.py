"""Shared fixtures. Every test gets its own PEARL_HOME, and no test sees the user's LLM settings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
SAMPLE_DIR = REPO / "datasets" / "sample"

_USER_ENV = (
    "PEARL_BASE_URL",
    "PEARL_MODEL",
    "PEARL_API_KEY",
    "OPENAI_API_KEY",
    "PEARL_TIMEOUT",
    "PEARL_MAX_RETRIES",
    "PEARL_CONCURRENCY",
    "PEARL_CACHE",
    "PEARL_CONTEXT_WINDOW",
    "PEARL_MAX_BYTES",
    "PEARL_GRAMMAR",
    "PEARL_CONFIG",
)


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path_factory.mktemp("pearl_home")
    monkeypatch.setenv("PEARL_HOME", str(home))
    for name in _USER_ENV:
        monkeypatch.delenv(name, raising=False)
    # tiktoken's files are seeded once per session into a shared dir; reseeding per test is waste
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(_tiktoken_dir(tmp_path_factory)))
    return home


_TIKTOKEN: list[Path] = []


def _tiktoken_dir(factory: pytest.TempPathFactory) -> Path:
    if not _TIKTOKEN:
        _TIKTOKEN.append(factory.mktemp("tiktoken"))
    return _TIKTOKEN[0]


@pytest.fixture
def fake_server() -> Iterator[object]:
    """A fake OpenAI-compatible server on 127.0.0.1 (see tests/fakeserver.py)."""
    from fakeserver import FakeOpenAIServer

    with FakeOpenAIServer() as server:
        yield server


requires_shared_data = pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="../shared/data is not beside the checkout")
