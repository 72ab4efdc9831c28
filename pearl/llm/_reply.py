"""The one boundary every model reply crosses before pearl uses it.

A server (or llama.cpp) hands back a JSON object; `read_completion` turns it into a
`Completion` or refuses it, so nothing past this point meets a wrong type, a huge size or a
string Python cannot encode. What it decides, field by field:

- no `choices`, a choice that is not an object, no text content (or white space alone, from a
  server): `LLMResponseError` (retried);
  no text because the reply ran out of `max_tokens` (a reasoning model still thinking), or because the model
  wrote only its thinking (in `reasoning_content`, or in the text before a `</think>`):
  `LLMRequestError` (not retried: it would end the same way);
- the text: lone surrogates (a `\\ud800` escape) become U+FFFD, so it can be hashed, cached,
  printed and written; a text longer than the request allows (`reply_chars(max_tokens)`) is
  cut there and marked `finish_reason="length"`, as if the server had honoured `max_tokens`;
- `usage` and its token counts: a count not reported, or as anything but a whole number from 0 to
  a billion (a string, a list, `1e400`, a negative count), is counted here with cl100k (the prompt
  as sent, the reply's text): an estimate, noted; a reply refused for holding no answer carries what it
  was billed on its error (`LLMError.prompt_tokens`), when its usage says or it cannot be retried;
- `finish_reason` and `model`: a string, cut to a sane length; anything else is dropped;
- a reply that ran out of `max_tokens` repeating itself (a small model at temperature 0 writes one
  sentence until the limit) is cut before the first sentence it writes a second time: the
  copies say nothing, and passed on they would crowd the next prompt.

Every replacement is written into `Completion.notes` (and so into the trace): estimated costs
must not pass for reported ones unnoticed.

Server text quoted in an error goes through a `Redactor` first, the one place secrets are
taken out of what a server sent back (a server may echo the Authorization header).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from pearl._replies import after_thinking
from pearl.errors import BlankReplyError, LLMError, LLMRequestError, LLMResponseError
from pearl.models import Completion, CompletionRequest
from pearl.tokens import count_tokens

__all__ = [
    "FAILED_BILLED_NOTE",
    "LOOP_NOTE",
    "MAX_BODY_CHARS",
    "RETRIED_NOTE",
    "Redactor",
    "cached_tokens",
    "cut_at_limit",
    "cut_loop",
    "failed_billed_note",
    "prompt_tokens",
    "read_completion",
    "reply_chars",
    "without_failed_attempts",
]

MAX_BODY_CHARS = 64 * 2**20
"""The largest response body read as JSON; anything bigger is not a chat completion."""
_CHARS_PER_TOKEN = 16  # no tokenizer averages more characters per token: a generous bound
_MIN_REPLY_CHARS = 4096
_MAX_COUNT = 10**9  # no single call uses a billion tokens
_MAX_LABEL = 64  # finish_reason
_MAX_MODEL = 200
_SURROGATE = re.compile("[\ud800-\udfff]")
_DIGITS = re.compile(r"[0-9]{1,10}")
_QUOTE_CHARS = 160
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
LOOP_NOTE = "the reply repeated itself until its length limit"
"""How `Completion.notes` says a reply was cut before its repetition (see `_cut_loop`)."""
_LOOP_WORDS = 5
"""A repeated sentence of fewer words is not taken for a loop ("Yes.", a list's "See above.")."""
_MIN_PERIOD = 16
_PERIOD_WINDOW = 1200
"""A loop without sentence ends is looked for in the reply's last characters, with a repeating stretch of
`_MIN_PERIOD` to a third of this many characters."""


def reply_chars(max_tokens: int) -> int:
    """The longest reply text accepted for a request of `max_tokens` tokens."""
    return max(_MIN_REPLY_CHARS, max_tokens * _CHARS_PER_TOKEN)


def _loop_note(kept: str, text: str) -> str:
    return f"{LOOP_NOTE}; cut before the repetition, at {len(kept):,} of {len(text):,} characters"


def cut_at_limit(completion: Completion) -> bool:
    """Whether `completion` stopped at its length limit with what it was writing cut there; not when only a repetition
    it ran into was cut (`cut_loop`): what came before the loop is what it wrote."""
    return completion.finish_reason == "length" and not any(note.startswith(LOOP_NOTE) for note in completion.notes)


def cut_loop(completion: Completion) -> Completion:
    """`completion` cut before the loop it ran into at its length limit, as `read_completion` cuts one.

    For replies kept from before pearl cut them (a response cache written by an older version):
    served as they came, they would show the model's loop again.
    """
    if completion.finish_reason != "length" or any(note.startswith(LOOP_NOTE) for note in completion.notes):
        return completion
    looped = _cut_loop(completion.text)
    if not looped:
        return completion
    notes = [*completion.notes, _loop_note(looped, completion.text)]
    return completion.model_copy(update={"text": looped, "notes": notes})


def _cut_loop(text: str) -> str | None:
    """`text` before the loop it ends in, if it ends in one; None if it does not.

    A loop is what a reply cut at its length limit ends with: after the first sentence (of at
    least `_LOOP_WORDS` words) it repeats, nothing but repeated sentences, two at least (the cut
    last one counted when it begins like one before it). A sentence said again and followed by
    new ones is kept ("Clause 3 ... Clause 4 ... Clause 3 ..., but Clause 9 ..."). A loop with no
    sentence ends ("the party shall pay the party shall pay ...") is found by `_cut_period`.
    """
    pieces: list[tuple[int, str]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        pieces.append((start, " ".join(text[start : match.start()].split())))
        start = match.end()
    last = " ".join(text[start:].split())  # where the length limit cut it
    seen: set[str] = set()
    loop_start: int | None = None
    repeats = 0
    short_seen: set[str] = set()
    gap: int | None = None  # where the run of short pieces before this one began
    for offset, sentence in pieces:
        if len(sentence.split()) < _LOOP_WORDS:
            if sentence in short_seen or not any(ch.isalpha() for ch in sentence):
                gap = offset if gap is None else gap
                continue  # a numbering ("2.") or a short sentence said before neither makes a loop nor ends one
            short_seen.add(sentence)
            loop_start, repeats, gap = None, 0, None  # a new heading ("Section 9.1.") is new text
            continue
        if sentence in seen:
            loop_start = (gap if gap is not None else offset) if loop_start is None else loop_start
            repeats += 1
        else:
            seen.add(sentence)
            loop_start, repeats = None, 0
        gap = None
    if loop_start is not None and last and any(s.startswith(last) for s in seen):
        repeats += 1
    if loop_start is not None and repeats >= 2:
        return text[:loop_start].rstrip()
    return _cut_period(text)


def _cut_period(text: str) -> str | None:
    """`text` with its end cut where it starts repeating a stretch of three words or more, at least three times."""
    tail = text[-_PERIOD_WINDOW:]
    for period in range(_MIN_PERIOD, len(tail) // 3 + 1):
        window = tail[-3 * period :]
        if window[period:] != window[:-period] or len(window[:period].split()) < 3:
            continue
        begin = len(text) - 3 * period
        while begin > 0 and text[begin - 1] == text[begin - 1 + period]:
            begin -= 1
        keep = text[: begin + period]
        space = keep.rfind(" ", begin)
        return (keep[:space] if space > begin else keep).rstrip()
    return None


def _plain(value: object) -> str:
    return str(value)[:_QUOTE_CHARS]


def _encodable(text: str) -> str:
    # A JSON "\ud800" escape decodes to a lone surrogate, which str.encode("utf-8") refuses:
    # the cache key, the trace file and the terminal would each fail on it later.
    return _SURROGATE.sub("\ufffd", text)


def _count(value: object) -> int | None:
    """A token count, or None when `value` is not a believable one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        number = int(value.strip())
    else:
        return None
    return number if 0 <= number <= _MAX_COUNT else None


RETRIED_NOTE = "retried after attempt "
"""How a completion's note on the attempts that failed before it begins: this call's history, not the reply's, so a
cached copy leaves it out."""
FAILED_BILLED_NOTE = "the attempts that failed before it were billed "
"""How a completion's note on the tokens billed for the attempts that failed before it begins (`failed_billed_note`):
they are in its usage (and in `Completion.retried_prompt_tokens` ...), since the call cost them; a cached copy leaves
them out (`without_failed_attempts`)."""


def failed_billed_note(prompt: int, completion: int, cached: int) -> str:
    """The note saying a completion's usage holds `prompt` (`cached` of them from the server's prefix cache) and
    `completion` tokens billed for attempts that failed before it (`FAILED_BILLED_NOTE`)."""
    return (
        f"{FAILED_BILLED_NOTE}{prompt:,} prompt tokens ({cached:,} of them from the server's cache) and "
        f"{completion:,} completion tokens, counted in this reply's usage"
    )


def without_failed_attempts(completion: Completion) -> Completion:
    """`completion` as its reply alone cost: without the tokens attempts that failed before it were billed
    (`Completion.retried_prompt_tokens` ..., and their note), which a request answered with the same reply later (from
    the cache, or sharing the call) did not pay for. Its other notes are kept."""
    if not (completion.retried_prompt_tokens or completion.retried_completion_tokens):
        return completion
    return completion.model_copy(
        update={
            "prompt_tokens": max(0, completion.prompt_tokens - completion.retried_prompt_tokens),
            "completion_tokens": max(0, completion.completion_tokens - completion.retried_completion_tokens),
            "cached_prompt_tokens": max(0, completion.cached_prompt_tokens - completion.retried_cached_prompt_tokens),
            "retried_prompt_tokens": 0,
            "retried_completion_tokens": 0,
            "retried_cached_prompt_tokens": 0,
            "notes": [note for note in completion.notes if not note.startswith(FAILED_BILLED_NOTE)],
        }
    )


def prompt_tokens(request: CompletionRequest) -> int:
    """The request's prompt tokens counted here (cl100k), as `FakeLLM` counts them: for a reply whose usage does not
    say."""
    return sum(count_tokens(message.content) for message in request.messages)


def _usage(
    body: dict[str, Any],
    notes: list[str],
    written: Callable[[], int],
    prompt: Callable[[], int] | None,
    sent_chars: int | None = None,
) -> tuple[int, int, int, bool]:
    """Prompt, completion and prefix-cached prompt tokens the reply reports, and whether any was counted here.

    A count the reply does not report, or not as one, is counted here (cl100k: the prompt by `prompt`, the reply by
    `written`) and noted as an estimate: a server that sends no usage must not make its calls look free.
    """
    usage = body.get("usage")
    if usage is not None and not isinstance(usage, dict):
        notes.append(f"usage is a {type(usage).__name__}, not an object")
    given = usage if isinstance(usage, dict) else {}
    counts: list[int] = []
    estimated: list[str] = []
    for key, counter in (("prompt_tokens", prompt or (lambda: 0)), ("completion_tokens", written)):
        value = given.get(key)
        number = _count(value) if value is not None else None
        if number is None and value is not None:
            notes.append(f"usage.{key} {_plain(value)[:40]!r} is not a token count")
        if number == 0 and (counter is written or prompt is not None) and counter() > 0:
            # A count of 0 for a prompt or a reply of text: a server that fills usage with zeros made every call look
            # free, and an evaluation's costs 0 without a word (helper-214).
            notes.append(f"usage.{key} is 0 for text of some length, which is no count")
            number = None
        if number is None:
            number = counter()
            estimated.append(key)
        counts.append(number)
    if estimated:
        notes.append(f"the reply reported no usable {' or '.join(estimated)}: counted here (cl100k), an estimate")
    cached, raw = _cached(given, counts[0])
    if cached is None:
        notes.append(f"usage.prompt_tokens_details.cached_tokens {_plain(raw)[:40]!r} is not believable; counted as 0")
        cached = 0
    cut_to = counts[0]
    if (
        "prompt_tokens" not in estimated
        and prompt is not None
        and sent_chars
        and sent_chars > 6 * cut_to + 600
        and any(0.85 * 2**k <= cut_to <= 2**k for k in range(9, 18))
    ):
        # Far fewer tokens than the characters sent could make (a token is 3-5 characters; a quick test first, the
        # count only then), and about a context length's worth (a power of two): the server cut the prompt without
        # a word, as Ollama does past its num_ctx. (A server that counts only the tokens its prefix cache did not
        # hold reports a count of any size.)
        sent = prompt()
        if sent > 1.5 * counts[0] + 100:
            notes.append(f"{SERVER_CUT_NOTE} ({counts[0]:,} of the ~{sent:,} sent): {SERVER_CUT_FIX}")
    return counts[0], counts[1], cached, bool(estimated)


def _cached(usage: dict[str, Any], prompt: int) -> tuple[int | None, object]:
    """The prefix-cached prompt tokens `usage` reports (0 when it reports none; None when its count is not a believable
    one, or over the `prompt` tokens counted), and the value it gave."""
    # OpenAI and vLLM report prefix-cache hits here; a count over the prompt's is not believed.
    details = usage.get("prompt_tokens_details")
    raw = details.get("cached_tokens") if isinstance(details, dict) else None
    cached = _count(raw) if raw is not None else 0
    return (None if cached is None or cached > prompt else cached), raw


def cached_tokens(body: object, prompt: int) -> int:
    """The prefix-cached prompt tokens a reply's usage reports, of the `prompt` tokens it was billed; 0 when it reports
    none believable. For a reply that failed: what `_usage` counts for one that did not."""
    usage = body.get("usage") if isinstance(body, dict) else None
    return (_cached(usage, prompt)[0] or 0) if isinstance(usage, dict) else 0


FILTERED_NOTE = (
    "the server's content filter cut the reply short (finish_reason content_filter); what came before is kept"
)
"""A reply's note when a content filter stopped it partway (Azure OpenAI sends the text written so far): it may lack
its end, as a reply cut at its length limit may."""
SERVER_CUT_NOTE = "the server read fewer prompt tokens than pearl sent"
"""Opens a reply's note when the server's count says it cut the prompt (`_usage`)."""
SERVER_CUT_FIX = (
    "it may have cut the prompt to its own context length (Ollama: num_ctx); raise that on the server, or set "
    "--context-window to it"
)


def _label(value: object, limit: int, what: str, notes: list[str]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        notes.append(f"{what} is a {type(value).__name__}, not a string; ignored")
        return None
    return _encodable(value[:limit]) or None


def _reasoning(message: object) -> tuple[str, str]:
    """The field in which a reply's message holds the model's thinking (vLLM and DeepSeek: `reasoning_content`;
    Ollama and OpenRouter: `reasoning`) and that thinking, or ("", "") when it holds none."""
    if isinstance(message, dict):
        for field in ("reasoning_content", "reasoning"):
            thought = message.get(field)
            if isinstance(thought, str) and thought.strip():
                return field, thought
    return "", ""


_E = TypeVar("_E", bound=LLMError)


def _billed(error: _E, body: dict[str, Any], prompt: Callable[[], int] | None, written: int = 0) -> _E:
    """`error`, for a reply that holds no answer, with the tokens the server billed for it (`LLMError.prompt_tokens`):
    a call that failed so costs what any call does, and a method that fails more must not look cheaper. Counted
    here (cl100k) where the reply does not say."""
    error.prompt_tokens, error.completion_tokens, _, _ = _usage(body, [], lambda: written, prompt)
    return error


def _retried_billed(
    error: LLMResponseError, body: dict[str, Any], prompt: Callable[[], int] | None
) -> LLMResponseError:
    """`error`, for a reply with no usable answer that is retried, with what the server billed for it when its usage
    says (`_billed`): the call that retries it pays for it too. A reply whose usage says nothing is not counted: a
    body without choices may come from a proxy, not from a model that read the prompt."""
    return _billed(error, body, prompt) if isinstance(body.get("usage"), dict) else error


def read_completion(
    body: object,
    *,
    source: str,
    max_tokens: int,
    model: str,
    backend: str,
    latency_s: float = 0.0,
    attempts: int = 1,
    quote: Callable[[object], str] = _plain,
    blank_is_error: bool = True,
    prompt_tokens: Callable[[], int] | None = None,
    sent_chars: int | None = None,
) -> Completion:
    """Check a chat-completion response object field by field and build the `Completion` from it.

    Args:
        body: the decoded response (OpenAI's `chat.completion` shape).
        source: who answered, for messages (a URL, "the embedded model").
        max_tokens: what the request allowed; a longer text is cut (see `reply_chars`).
        model: the model name to record when the reply names none.
        quote: renders server data for an error message (redacting secrets).
        blank_is_error: a text of white space alone is no text (a server's glitch, retried); the
            embedded model's own empty reply is its answer (a retry would write the same).
        prompt_tokens: counts the request's prompt tokens here, for a reply whose usage does not
            (otherwise such a prompt is counted as 0).
        sent_chars: the prompt's characters; a reported prompt count far below them is checked with
            `prompt_tokens` and noted (`SERVER_CUT_NOTE`).

    Raises:
        LLMResponseError: no choices, or no text in the first one (or only white space); with the tokens billed for
            it (`LLMError.prompt_tokens`) when its usage says.
        LLMRequestError: no text because the reply ran out of `max_tokens`, the model wrote only its thinking, the
            model refused (`message.refusal`) or a content filter blocked it (`finish_reason` "content_filter"): a
            retry would end the same way. With the tokens billed for it, counted here where its usage does not say.
    """
    if not isinstance(body, dict):
        raise LLMResponseError(f"{source} answered with JSON that is not an object: {quote(body)}")
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise _retried_billed(
            LLMResponseError(f"{source} answered without any choices: {quote(body)}"), body, prompt_tokens
        )
    choice: dict[str, Any] = choices[0]
    message = choice.get("message")
    text = message.get("content") if isinstance(message, dict) else None
    if text is None:
        text = choice.get("text")
    if isinstance(text, list):  # content as parts, as some servers send it: [{"type": "text", "text": "..."}]
        parts = [part.get("text") for part in text if isinstance(part, dict) and part.get("type", "text") == "text"]
        text = "".join(part for part in parts if isinstance(part, str)) if parts else None
    blank = text is None or (isinstance(text, str) and not text.strip())
    refusal = message.get("refusal") if isinstance(message, dict) else None
    if blank and isinstance(refusal, str) and refusal.strip():
        # OpenAI's field for a model that declines: the same request is declined again, and retries paid for it.
        raise _billed(LLMRequestError(f"{source} refused to answer: {quote(refusal.strip())}"), body, prompt_tokens)
    if blank and choice.get("finish_reason") == "content_filter":
        raise _billed(
            LLMRequestError(
                f"{source} gave no answer: its content filter blocked the reply (finish_reason content_filter); "
                "the same request would be blocked again"
            ),
            body,
            prompt_tokens,
        )
    if blank and choice.get("finish_reason") == "length":
        # A reasoning model that thought until `max_tokens` ran out (its content null, or "" or a line
        # break as some servers send it beside a `reasoning` field): at temperature 0 a retry would pay for the
        # same thinking again and end the same way.
        thought = isinstance(message, dict) and any(message.get(k) for k in ("reasoning_content", "reasoning"))
        raise _billed(
            LLMRequestError(
                f"{source} used all {max_tokens} reply tokens {'thinking ' if thought else ''}before writing any "
                "answer; pearl's calls need a model that answers directly: turn its thinking off, or choose "
                "another --model"
            ),
            body,
            prompt_tokens,
            written=max_tokens,
        )
    field, thinking = _reasoning(message) if blank else ("", "")
    if thinking:
        # A reasoning model that thought, then stopped without an answer, its thinking in a field of its own: retried,
        # it thinks the same way again, and paid for each time; `max_retries` attempts said only "no message content".
        raise _billed(
            LLMRequestError(
                f"{source} wrote only its thinking ({len(thinking):,} characters, in {field}), no answer; "
                "pearl's calls need a model that answers directly: turn its thinking off, or choose another --model"
            ),
            body,
            prompt_tokens,
            written=min(max_tokens, count_tokens(thinking[: reply_chars(max_tokens)])),
        )
    if not isinstance(text, str):
        raise _retried_billed(
            LLMResponseError(f"{source} answered with no message content: {quote(choice)}"), body, prompt_tokens
        )
    notes: list[str] = []
    split = after_thinking(text)
    if split is not None:
        # A reasoning model whose server leaves its thinking in the content (DeepSeek-R1, Qwen3, QwQ): the answer is
        # what follows. Kept, the plan parser refused every plan at its "<", and a letter was never read.
        rest, note = split
        if rest is None:
            stopped = choice.get("finish_reason") == "length"
            raise _billed(
                LLMRequestError(
                    f"{source} wrote only its thinking ({len(text):,} characters), no answer"
                    + (f" within {max_tokens} reply tokens" if stopped else "")
                    + "; pearl's calls need a model that answers directly: turn its thinking off, or choose another "
                    "--model"
                ),
                body,
                prompt_tokens,
                written=max_tokens if stopped else min(max_tokens, count_tokens(text[: reply_chars(max_tokens)])),
            )
        notes.append(note)
        text = rest
    if blank_is_error and not text.strip():
        # Taken as an answer it read as "(no answer)", and an evaluation scored it wrong with no error,
        # so --retry-errors never asked again: it is a reply with no content, as a null one is.
        what = "white space alone, no text" if text else "an empty text"
        raise _retried_billed(BlankReplyError(f"{source} answered with {what}: {quote(choice)}"), body, prompt_tokens)
    replied = text
    finish_reason = _label(choice.get("finish_reason"), _MAX_LABEL, "finish_reason", notes)
    if finish_reason == "content_filter":
        notes.append(FILTERED_NOTE)
    limit = reply_chars(max_tokens)
    if len(text) > limit:
        notes.append(
            f"the reply was {len(text):,} characters, over the {limit:,} a {max_tokens}-token reply allows; cut"
        )
        text, finish_reason = text[:limit], "length"
    looped = _cut_loop(text) if finish_reason == "length" else None
    if looped:
        notes.append(_loop_note(looped, text))
        text = looped
    # A reply not reported is counted as the server wrote it: all of `max_tokens` where it stopped there, else its
    # text before any cut here.
    stopped = choice.get("finish_reason") == "length"
    written: Callable[[], int] = (lambda: max_tokens) if stopped else (lambda: count_tokens(replied))
    prompt, completion_tokens, cached_prompt_tokens, estimated = _usage(body, notes, written, prompt_tokens, sent_chars)
    named = _label(body.get("model"), _MAX_MODEL, "model", notes)
    return Completion(
        text=_encodable(text),
        prompt_tokens=prompt,
        completion_tokens=completion_tokens,
        cached_prompt_tokens=cached_prompt_tokens,
        latency_s=latency_s,
        model=named or model,
        backend=backend,
        finish_reason=finish_reason,
        attempts=attempts,
        notes=notes,
        estimated=estimated,
    )


# Credentials as an Authorization header carries them: any Bearer token, however short; Basic
# only with a base64 blob after it, so that "Basic auth is off" stays readable.
_TOKEN_SCHEME = re.compile(r"(?i)\b(bearer(?=\s)|basic(?=\s+[A-Za-z0-9+/]{8,}=*))(\s+)[A-Za-z0-9._~+/=:-]+")
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@]+@")
# Keys a server may quote that are not the one pearl sent ("Incorrect API key provided: sk-proj-ab***yz"): a
# provider's prefix then a token, a JWT, or a token-like string right after a word such as "key" or "token". A
# token must hold a digit or a "*" (a key masked by the server), so that words ("hf_hub_download",
# "invalid_api_key") stay readable, and a prefixed one 16 characters at least after its prefix (keys run 16 to
# 160), so that a model's name ("pplx-70b-online", "xai-grok-beta-2024"), which a user must see to mend it, stays.
_TOKEN = r"[A-Za-z0-9_.~+/=*-]"  # a match ends before a full stop: "provided: sk-... You can" keeps its sentence end
_PREFIXED_KEY = re.compile(
    rf"\b(?:(?:sk|rk|gsk|csk|hf|gh[pousr]|github_pat|xai|pplx|nvapi|r8|fw|tvly)[-_]|AIza|AKIA|eyJ){_TOKEN}{{16,}}(?<!\.)"
)
_AFTER_KEY_WORD = re.compile(
    r"(?i)(\b(?:api[ _-]?key|key|token|secret|password|passwd|credentials?)\b[^A-Za-z0-9\n]{0,4}"
    r"(?:(?:provided|given|used|sent|was|is|value)[^A-Za-z0-9\n]{1,4}){0,2})"
    rf"({_TOKEN}{{12,}}(?<!\.))"
)
_CUT_WORD = re.compile(r"(?<=\s)\S+\Z")
KEY_REDACTED = "[key redacted]"
"""What stands where a key-like string was taken out of a server's text: it says that one was, and none of it."""


def _key_like(token: str) -> bool:
    return any(c.isdigit() or c == "*" for c in token)


def _without_keys(text: str) -> str:
    """`text` with every key-like string in it replaced by `KEY_REDACTED`."""
    text = _PREFIXED_KEY.sub(lambda m: KEY_REDACTED if _key_like(m.group()) else m.group(), text)
    return _AFTER_KEY_WORD.sub(lambda m: m.group(1) + KEY_REDACTED if _key_like(m.group(2)) else m.group(), text)


KEY_LIKE = 16
"""The fewest characters of a secret `Redactor.secrets_out` takes out of a reply's text (an OpenAI key has over 40)."""


class Redactor:
    """Takes secrets out of text a server sent back, before it is quoted in an error.

    Removes each given secret (the API key, a password in the base URL) wherever it appears,
    any `Bearer ...` / `Basic ...` credential, the user part of any URL, and any other key the
    text quotes (a server saying which key it refused: `KEY_REDACTED` says one was taken out), then
    cuts the text.

    Args:
        secrets: strings never to show; those under 4 characters are left to the patterns
            (hiding every "x" of a message would make it unreadable and protect nothing).
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def secrets_out(self, text: str) -> str:
        """`text` with each secret given of `KEY_LIKE` characters or more replaced by `***`, nothing else changed: for
        a reply, whose text is used. A shorter one is a word as often as a key ("ollama", "none", "EMPTY", which local
        servers are given), and taking it out of a reply changed the answer."""
        for secret in self._secrets:
            if len(secret) >= KEY_LIKE:
                text = text.replace(secret, "***")
        return text

    def __call__(self, value: object, limit: int = 300) -> str:
        text = value if isinstance(value, str) else str(value)
        if len(text) > limit * 4:  # enough to find a secret that crosses the cut below
            head = text[: limit * 4]
            if not text[limit * 4].isspace():  # the word cut goes: a key's first characters may not be known for one
                head = _CUT_WORD.sub("", head)
            text = head + " …"
        for secret in self._secrets:
            text = text.replace(secret, "***")
        text = _TOKEN_SCHEME.sub(r"\1\2***", text)
        text = _USERINFO.sub(r"\1***@", text)
        text = _without_keys(text)
        return _encodable(text[:limit].strip() + ("…" if len(text) > limit else ""))  # a cut shows as one
