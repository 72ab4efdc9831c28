"""Settings precedence: explicit argument > environment > config file > default."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args, get_type_hints

import pytest

from pearl.config import Settings, SettingsArgs, load_flag_settings, load_settings
from pearl.errors import ConfigError


def write_config(home: Path, text: str) -> None:
    (home / "config.toml").write_text(text, encoding="utf-8")


def test_defaults_use_the_embedded_model() -> None:
    settings = load_settings()
    assert settings.backend == "embedded" and settings.cache is True


def test_precedence(_isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(_isolated_home, '[pearl]\nbase_url = "http://file/v1"\nmodel = "file-model"\ntimeout = 5\n')
    settings = load_settings()
    assert (settings.base_url, settings.model, settings.timeout) == ("http://file/v1", "file-model", 5)
    assert settings.sources["model"].startswith("file ")
    monkeypatch.setenv("PEARL_MODEL", "env-model")
    settings = load_settings()
    assert settings.model == "env-model" and settings.sources["model"] == "env PEARL_MODEL"
    assert settings.base_url == "http://file/v1"
    settings = load_settings(model="arg-model")
    assert settings.model == "arg-model" and settings.sources["model"] == "argument"
    assert settings.backend == "openai"


def test_openai_api_key_is_a_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-0000000000")
    assert load_settings().sources["api_key"] == "env OPENAI_API_KEY"
    monkeypatch.setenv("PEARL_API_KEY", "sk-pearl-00000000000")
    settings = load_settings()
    assert settings.api_key is not None and settings.api_key.get_secret_value() == "sk-pearl-00000000000"
    assert "sk-pearl-00000000000" not in str(settings.shown())


def test_openai_api_key_gives_way_to_the_settings_files_key(
    _isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An OPENAI_API_KEY exported for OpenAI's tools beat the file's key, and went to the local server the file names.
    write_config(_isolated_home, '[pearl]\nbase_url = "http://127.0.0.1:8815/v1"\napi_key = "sk-localkey-00000"\n')
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-0000000000")
    settings = load_settings()
    assert settings.api_key is not None and settings.api_key.get_secret_value() == "sk-localkey-00000"
    assert settings.sources["api_key"].startswith("file ")
    monkeypatch.setenv("PEARL_API_KEY", "sk-pearl-00000000000")  # pearl's own variable still beats the file
    assert load_settings().sources["api_key"] == "env PEARL_API_KEY"


@pytest.mark.parametrize("key", ["sk-\u00e9123", "\u201csk-abc123\u201d", "sk-abc 123", "sk-a\x01bc"])
def test_a_key_no_http_header_can_carry_is_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    monkeypatch.setenv("PEARL_API_KEY", key)
    with pytest.raises(ConfigError, match=r"api_key \(env PEARL_API_KEY\): it holds") as info:
        load_settings()
    assert "sk-" not in str(info.value)  # the message locates the character, never shows the key


def test_a_pasted_keys_surrounding_white_space_is_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEARL_API_KEY", "  sk-abc123\n")
    settings = load_settings()
    assert settings.api_key is not None and settings.api_key.get_secret_value() == "sk-abc123"
    monkeypatch.setenv("PEARL_API_KEY", " ")  # white space alone is no key, as an empty variable is none
    assert load_settings().api_key is None


def test_planning_budget_is_the_papers_and_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    assert (settings.plan_attempts, settings.max_steps) == (8, 8)  # the paper's re-prompts; its plans: 2-7 steps
    monkeypatch.setenv("PEARL_PLAN_ATTEMPTS", "3")
    monkeypatch.setenv("PEARL_MAX_STEPS", "5")
    assert (load_settings().plan_attempts, load_settings().max_steps) == (3, 5)
    assert load_settings(plan_attempts=2).plan_attempts == 2


def test_cache_env_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEARL_CACHE", "0")
    assert load_settings().cache is False
    monkeypatch.setenv("PEARL_CACHE", " ON ")
    assert load_settings().cache is True


@pytest.mark.parametrize("name", ["PEARL_CACHE", "PEARL_GRAMMAR", "PEARL_JSON_SCHEMA"])
def test_an_unknown_yes_or_no_is_refused(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv(name, "maybe")  # was taken as on
    with pytest.raises(ConfigError, match=f"{name}='maybe': not a yes or no; use 1 or 0"):
        load_settings()


def test_malformed_values_are_config_errors(_isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEARL_TIMEOUT", "soon")
    with pytest.raises(ConfigError, match="timeout.*env PEARL_TIMEOUT"):
        load_settings()
    monkeypatch.delenv("PEARL_TIMEOUT")
    write_config(_isolated_home, "not toml [")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings()
    write_config(_isolated_home, "[pearl]\nmodle = 'x'\nflavour = 1\n")
    with pytest.raises(ConfigError, match=r"unknown setting\(s\) flavour, modle \(did you mean model\?\); known: "):
        load_settings()  # the name meant, where one is close (helper-227: "context_windw" had 21 names to search)


def test_settings_written_above_the_pearl_table_are_refused_naming_them(_isolated_home: Path) -> None:
    # Read as outside the table and dropped in silence: the file's base URL and key unread, the embedded model ran.
    write_config(
        _isolated_home,
        'base_url = "http://127.0.0.1:8780/v1"\napi_key = "sk-file-1234567890"\n\n[pearl]\nmodel = "m"\n',
    )
    with pytest.raises(ConfigError) as raised:
        load_settings()
    said = str(raised.value)
    assert said.endswith(
        ": api_key, base_url are written above the [pearl] table, outside it, where pearl does not "
        "read them; move them under [pearl]"
    )
    assert "sk-file" not in said
    write_config(_isolated_home, 'model = "m"\n[pearl]\ntimeout = 5\n')
    with pytest.raises(ConfigError, match=r"model is written above the \[pearl\] table, .* move it under \[pearl\]"):
        load_settings()
    # Without a [pearl] table the file's keys are the settings, and another tool's table beside [pearl] is let be.
    write_config(_isolated_home, 'base_url = "http://127.0.0.1:8780/v1"\nmodel = "m"\n')
    assert load_settings().model == "m"
    write_config(_isolated_home, '[pearl]\nmodel = "m"\nbase_url = "http://127.0.0.1:8780/v1"\n[other]\nx = 1\n')
    assert load_settings().model == "m"
    # nor an array of tables after it (helper-190: refused as "written above" it)
    write_config(_isolated_home, '[pearl]\nmodel = "m"\nbase_url = "http://127.0.0.1:8780/v1"\n[[servers]]\nx = 1\n')
    assert load_settings().model == "m"


def test_every_variable_the_package_reads_is_isolated_in_tests() -> None:
    # conftest clears the settings' own list; a name read anywhere else would leak the user's environment in.
    from conftest import USER_ENV

    package = Path(__file__).resolve().parents[1] / "pearl"
    read = {m for p in package.rglob("*.py") for m in re.findall(r"\b((?:PEARL|OPENAI)_[A-Z_]+)\b", p.read_text())}
    assert read and read <= set(USER_ENV), sorted(read - set(USER_ENV))


def test_step_share_is_a_share_above_0_and_at_most_1(monkeypatch: pytest.MonkeyPatch) -> None:
    from pearl.execution import AUTO_SHARE

    assert load_settings().step_share == AUTO_SHARE
    monkeypatch.setenv("PEARL_STEP_SHARE", " 0.3 ")
    assert load_settings().step_share == 0.3
    refused = [("0", "greater than 0"), ("1.5", "less than or equal to 1"), ("lots", "valid number")]
    # nan read "Input should be less than or equal to 1": it is no number at all.
    refused += [("nan", "a finite number"), ("-inf", "a finite number")]
    for word, message in refused:
        monkeypatch.setenv("PEARL_STEP_SHARE", word)
        with pytest.raises(ConfigError, match=rf"step_share \(env PEARL_STEP_SHARE\): .*{message}"):
            load_settings()
    with pytest.raises(ConfigError, match="not a yes or no"):
        Settings(step_share=True)  # type: ignore[arg-type]


def test_token_margin_is_a_share_from_0_to_one_half(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().token_margin == 0.2
    monkeypatch.setenv("PEARL_TOKEN_MARGIN", "0")
    assert load_settings().token_margin == 0
    for word, message in [("-0.1", "greater than or equal to 0"), ("0.8", "less than or equal to 0.5")]:
        monkeypatch.setenv("PEARL_TOKEN_MARGIN", word)
        with pytest.raises(ConfigError, match=rf"token_margin \(env PEARL_TOKEN_MARGIN\): .*{message}"):
            load_settings()


def test_every_number_refuses_a_yes_or_no(_isolated_home: Path) -> None:
    # pydantic takes True for 1: step_budget=True was a 1-token budget (a number is held to 50), which failed the
    # question after its planning call was paid for; timeout=True was one second.
    numbers = [
        name
        for name, field in Settings.model_fields.items()
        if {int, float} & set(get_args(field.annotation) or (field.annotation,))
    ]
    assert "step_budget" in numbers and "threads" in numbers and "cache" not in numbers
    for name in numbers:
        for value in (True, False):
            with pytest.raises(ConfigError, match=rf"invalid settings: {name}: must be .*not a yes or no"):
                Settings(**{name: value})
            with pytest.raises(ConfigError, match=rf"{name} \(.*{name}=\): must be .*not a yes or no"):
                load_settings(**{name: value})  # type: ignore[misc]
    write_config(_isolated_home, "[pearl]\nstep_budget = true\n")
    with pytest.raises(ConfigError, match=r"step_budget \(file .*\): must be auto or a number of tokens .*\(true\)"):
        load_settings()


def test_step_budget_reads_auto_in_any_case_and_refuses_other_words(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEARL_STEP_BUDGET", " AUTO ")
    assert load_settings().step_budget == "auto"
    monkeypatch.setenv("PEARL_STEP_BUDGET", "600")
    assert load_settings().step_budget == 600
    monkeypatch.setenv("PEARL_STEP_BUDGET", "lots")
    with pytest.raises(ConfigError, match=r"step_budget .*must be auto or a number of tokens .*'lots'") as raised:
        load_settings()
    assert "literal" not in str(raised.value) and "valid integer" not in str(raised.value)


@pytest.mark.parametrize(
    ("word", "expected"), [(" Auto ", "auto"), ("1", True), ("on", True), ("YES", True), ("0", False), ("off", False)]
)
def test_dense_reads_auto_on_or_off(monkeypatch: pytest.MonkeyPatch, word: str, expected: object) -> None:
    monkeypatch.delenv("PEARL_DENSE")  # the tests' own 0 (conftest)
    assert load_settings().dense == "auto"  # the default: on where the model is installed
    monkeypatch.setenv("PEARL_DENSE", word)
    assert load_settings().dense == expected


def test_settings_made_directly_refuse_bad_values_with_a_config_error() -> None:
    # pydantic's ValidationError escaped `except PearlError`; a base URL's trailing slash was kept (load_settings
    # strips it).
    for values, said in (
        ({"base_url": "localhost:8000"}, "invalid settings: base_url: it must start with http://"),
        # Called as ".../v1?key=K/chat/completions", a 404, and the key shown in the error, trace and page (helper-160).
        ({"base_url": "http://x/v1?key=K"}, "invalid settings: base_url: it has a query string or a fragment"),
        ({"base_url": "http://x/v1#top"}, "invalid settings: base_url: it has a query string or a fragment"),
        ({"base_url": "http://x/v1?"}, "invalid settings: base_url: it has a query string or a fragment"),
        ({"timeout": 0}, "invalid settings: timeout: Input should be greater than 0"),
        ({"colour": "blue"}, "invalid settings: colour: Extra inputs are not permitted"),
    ):
        with pytest.raises(ConfigError, match=said):
            Settings(**values)  # type: ignore[arg-type]
    assert (
        Settings(base_url="http://x/v1/").base_url == "http://x/v1" == load_settings(base_url="http://x/v1/").base_url
    )
    # Given to load_settings, the value is named by its keyword; given as a command's flag, by the flag ("timeout
    # (argument)" named neither; "--timeout / timeout=" named a flag to a Python caller).
    with pytest.raises(ConfigError, match=r"invalid settings: timeout \(timeout=\): Input should be"):
        load_settings(timeout=0)
    with pytest.raises(ConfigError, match=r"invalid settings: timeout \(--timeout\): Input should be"):
        load_flag_settings(timeout=0)
    with pytest.raises(ConfigError, match=r"max_steps \(max_steps=\): "):  # no command takes a --max-steps
        load_settings(max_steps=0)
    with pytest.raises(TypeError, match="no command takes max_steps as a flag"):
        load_flag_settings(max_steps=0)


def test_dense_refuses_other_words(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEARL_DENSE", "maybe")
    with pytest.raises(ConfigError, match=r"dense \(env PEARL_DENSE\): must be auto, on .* or off .*'maybe'") as raised:
        load_settings()
    assert "literal" not in str(raised.value) and "valid boolean" not in str(raised.value)
    for value in (2, 0.5, None, [True]):
        with pytest.raises(ConfigError, match=r"must be auto, on .* or off") as refused:
            Settings(dense=value)  # type: ignore[arg-type]
        assert "literal" not in str(refused.value)
    assert Settings(dense=1).dense is True and Settings(dense=0).dense is False  # type: ignore[arg-type]


def test_load_settings_names_every_setting_for_type_checkers() -> None:
    # Typed `**Any`, a misspelt setting or a value of the wrong type passed every type checker.
    assert set(get_type_hints(SettingsArgs)) == set(Settings.model_fields) - {"sources"}


def test_a_library_caller_is_told_the_keyword_as_well_as_the_option() -> None:
    # From Python, "pass --model or set PEARL_MODEL" named an option the caller has no way to pass.
    from pearl.llm import make_llm

    with pytest.raises(ConfigError, match=r"pass --model \(model= in Python\) or set PEARL_MODEL"):
        make_llm(Settings(base_url="http://127.0.0.1:9/v1"))


def test_the_embedded_model_is_held_to_a_timeout_only_when_one_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    # --timeout / PEARL_TIMEOUT / timeout= were silently ignored by the embedded model; its default (sized for a
    # server's round trip) is not imposed on it, since a busy machine's demonstration model answers, only later.
    from pearl.llm import EmbeddedLLM, make_llm

    def held_to(settings: Settings) -> float | None:
        llm = make_llm(settings)
        assert isinstance(llm, EmbeddedLLM)
        return llm._timeout

    assert held_to(Settings(cache=False)) is None and held_to(load_settings(cache=False)) is None
    assert held_to(Settings(cache=False, timeout=3)) == 3 and held_to(load_settings(cache=False, timeout=4)) == 4
    monkeypatch.setenv("PEARL_TIMEOUT", "5")
    assert held_to(load_settings(cache=False)) == 5


def test_a_copy_of_settings_with_other_values_checks_them() -> None:
    # pydantic's model_copy checks nothing: concurrency=0 made every question wait forever for a free slot, and
    # step_budget="lots" failed mid-question, after its first call was paid for (helper-205).
    settings = load_settings(base_url="http://127.0.0.1:9/v1", model="m", api_key="sk-abcdefghijklmnop123")
    for bad, said in (
        ({"concurrency": 0}, "concurrency: Input should be greater than or equal to 1"),
        ({"step_budget": "lots"}, "step_budget: must be auto or a number of tokens"),
        ({"max_retries": -1}, "max_retries"),
        ({"concurency": 2}, "concurency: Extra inputs are not permitted"),
    ):
        with pytest.raises(ConfigError, match=re.escape(said)):
            settings.model_copy(update=bad)
    copied = settings.model_copy(update={"concurrency": 3})
    assert copied.concurrency == 3 and copied.model_copy(update={"concurrency": settings.concurrency}) == settings
    assert copied.api_key is not None and copied.api_key.get_secret_value() == "sk-abcdefghijklmnop123"
    assert copied.sources == settings.sources and copied.base_url == settings.base_url
    # What was given stays what was given: every field marked set gave the embedded model a 120 s timeout.
    assert copied.model_fields_set == settings.model_fields_set | {"concurrency"}
    assert "timeout" not in load_settings().model_copy(update={"concurrency": 2}).model_fields_set
