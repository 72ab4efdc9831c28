"""Messages that say what is wrong and where: a named settings file, a refused key, a long Retry-After,
a bad demonstration, and documents with no text in an evaluation set."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from fakeserver import FakeOpenAIServer, Reply
from typer.testing import CliRunner

from pearl import FakeLLM, Pearl
from pearl.cli import app
from pearl.config import Settings, for_caller, given_with, load_flag_settings, load_settings
from pearl.errors import ConfigError, DatasetError, LLMConnectionError, LLMRequestError, RateLimitError
from pearl.eval import load_dataset, run_eval
from pearl.llm import CompletionRequest, Message, OpenAICompatibleLLM
from pearl.planning import load_demos

runner = CliRunner()
REQUEST = CompletionRequest(messages=[Message(role="user", content="Who runs the ferry?")], max_tokens=8)
KEY = "sk-refused-0000000000"


# -- 1. a settings file named by PEARL_CONFIG must exist ------------------------------


def _refusal() -> str:
    with pytest.raises(ConfigError) as info:
        load_settings()
    return str(info.value)


def test_a_named_settings_file_that_is_missing_or_a_folder_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "no" / "such.toml"
    monkeypatch.setenv("PEARL_CONFIG", str(missing))
    assert _refusal() == (
        f"PEARL_CONFIG names {missing}, which does not exist; fix the path, or unset PEARL_CONFIG to use the "
        "default settings file"
    )
    result = runner.invoke(app, ["config"])
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1 and "PEARL_CONFIG" in result.stderr and str(missing) in result.stderr
    monkeypatch.setenv("PEARL_CONFIG", str(tmp_path))
    assert _refusal() == f"PEARL_CONFIG names {tmp_path}, a directory, not a settings file; name the TOML file itself"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PEARL_CONFIG", "typo.toml")  # relative: the message says where it was looked for
    assert _refusal().startswith(f"PEARL_CONFIG names typo.toml ({tmp_path / 'typo.toml'}), which does not exist")


def test_a_named_settings_file_that_cannot_be_read_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[pearl]\nmodel = "m"\n', encoding="utf-8")
    monkeypatch.setenv("PEARL_CONFIG", str(config))
    assert load_settings().model == "m"
    # Tests may run as root, who reads any file: the permission check is what is faked.
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != config)
    assert _refusal().startswith(f"PEARL_CONFIG names {config}, which cannot be read (no permission)")


def test_the_default_settings_file_may_be_absent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PEARL_CONFIG")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "empty"))
    settings = load_settings()
    assert settings.model is None and settings.sources["config_file"].startswith("not found")


# -- 2. a refused key: the hint names where the key came from -------------------------


def _refused(server: FakeOpenAIServer, status: int = 401, **explicit: object) -> str:
    server.set_default(Reply.error(status, "Incorrect API key provided"))
    llm = OpenAICompatibleLLM(load_settings(base_url=server.base_url, model="m", **explicit))
    with pytest.raises(LLMRequestError) as info:
        llm.complete(REQUEST)
    return str(info.value)


def test_a_base_url_ending_in_chat_completions_is_named(fake_server: FakeOpenAIServer) -> None:
    fake_server.set_default(Reply.error(404, "Not Found"))
    llm = OpenAICompatibleLLM(load_settings(base_url=f"{fake_server.base_url}/chat/completions", model="m"))
    with pytest.raises(LLMRequestError) as info:
        llm.complete(REQUEST)
    assert "the base URL from base_url= ends in /chat/completions, which pearl adds itself; give it without (e.g. " in (
        str(info.value)
    )
    assert str(info.value).endswith(f"{fake_server.base_url})")


def test_a_404_names_where_the_base_url_and_model_were_set(
    fake_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = _refused(fake_server, status=404)  # both given to load_settings
    assert "check base_url= (it usually ends in /v1)" in message and "model 'm' (model=)" in message
    monkeypatch.setenv("PEARL_BASE_URL", fake_server.base_url)
    monkeypatch.setenv("PEARL_MODEL", "m")
    fake_server.set_default(Reply.error(404, "no such model"))
    with pytest.raises(LLMRequestError) as info:
        OpenAICompatibleLLM(load_settings()).complete(REQUEST)
    assert "check PEARL_BASE_URL (it usually" in str(info.value) and "(PEARL_MODEL)" in str(info.value)


def test_a_key_refused_from_the_argument_does_not_advise_passing_it(fake_server: FakeOpenAIServer) -> None:
    message = _refused(fake_server, api_key=KEY)
    assert "refused the API key from api_key= (401: Incorrect API key provided)" in message
    assert "pass --api-key" not in message and KEY not in message


def test_a_library_caller_is_told_the_keyword_not_a_commands_flag(fake_server: FakeOpenAIServer) -> None:
    # load_settings(api_key=...) called from Python: "refused the API key from --api-key ... check the key passed with
    # --api-key" and "is --base-url right?" named options a Python caller has no way to pass.
    message = _refused(fake_server, api_key=KEY)
    assert "from api_key= (401: Incorrect API key provided): check the key passed as api_key= (it overrides" in message
    assert "--api-key" not in message
    refused = OpenAICompatibleLLM(load_settings(base_url="http://127.0.0.1:9/v1", model="m", max_retries=0))
    with pytest.raises(LLMConnectionError, match=r"is the server running, and is base_url= right\?$"):
        refused.complete(REQUEST)
    with pytest.raises(ConfigError, match=r"^invalid settings: timeout \(timeout=\): Input should be greater than 0$"):
        load_settings(timeout=0)


def test_cli_errors_name_the_flags_as_typed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A command's flags reach the settings through load_flag_settings: its messages name them, not the keywords.
    story = tmp_path / "story.txt"
    story.write_text("Mira runs the ferry.", encoding="utf-8")
    argv = [
        "ask",
        str(story),
        "Who?",
        "-m",
        "direct",
        "--model",
        "m",
        "--no-cache",
        "--base-url",
        "http://127.0.0.1:9/v1",
    ]
    result = runner.invoke(app, [*argv, "--timeout", "0"])
    assert result.exit_code == 2
    assert result.stderr == "error: invalid settings: timeout (--timeout): Input should be greater than 0\n"
    monkeypatch.setenv("PEARL_MAX_RETRIES", "0")
    result = runner.invoke(app, argv)
    assert result.exit_code != 0 and "is the server running, and is --base-url right?" in result.stderr


@pytest.mark.parametrize(
    ("variable", "names"),
    [
        ("PEARL_API_KEY", "from PEARL_API_KEY (401: Incorrect API key provided): set PEARL_API_KEY to a key"),
        ("OPENAI_API_KEY", "from OPENAI_API_KEY (401: Incorrect API key provided): it may be for another server"),
    ],
)
def test_a_key_refused_from_the_environment_names_the_variable(
    fake_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch, variable: str, names: str
) -> None:
    monkeypatch.setenv(variable, KEY)
    message = _refused(fake_server)
    assert names in message and KEY not in message
    # From Python, the other way to give a key is the keyword: "or pass --api-key" named an option no caller has.
    assert "pass one with api_key=" in message or "pass that key with api_key=" in message
    assert "--api-key" not in message


@pytest.mark.parametrize(
    ("variable", "fix"),
    [
        ("PEARL_API_KEY", "set PEARL_API_KEY to a key this server accepts, or pass one with --api-key, which"),
        ("OPENAI_API_KEY", "set PEARL_API_KEY to this server's key (it wins over OPENAI_API_KEY), or pass that key "),
    ],
)
def test_cli_a_key_refused_from_the_environment_names_the_variable_and_the_flag(
    fake_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, variable: str, fix: str
) -> None:
    fake_server.set_default(Reply.error(401, "bad key"))
    monkeypatch.setenv(variable, KEY)
    story = tmp_path / "story.txt"
    story.write_text("Mira runs the ferry.", encoding="utf-8")
    argv = ["ask", str(story), "Who?", "-m", "direct", "--base-url", fake_server.base_url, "--model", "m"]
    result = runner.invoke(app, argv)
    assert result.exit_code == 2, result.output
    assert f"refused the API key from {variable} (401: bad key): " in result.stderr and fix in result.stderr
    assert "api_key=" not in result.stderr and KEY not in result.stderr


def test_a_key_refused_from_the_config_file_names_the_file(fake_server: FakeOpenAIServer, _isolated_home: Path) -> None:
    config = _isolated_home / "config.toml"
    config.write_text(f'[pearl]\napi_key = "{KEY}"\n', encoding="utf-8")
    message = _refused(fake_server, status=403)
    assert f"from api_key in {config} (403: Incorrect API key provided): fix it there" in message
    assert "may not use model 'm'" in message  # a 403 may be a known key without access to the model


def test_a_request_refused_without_a_key_says_how_to_give_one(
    fake_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = _refused(fake_server)
    assert "refused the request without an API key (401" in message
    assert message.endswith("set PEARL_API_KEY (or OPENAI_API_KEY) or pass api_key=") and "--api-key" not in message
    # An empty --api-key sends no key whatever PEARL_API_KEY holds: "set PEARL_API_KEY" was no fix.
    monkeypatch.setenv("PEARL_API_KEY", KEY)
    message = _refused(fake_server, api_key="")
    assert "without an API key (401: Incorrect API key provided): api_key= was given empty, which sends none" in message


def test_a_reply_that_quotes_the_api_key_has_it_taken_out(fake_server: FakeOpenAIServer) -> None:
    # A server echoing the request's Authorization header in its reply had the key kept in the answer, the trace, the
    # page and the response cache (helper-160).
    fake_server.set_default(lambda request: f"debug: Authorization: Bearer {KEY}; answer: Mira")
    llm = OpenAICompatibleLLM(load_settings(base_url=fake_server.base_url, model="m", api_key=KEY))
    completion = llm.complete(REQUEST)
    assert KEY not in completion.text and completion.text == "debug: Authorization: Bearer ***; answer: Mira"
    assert "the reply quoted the API key: taken out, shown as ***" in completion.notes
    # A short key is a word as often as a key: "ollama" or "none" was taken out of the answer's own words (helper-163).
    fake_server.set_default(lambda request: "None of the options; the ollama note says none.")
    for short in ("ollama", "none"):
        llm = OpenAICompatibleLLM(load_settings(base_url=fake_server.base_url, model="m", api_key=short))
        assert llm.complete(REQUEST).text == "None of the options; the ollama note says none."


def test_settings_made_in_code_that_miss_a_key_set_in_the_environment_say_so(
    fake_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `Settings(...)` reads no environment: "set PEARL_API_KEY" was the advice with PEARL_API_KEY set.
    fake_server.set_default(Reply.error(401, "no key"))
    monkeypatch.setenv("PEARL_API_KEY", KEY)
    llm = OpenAICompatibleLLM(Settings(base_url=fake_server.base_url, model="m"))
    with pytest.raises(LLMRequestError) as info:
        llm.complete(REQUEST)
    assert str(info.value).endswith(
        "without an API key (401: no key): PEARL_API_KEY is set, but these settings were made as Settings(...), which "
        "reads neither the environment nor the config file; make them with load_settings(...) to use it, or pass "
        "api_key="
    )
    assert KEY not in str(info.value)


def test_cli_a_request_refused_without_a_key_names_the_flag(fake_server: FakeOpenAIServer, tmp_path: Path) -> None:
    fake_server.set_default(Reply.error(401, "no key"))
    story = tmp_path / "story.txt"
    story.write_text("Mira runs the ferry.", encoding="utf-8")
    argv = ["ask", str(story), "Who?", "-m", "direct", "--base-url", fake_server.base_url, "--model", "m"]
    result = runner.invoke(app, argv)
    assert result.exit_code == 2, result.output
    assert result.stderr.rstrip().endswith(
        "refused the request without an API key (401: no key): set PEARL_API_KEY (or OPENAI_API_KEY) or pass --api-key"
    )


def test_settings_made_in_code_name_both_ways_to_give_a_key() -> None:
    coded = Settings(base_url="http://127.0.0.1:9/v1", model="m")  # no sources: the caller is unknown
    assert given_with(coded, "api_key") == "--api-key (api_key= in Python)"
    assert given_with(load_settings(), "api_key") == "api_key="
    assert given_with(load_flag_settings(), "api_key") == "--api-key"
    assert given_with(load_flag_settings(), "concurrency") == "PEARL_CONCURRENCY"  # no command takes it as a flag
    assert given_with(load_settings(), "concurrency") == given_with(coded, "concurrency") == "concurrency="


def test_what_to_do_is_said_in_the_callers_terms() -> None:
    coded = Settings(base_url="http://127.0.0.1:9/v1", model="m")
    assert for_caller(load_flag_settings(), "run it again", "call it again") == "run it again"
    assert for_caller(load_settings(), "run it again", "call it again") == "call it again"
    assert for_caller(coded, "run it again", "call it again") == "run it again (from Python, call it again)"


def test_cli_a_refused_api_key_option_is_named(fake_server: FakeOpenAIServer, tmp_path: Path) -> None:
    fake_server.set_default(Reply.error(401, "bad key"))
    story = tmp_path / "story.txt"
    story.write_text("Mira runs the ferry. She lives on the island.", encoding="utf-8")
    argv = ["ask", str(story), "Who?", "-m", "direct", "--base-url", fake_server.base_url, "--model", "m"]
    result = runner.invoke(app, [*argv, "--api-key", KEY])
    assert result.exit_code == 2, result.output
    assert "the API key from --api-key (401: bad key)" in result.stderr and "pass --api-key" not in result.stderr


# -- 3. a Retry-After over the limit names the setting --------------------------------


def test_a_retry_after_over_the_limit_names_retry_max_delay(
    fake_server: FakeOpenAIServer, _isolated_home: Path
) -> None:
    fake_server.set_default(Reply.rate_limited(retry_after=600))
    llm = OpenAICompatibleLLM(load_settings(base_url=fake_server.base_url, model="m"))
    with pytest.raises(RateLimitError) as info:
        llm.complete(REQUEST)
    config = _isolated_home / "config.toml"
    assert (
        f"over the 60s limit of retry_max_delay (default); to wait that long, set retry_max_delay = 600 in the "
        f"[pearl] table of {config}"
    ) in str(info.value)
    assert len(fake_server.requests) == 1
    config.write_text("[pearl]\nretry_max_delay = 30\n", encoding="utf-8")
    llm = OpenAICompatibleLLM(load_settings(base_url=fake_server.base_url, model="m"))
    with pytest.raises(RateLimitError) as info:
        llm.complete(REQUEST)
    assert f"over the 30s limit of retry_max_delay (file {config}); to wait that long, set" in str(info.value)
    fake_server.set_default(Reply.rate_limited(retry_after=3 * 86_400))  # a quota's reset: no setting to offer
    with pytest.raises(RateLimitError) as info:
        llm.complete(REQUEST)
    assert "(server asked to wait over a day, beyond the 30s limit of retry_max_delay" in str(info.value)
    assert "try again later" in str(info.value) and "set retry_max_delay" not in str(info.value)
    fake_server.set_default(Reply.rate_limited(retry_after=1e15))  # was written out in 16 digits (1e308 in 309)
    with pytest.raises(RateLimitError, match=r"\(server asked to wait over a day, beyond the 30s limit"):
        llm.complete(REQUEST)
    for setting in ("retry_max_delay", "retry_base_delay"):  # 1e300 waited for ever; a day is the most
        config.write_text(f"[pearl]\n{setting} = 1e300\n", encoding="utf-8")
        with pytest.raises(ConfigError, match=f"{setting} .*: Input should be less than or equal to 86400"):
            load_settings(base_url=fake_server.base_url, model="m")


# -- 4. a demonstration that fails validation: file, entry and field ------------------


def test_a_bad_demonstration_in_a_store_names_the_file_entry_and_field(tmp_path: Path) -> None:
    store = tmp_path / "demos.json"
    demos = [{"question": "Who?", "plan": 's = ANSWER(CTX, "Who?")'}, {"question": "Why?"}]
    store.write_text(json.dumps({"name": "d", "version": "1", "demos": demos}), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_demos(store)
    message = str(info.value)
    assert message == f"{store}: not a demonstration store: demonstration 2 (demos[1]) field plan: Field required"


def test_a_bad_demonstration_line_names_the_line_entry_and_field(tmp_path: Path) -> None:
    lines = tmp_path / "demos.jsonl"
    good = json.dumps({"question": "Who?", "plan": 's = ANSWER(CTX, "Who?")'})
    lines.write_text(f"{good}\n\n{json.dumps({'question': 'Why?', 'plan': 5})}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_demos(lines)
    message = str(info.value)
    assert message == (f"{lines}:3: not a valid demonstration 2: field plan: Input should be a valid string (got 5)"), (
        message
    )
    assert "\n" not in message


# -- 5. eval: a document with no text is bad input, skipped and named ------------------


def _dataset(folder: Path) -> Path:
    rows = [
        {"id": "d1", "text": "Mira runs the ferry to Tr'en. She lives on the island.",
         "questions": [{"id": "q1", "question": "Who runs the ferry?", "answer": "Mira"}]},
        {"id": "d2", "text": "", "questions": [{"id": "q2", "question": "Who?", "answer": "x"}]},
        {"id": "d3", "text": " \n ", "questions": [{"id": "q3", "question": "What?", "answer": "y"}]},
    ]  # fmt: skip
    path = folder / "data.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_eval_skips_questions_whose_document_has_no_text(tmp_path: Path) -> None:
    dataset = load_dataset(_dataset(tmp_path))
    pearl = Pearl(llm=FakeLLM(default="Mira"), settings=load_settings(cache=False))
    out = tmp_path / "run"
    summary = run_eval(pearl, dataset, ["direct", "rag"], out)
    assert summary.skipped == ["q2", "q3"] and summary.questions == 1
    assert [(m.method, m.n, m.errors) for m in summary.methods] == [("direct", 1, 0), ("rag", 1, 0)]
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {r["id"] for r in rows} == {"q1"}  # never asked: not a model error to retry
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "Skipped 2 questions whose document has no text" in report and "`q2`, `q3`" in report
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["skipped"] == ["q2", "q3"]
    page = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="skipped">Skipped 2 questions whose document has no text' in page
    assert "<code>q2</code>, <code>q3</code>." in page


def test_eval_skips_questions_that_cannot_be_asked_and_documents_of_markup_alone(
    tmp_path: Path, fake_server: FakeOpenAIServer, caplog: pytest.LogCaptureFixture
) -> None:
    # An option twice, an empty option, a page of markup that shows nothing: each was an error row per method, and
    # the run said to add --retry-errors, which failed them the same way.
    rows = [
        {"id": "d1", "text": "Mira runs the ferry to Tr'en. She lives on the island.", "questions": [
            {"id": "q1", "question": "Who runs the ferry?", "answer": "Mira"},
            {"id": "q2", "question": "Who runs it?", "options": ["Mira", "mira ", "Jon", "Kay"], "answer": "A"},
            {"id": "q3", "question": "Who?", "options": ["Mira", "", "Jon", "Kay"], "answer": "A"}]},
        {"id": "d2", "text": "<html><body><div></div></body></html>",
         "questions": [{"id": "q4", "question": "What?", "answer": "y"}]},
    ]  # fmt: skip
    data = tmp_path / "data.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    fake_server.set_default("Mira")
    out = tmp_path / "run"
    argv = ["eval", str(data), "-m", "direct,rag", "--out", str(out)]
    result = runner.invoke(app, [*argv, "--base-url", fake_server.base_url, "--model", "m"])
    assert result.exit_code == 0, result.output
    assert "--retry-errors" not in result.stderr and "failed" not in result.stderr
    assert "skipping 2 questions that cannot be asked as given: q2 (options A and B are the same" in caplog.text
    assert "q3 (option B is empty" in caplog.text
    assert "skipping 1 question whose document has no text (documents d2): q4" in caplog.text
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["skipped"] == ["q2", "q3", "q4"] and summary["questions"] == 1
    assert set(summary["skipped_why"]) == {"q2", "q3"} and summary["skipped_why"]["q3"].startswith("option B is empty")
    assert {json.loads(line)["id"] for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()} == {
        "q1"
    }
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "Skipped 1 question whose document has no text" in report and "`q4`" in report
    assert "Skipped 2 questions that cannot be asked as given" in report and "`q3` (option B is empty" in report
    page = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="skipped">Skipped 1 question whose document has no text' in page
    assert 'id="unaskable">Skipped 2 questions that cannot be asked as given' in page
    assert "<code>q2</code> (options A and B are the same (&#39;mira&#39;)" in page


def test_eval_with_only_textless_documents_is_a_dataset_error(tmp_path: Path) -> None:
    dataset = load_dataset(_dataset(tmp_path))
    empty = dataset.model_copy(update={"questions": [q for q in dataset.questions if q.id != "q1"]})
    pearl = Pearl(llm=FakeLLM(), settings=load_settings(cache=False))
    with pytest.raises(DatasetError, match=r"no question to run: .* has no text \(d2, d3\)"):
        run_eval(pearl, empty, ["direct"], tmp_path / "run")


def test_cli_eval_does_not_advise_retry_errors_for_textless_documents(
    tmp_path: Path, fake_server: FakeOpenAIServer, caplog: pytest.LogCaptureFixture
) -> None:
    fake_server.set_default("Mira")
    argv = ["eval", str(_dataset(tmp_path)), "-m", "direct,rag", "--out", str(tmp_path / "run")]
    result = runner.invoke(app, [*argv, "--base-url", fake_server.base_url, "--model", "m"])
    assert result.exit_code == 0, result.output
    assert "--retry-errors" not in result.stderr and "failed" not in result.stderr
    assert "skipping 2 questions whose document has no text (documents d2, d3): q2, q3" in caplog.text
    assert "Skipped 2 questions" in result.stdout


def test_config_names_the_embedded_models_file_and_what_is_wrong_with_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PEARL_EMBEDDED_MODEL pointing at no file was not shown; the first question failed on it (helper-180).
    monkeypatch.setenv("PEARL_EMBEDDED_MODEL", str(tmp_path / "missing.gguf"))
    result = runner.invoke(app, ["config"])
    assert result.exit_code == 0, result.output
    line = next(line for line in result.stdout.splitlines() if line.startswith("embedded_model"))
    assert "(none)" in line and f"PEARL_EMBEDDED_MODEL={tmp_path / 'missing.gguf'}: no such file" in line
    model = tmp_path / "own.gguf"
    model.write_bytes(b"GGUF")
    monkeypatch.setenv("PEARL_EMBEDDED_MODEL", str(model))
    line = next(line for line in runner.invoke(app, ["config"]).stdout.splitlines() if line.startswith("embedded_"))
    assert str(model) in line and line.endswith("PEARL_EMBEDDED_MODEL")
    model.write_text("not a model")  # any file was shown as a fine model (helper-185)
    line = next(line for line in runner.invoke(app, ["config"]).stdout.splitlines() if line.startswith("embedded_"))
    assert line.endswith("PEARL_EMBEDDED_MODEL: not a GGUF model file")
    # --json says the same: it gave the settings alone, and a script checking a machine found nothing wrong.
    shown = json.loads(runner.invoke(app, ["config", "--json"]).stdout)
    assert (shown["embedded_model"], shown["embedded_model_source"]) == (str(model), "PEARL_EMBEDDED_MODEL")
    assert shown["embedded_model_problem"] == "not a GGUF model file"
    monkeypatch.setenv("PEARL_EMBEDDED_MODEL", str(tmp_path / "missing.gguf"))
    shown = json.loads(runner.invoke(app, ["config", "--json"]).stdout)
    assert shown["embedded_model"] is None and shown["embedded_model_problem"].endswith("missing.gguf: no such file")
    # A server named: no embedded model in use, none shown.
    served = runner.invoke(app, ["config", "--base-url", "http://127.0.0.1:9/v1", "--model", "m"])
    assert "embedded_model" not in served.stdout
    served = runner.invoke(app, ["config", "--json", "--base-url", "http://127.0.0.1:9/v1", "--model", "m"])
    assert "embedded_model" not in json.loads(served.stdout)
