"""Shared fixtures. Every test gets its own PEARL_HOME and PEARL_CONFIG, and no test sees the user's settings.

The variables cleared are the settings' own list (`pearl.config.ENVIRONMENT`, `PATH_VARIABLES`),
so a setting added to pearl is isolated here without anyone remembering to; `test_config.py`
checks that every `PEARL_*` name the package reads is on that list.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pearl.config import ENVIRONMENT, PATH_VARIABLES
from pearl.llm import FakeLLM

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
SAMPLE_DIR = REPO / "datasets" / "sample"

USER_ENV = (
    *(name for names in ENVIRONMENT.values() for name in names),
    *PATH_VARIABLES,
    "XDG_CACHE_HOME",
    "XDG_CONFIG_HOME",
)


@pytest.fixture(autouse=True, scope="session")
def _no_user_environment() -> Iterator[None]:
    # Session-wide too, so module-scoped fixtures (a llama.cpp server, say) start isolated as well.
    with pytest.MonkeyPatch.context() as patch:
        for name in USER_ENV:
            patch.delenv(name, raising=False)
        yield


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in USER_ENV:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path_factory.mktemp("pearl_home")
    monkeypatch.setenv("PEARL_HOME", str(home))
    # PEARL_HOME does not move the settings file, so without this a test would read the user's own.
    monkeypatch.setenv("PEARL_CONFIG", str(home / "config.toml"))
    (home / "config.toml").touch()  # a file PEARL_CONFIG names must exist (a missing one is a settings error)
    # Dense auto (the default) would rank by meaning too where the optional MiniLM wheel is installed, as it is
    # where CI runs: tests rank by words alone unless they ask for dense, here for commands run as processes of
    # their own, and in this one by `_dense_auto_finds_no_model` for `Settings()` made in code.
    monkeypatch.setenv("PEARL_DENSE", "0")
    # tiktoken's files are seeded once per session into a shared dir; reseeding per test is waste
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(_tiktoken_dir(tmp_path_factory)))
    return home


@pytest.fixture(autouse=True)
def _dense_auto_finds_no_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """`Settings.dense` auto (the default) ranks by meaning too where the optional MiniLM wheel is installed, as it
    is where CI runs: tests rank by words alone unless they ask for dense, so that what they expect does not
    depend on what is installed (with `PEARL_DENSE=0`, set in `_isolated_home`, for settings read from the
    environment). The tests of auto itself undo both (`dense_auto_installed`)."""
    monkeypatch.setattr("pearl.context._dense._auto_installed", lambda: False)


@pytest.fixture
def dense_auto_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dense auto, the default, finds the model installed (whether it is or not: tests give their own embedder)."""
    monkeypatch.delenv("PEARL_DENSE")
    monkeypatch.setattr("pearl.context._dense._auto_installed", lambda: True)


_TIKTOKEN: list[Path] = []


def _tiktoken_dir(factory: pytest.TempPathFactory) -> Path:
    if not _TIKTOKEN:
        _TIKTOKEN.append(factory.mktemp("tiktoken"))
    return _TIKTOKEN[0]


@pytest.fixture
def fake_llm() -> FakeLLM:
    """A scriptable fake model: `fake_llm.enqueue(...)` replies, read `fake_llm.history` (default reply "ok")."""
    return FakeLLM()


@pytest.fixture
def fake_server() -> Iterator[object]:
    """A fake OpenAI-compatible server on 127.0.0.1 (see tests/fakeserver.py)."""
    from fakeserver import FakeOpenAIServer

    with FakeOpenAIServer() as server:
        yield server


requires_shared_data = pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="../shared/data is not beside the checkout")


@pytest.fixture
def embedded_model_untouched(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if the embedded model is loaded or a question asked: a command must refuse before either."""
    from pearl._pearl import Pearl
    from pearl.llm import EmbeddedLLM

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the embedded model was loaded or asked")

    monkeypatch.setattr(EmbeddedLLM, "check", never)
    monkeypatch.setattr(Pearl, "ask", never)
