"""Read evaluation sets: the official QuALITY release, L-Eval files, and pearl's own simple JSONL layout.

All three are JSON Lines with one document (and its questions) per line. The format is
recognised from the first line's keys unless given. Any problem is a `DatasetError` that
names the file, the line and the field, e.g. `data.jsonl:3: questions[1].gold_label: ...`.

Our layout (`format="jsonl"`), one document per line::

    {"id": "keeper", "title": "The Keeper", "text": "...whole document..."
     "questions": [
        {"question": "Why ...?", "options": ["...", "...", "...", "..."], "answer": "B"},
        {"question": "How many ...?", "answer": ["96", "ninety-six"]},
        {"id": "q3", "question": "Who ...?", "answer": "Teodor", "tags": ["long", "hard"]}]}

`path` (relative to the JSONL file) may replace `text`. A multiple-choice `answer` is a
letter or the exact text of an option; a free-text `answer` is a string or a list of
acceptable strings. Question ids default to `<document id>:<n>` (n from 1).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

from pearl._files import decode_json, is_pdf, read_text
from pearl._text import counted, folded, shorten
from pearl.documents import DEFAULT_MAX_BYTES, load_document
from pearl.errors import DatasetError, DocumentError
from pearl.eval._metrics import question_type
from pearl.eval._models import FORMATS, Dataset, EvalDocument, EvalQuestion, Format
from pearl.questions import LETTERS, Question, split_options

__all__ = ["detect_format", "file_sha256", "load_dataset", "read_questions"]

log = logging.getLogger("pearl.eval")

# An option's letter alone ("B", "(B)", "B."), or marked as a label before text ("(B) She was upset", "B. She was",
# "B) She"): a gold of "A lighthouse keeper's assistant" is an option's text, not the letter A.
_BARE_LETTER = re.compile(r"^\s*\(?([A-J])\)?[.:)]?\s*$")
_MARKED_LETTER = re.compile(r"^\s*(?:\(([A-J])\)|([A-J])[.:)])")
_LABELLED_TEXT = re.compile(r"^\s*([A-J])\s*[-\u2013\u2014]?\s+(\S.*)$", re.DOTALL)
# The same in lower case, as some L-Eval exam files label their options ("(a) ... (b) ...", gold "(b)"): split_options
# reads capitals alone, and such a question was scored as free text, by F1 against "(b)".
_LOWER_BARE = re.compile(r"^\s*\(?([a-j])\)?[.:)]?\s*$")
_LOWER_MARKED = re.compile(r"^\s*(?:\(([a-j])\)|([a-j])[.:)])")
_LOWER_INLINE = re.compile(r"(?<![\w(])\(([a-z])\)")
_LOWER_LINE = re.compile(r"^([ \t]*)([a-z])(?=[.)])", re.MULTILINE)
_MARK = re.compile(r"\s*(?:\([A-Z]\)|[A-Z][.)])\s*")  # an option's mark once raised, as split_options reads it
# A gold answer naming several options, as L-Eval's Coursera questions have: "AC", "A, C", "ABD".
_SEVERAL = re.compile(r"^\s*[A-J](?:\s*,?\s*[A-J])+\s*$")
# Coursera numbers its questions: "Question 3. Which ...".
_NUMBERED = re.compile(r"^Question\s+\d+\s*[.:)]\s*", re.IGNORECASE)
_TAGS = frozenset({"long", "short", "hard"})
_SEVERAL_WHY = "its gold answer names several options, and pearl answers multiple choice with one"


class _Line:
    """Where we are in the file, so every error names it."""

    def __init__(self, path: Path, number: int) -> None:
        self.path = path
        self.number = number
        # Questions of the line not loaded, by id: how many of the line's loaded questions come before each, and why.
        self.left_out: dict[str, tuple[int, str]] = {}

    def fail(self, field: str, problem: str) -> NoReturn:
        where = f"{self.path}:{self.number}"
        raise DatasetError(f"{where}: {field}: {problem}" if field else f"{where}: {problem}")

    def get(self, obj: dict[str, Any], key: str, kind: type, field: str | None = None, *, required: bool = True) -> Any:
        name = field or key
        if key not in obj or obj[key] is None:
            if required:
                self.fail(name, "missing")
            return None
        value = obj[key]
        # bool is an int in Python; a gold label of `true` is a mistake, not a 1
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.fail(name, f"expected {_kind_name(kind)}, got {type(value).__name__} {_short(value)}")
        return value


def _kind_name(kind: type) -> str:
    return {str: "a string", int: "an integer", list: "a list", dict: "an object"}.get(kind, kind.__name__)


def _short(value: Any) -> str:
    return shorten(json.dumps(value, ensure_ascii=False), 60)


class _NotJSON(DatasetError):
    """A line of an evaluation file that is not JSON."""


def _lines(path: Path) -> Iterator[tuple[_Line, dict[str, Any]]]:
    try:
        handle = path.open(encoding="utf-8-sig")  # a byte-order mark at the start, as editors on Windows write
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    with handle:
        try:
            for number, raw in enumerate(handle, start=1):
                if not raw.strip():
                    continue
                line = _Line(path, number)
                obj = decode_json(raw, f"{path}:{number}", _NotJSON)
                if not isinstance(obj, dict):
                    line.fail("", f"expected a JSON object, got {type(obj).__name__}")
                yield line, obj
        except UnicodeDecodeError as exc:
            raise DatasetError(f"{path}{_not_utf8(path, exc)}") from exc


def _not_utf8(path: Path, error: UnicodeDecodeError) -> str:
    """Where the first byte of `path` that is not UTF-8 is, as `:3: not UTF-8 text (...)`. The decoder's error
    counts from the start of the block it was reading, not of the file, and names no line: one L-Eval line, then
    bytes 0xff 0xfe, was said to be "at byte 3813", the byte at 36,581 of the file on line 2."""
    offset = 0
    try:
        with path.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                try:
                    raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    column = len(raw[: exc.start].decode("utf-8")) + 1
                    byte = f"byte 0x{raw[exc.start]:02x}, {exc.reason}"
                    return (
                        f":{number}: not UTF-8 text ({byte}, at column {column:,}, offset {offset + exc.start:,} of "
                        "the file); save it as UTF-8"
                    )
                offset += len(raw)
    except OSError:
        pass
    return f": not UTF-8 text ({error.reason})"  # read again, it decoded (changed meanwhile): what is known


def _format_of(keys: set[str]) -> Format | None:
    if {"article", "questions"} <= keys:
        return "quality"
    if {"input", "instructions", "outputs"} <= keys:
        return "leval"
    if "questions" in keys and ("text" in keys or "path" in keys):
        return "jsonl"
    return None


def detect_format(path: Path) -> Format:
    """The format of an evaluation file, from the keys of its first line.

    Raises:
        DatasetError: unreadable, empty, or the keys match no known layout.
    """
    layouts = (
        "expected QuALITY (article, questions), L-Eval (input, instructions, outputs) or pearl JSONL "
        "(id, text or path, questions)"
    )
    try:
        with path.open("rb") as handle:
            pdf = is_pdf(handle.read(5))
    except OSError:
        pdf = False  # `_lines` says why it cannot be read
    if pdf:
        raise DatasetError(f"{path} is a PDF, not an evaluation file; {layouts}")
    try:
        for line, obj in _lines(path):
            found = _format_of(set(obj))
            if found is None:
                line.fail("", f"unknown layout (keys: {', '.join(sorted(obj)[:12])}); {layouts}; or pass --format")
            return found
    except _NotJSON as exc:
        # Questions one a line (what `pearl mine --questions` reads) have no gold answers and no documents.
        raise DatasetError(
            f"{exc}; an evaluation file is JSON Lines, a document with its questions and gold answers a line: {layouts}"
        ) from None
    raise DatasetError(f"{path}: the file is empty")


def file_sha256(path: Path) -> str:
    """sha256 of a file's bytes (hex), to notice that a resumed run's data changed."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _letter_of(gold: str, options: list[str]) -> str | None:
    """The option letter a gold answer names: an option's own text first ("A person who..." is option text, not the
    letter A; "A lighthouse keeper’s assistant" with its curly apostrophe is the option's text too), then a letter
    alone or marked as a label ("(B) She was upset ...")."""
    wanted = folded(gold)
    for letter, option in zip(LETTERS, options, strict=False):
        if folded(option) == wanted:
            return letter
    match = _BARE_LETTER.match(gold) or _MARKED_LETTER.match(gold)
    named: str | None = next((group for group in match.groups() if group), None) if match else None
    if named is None:  # "B - A lighthouse keeper's assistant", "D Nobody": a letter, then that option's own text
        labelled = _LABELLED_TEXT.match(gold)
        if labelled is not None:
            at = LETTERS.find(labelled.group(1))
            if at < len(options) and folded(options[at]) == folded(labelled.group(2)):
                named = labelled.group(1)
    return named if named is not None and named in LETTERS[: len(options)] else None


def _raised_label(gold: str) -> str | None:
    """`gold` with its option letter in capitals, where it is a lower-case letter alone or marked as a label ("b",
    "(b)", "b) Nobody"); else None."""
    match = _LOWER_BARE.match(gold) or _LOWER_MARKED.match(gold)
    if match is None:
        return None
    group = 1 if match.group(1) else 2
    return gold[: match.start(group)] + gold[match.start(group)].upper() + gold[match.end(group) :]


def _lower_case_options(text: str) -> Question | None:
    """The question and its options where they are labelled in lower case (inline `(a) ... (b) ...`, or lines `a.
    ...`), read as `split_options` reads capitals, the texts as written; None where there are none."""
    raised = _LOWER_INLINE.sub(lambda m: f"({m.group(1).upper()})", text)
    raised = _LOWER_LINE.sub(lambda m: m.group(1) + m.group(2).upper(), raised)
    parsed = split_options(raised)
    if not parsed.options:
        return None
    # Only marks were raised, a letter for a letter: each part stands in `text` where it stands in `raised`, and is
    # taken from there (a "(c)" in an option's own words stays as written).
    at = len(raised) - len(raised.lstrip())
    parts: list[str] = []
    for i, part in enumerate([parsed.text, *parsed.options]):
        mark = _MARK.match(raised, at) if i else None
        if i and mark is None:
            return parsed
        at = mark.end() if mark is not None else at
        if not raised.startswith(part, at):
            return parsed
        parts.append(text[at : at + len(part)])
        at += len(part)
    return Question(text=parts[0], options=parts[1:])


def _quality(line: _Line, obj: dict[str, Any]) -> tuple[EvalDocument, list[EvalQuestion]]:
    article = line.get(obj, "article", str)
    doc_id = str(obj.get("set_unique_id") or obj.get("article_id") or f"doc{line.number}")
    document = EvalDocument(id=doc_id, title=str(obj.get("title") or doc_id), text=article)
    questions: list[EvalQuestion] = []
    for i, item in enumerate(line.get(obj, "questions", list)):
        where = f"questions[{i}]"
        if not isinstance(item, dict):
            line.fail(where, f"expected an object, got {type(item).__name__}")
        text = _asked(line.get(item, "question", str, f"{where}.question"))
        options = line.get(item, "options", list, f"{where}.options")
        if not 2 <= len(options) <= len(LETTERS) or not all(isinstance(o, str) for o in options):
            line.fail(f"{where}.options", f"expected 2 to {len(LETTERS)} strings, got {_short(options)}")
        if "gold_label" not in item:
            line.fail(f"{where}.gold_label", "missing (the QuALITY test set has no answers; use train or dev)")
        label = line.get(item, "gold_label", int, f"{where}.gold_label")
        if not 1 <= label <= len(options):
            line.fail(f"{where}.gold_label", f"expected 1-{len(options)}, got {label}")
        tags = _quality_tags(line, item, where)
        letter = LETTERS[label - 1]
        questions.append(
            EvalQuestion(
                id=str(item.get("question_unique_id") or f"{doc_id}:{i + 1}"),
                document_id=doc_id,
                question=text,
                options=[o.strip() for o in options],
                gold=letter,
                golds=[letter],
                kind="choice",
                tags=tags,
                qtype=question_type(text),
            )
        )
    return document, questions


def _quality_tags(line: _Line, item: dict[str, Any], where: str) -> list[str]:
    tags: list[str] = []
    validation = line.get(item, "validation", list, f"{where}.validation", required=False)
    if validation:
        needs: list[int] = []
        for j, vote in enumerate(validation):
            field = f"{where}.validation[{j}].untimed_eval2_context"
            if not isinstance(vote, dict):
                line.fail(f"{where}.validation[{j}]", f"expected an object, got {type(vote).__name__}")
            value = line.get(vote, "untimed_eval2_context", int, field)
            if not 1 <= value <= 4:
                line.fail(field, f"expected 1-4, got {value}")
            needs.append(value)
        # PEARL's long split: most annotators said a third of the text or more is needed (>= 3)
        tags.append("long" if 2 * sum(n >= 3 for n in needs) > len(needs) else "short")
    difficult = item.get("difficult")
    if difficult is not None:
        if difficult not in (0, 1) or isinstance(difficult, float):
            line.fail(f"{where}.difficult", f"expected 0 or 1, got {_short(difficult)}")
        if difficult == 1:
            tags.append("hard")
    return tags


def _golds(line: _Line, value: Any, field: str) -> list[str]:
    items = value if isinstance(value, list) else [value]
    golds = [item for item in items if isinstance(item, str) and item.strip()]
    if not golds or len(golds) != len(items):
        line.fail(field, f"expected a non-empty string or list of strings, got {_short(value)}")
    return golds


def _asked(text: str) -> str:
    """The question's text, stripped. An empty one is loaded, and the run skips it, naming it and why, as it skips an
    empty option: the whole run was refused for it (helper-227), and before that it stopped the run at it, where it
    said neither where nor which, on every resume."""
    return text.strip()


def _leval(line: _Line, obj: dict[str, Any]) -> tuple[EvalDocument, list[EvalQuestion]]:
    text = line.get(obj, "input", str)
    instructions = line.get(obj, "instructions", list)
    outputs = line.get(obj, "outputs", list)
    if len(instructions) != len(outputs):
        line.fail("outputs", f"{len(outputs)} answers for {len(instructions)} instructions; they must pair up")
    evaluation = obj.get("evaluation")
    doc_id = f"doc{line.number}"
    document = EvalDocument(id=doc_id, title=str(obj.get("title") or f"{line.path.stem} line {line.number}"), text=text)
    questions: list[EvalQuestion] = []
    several: list[str] = []
    for i, (instruction, output) in enumerate(zip(instructions, outputs, strict=True)):
        if not isinstance(instruction, str) or not instruction.strip():
            line.fail(f"instructions[{i}]", f"expected a non-empty string, got {_short(instruction)}")
        golds = _golds(line, output, f"outputs[{i}]")
        parsed, gold = split_options(instruction), golds[0]
        if not parsed.options and evaluation in ("exam", None) and (raised := _raised_label(gold)) is not None:
            lower = _lower_case_options(instruction)
            if lower is not None:  # "(a) ... (b) ...", gold "(b)": the options and letter B
                parsed, gold = lower, raised
            elif _LOWER_MARKED.match(gold):  # "(b)" names an option: with evaluation 'exam', refused as "(B)" is
                gold = raised
        if len(parsed.options) > len(LETTERS):
            many = f"{len(parsed.options)} options: at most {len(LETTERS)} are supported (A to J)"
            line.fail(f"instructions[{i}]", many)
        qid = f"{doc_id}:{i + 1}"
        if parsed.options and _SEVERAL.match(golds[0]):
            several.append(f"{qid} {golds[0].strip()!r}")
            line.left_out[qid] = (len(questions), f"{_SEVERAL_WHY} ({golds[0].strip()!r})")
            continue
        letter = _letter_of(gold, parsed.options) if parsed.options else None
        base: dict[str, Any] = {"id": qid, "document_id": doc_id, "qtype": question_type(parsed.text)}
        exam = evaluation == "exam" or (evaluation is None and letter is not None)
        # "exam" is L-Eval's exact-match scoring, not always multiple choice (gsm100 answers a number):
        # only a gold answer that is an option letter calls for options.
        if exam and (parsed.options or _BARE_LETTER.match(gold) or _MARKED_LETTER.match(gold)):
            if not parsed.options:
                line.fail(
                    f"instructions[{i}]",
                    f"evaluation is 'exam' but the question has no options for its gold answer {_short(golds[0])} "
                    "(inline (A) ... (B) ..., or lines A. ... B. ...)",
                )
            if letter is None:
                line.fail(f"outputs[{i}]", f"no option letter in the gold answer {_short(golds[0])}")
            text = _asked(_NUMBERED.sub("", parsed.text, count=1))
            questions.append(
                EvalQuestion(**base, question=text, options=parsed.options, gold=letter, golds=[letter], kind="choice")
            )
        else:
            questions.append(
                EvalQuestion(**base, question=instruction.strip(), gold=golds[0], golds=golds, kind="free")
            )
    if several:  # named in the report of a run too (`Dataset.left_out`)
        log.warning(
            "%s:%d: left out %s whose gold answer names several options (%s); "
            "pearl answers multiple choice with one option",
            line.path,
            line.number,
            counted(len(several), "question"),
            ", ".join(several[:3]) + (", ..." if len(several) > 3 else ""),
        )
    return document, questions


def _document_file(line: _Line, relative: str) -> str:
    """The text of the document file a data set's row names by `path`: a regular file in the data set's folder (or
    below it), of at most `DEFAULT_MAX_BYTES`. A data set from someone else that named "/home/me/.ssh/id_rsa" or
    "../x" sent that file's text to the model and into the run's traces, and one naming "/dev/zero" was read until
    memory ran out."""
    folder = line.path.parent.resolve()
    source = (line.path.parent / relative).resolve()
    if not source.is_relative_to(folder):
        # A link is judged by where it leads: a data set received as an archive may link to ~/.ssh.
        leads = "" if (folder / relative).absolute() == source else f" (it leads to {source})"
        line.fail(
            "path", f"{relative} is outside the data set's folder {folder}{leads}; documents must be in it or below it"
        )
    try:
        if not source.is_file():
            line.fail("path", f"{source} is not a file" if source.exists() else f"{source} does not exist")
        size = source.stat().st_size
        if size > DEFAULT_MAX_BYTES:
            line.fail("path", f"{source} is {size:,} bytes, over the {DEFAULT_MAX_BYTES:,} a document may have")
        if source.suffix.lower() not in _READ_AS_ASK_READS:
            try:
                return source.read_text(encoding="utf-8-sig")  # a page's markup and all, as a text row holds it
            except UnicodeDecodeError:
                pass
        # A PDF, an e-mail, UTF-16 text: read as `pearl ask` reads the file (a codec's error quoted before).
        return load_document(source).text
    except DocumentError as exc:
        line.fail("path", str(exc))
    except OSError as exc:
        line.fail("path", f"cannot read {source} ({exc})")


_READ_AS_ASK_READS = frozenset({".pdf", ".eml"})
"""Kinds of file a `path` document is read as a file of its kind is, not as text (helper-183)."""


def _custom(line: _Line, obj: dict[str, Any]) -> tuple[EvalDocument, list[EvalQuestion]]:
    doc_id = line.get(obj, "id", str)
    if not doc_id.strip():
        line.fail("id", "must not be empty")
    text = line.get(obj, "text", str) if "text" in obj else _document_file(line, line.get(obj, "path", str))
    document = EvalDocument(id=doc_id, title=str(obj.get("title") or doc_id), text=text)
    questions: list[EvalQuestion] = []
    for i, item in enumerate(line.get(obj, "questions", list)):
        where = f"questions[{i}]"
        if not isinstance(item, dict):
            line.fail(where, f"expected an object, got {type(item).__name__}")
        text_q = _asked(line.get(item, "question", str, f"{where}.question"))
        options = line.get(item, "options", list, f"{where}.options", required=False) or []
        if options and (not 2 <= len(options) <= len(LETTERS) or not all(isinstance(o, str) for o in options)):
            line.fail(f"{where}.options", f"expected 2 to {len(LETTERS)} strings, got {_short(options)}")
        if "answer" not in item:
            line.fail(f"{where}.answer", "missing")
        tags = line.get(item, "tags", list, f"{where}.tags", required=False) or []
        unknown = [t for t in tags if t not in _TAGS]
        if unknown:
            line.fail(f"{where}.tags", f"unknown tag(s) {_short(unknown)}; known: hard, long, short")
        qid = line.get(item, "id", str, f"{where}.id", required=False) or f"{doc_id}:{i + 1}"
        base: dict[str, Any] = {"id": qid, "document_id": doc_id, "tags": tags, "qtype": question_type(text_q)}
        if options:
            answer = item["answer"]
            letter = _letter_of(answer, options) if isinstance(answer, str) else None
            if letter is None:
                line.fail(f"{where}.answer", f"expected an option letter or an option's text, got {_short(answer)}")
            questions.append(
                EvalQuestion(**base, question=text_q, options=options, gold=letter, golds=[letter], kind="choice")
            )
        else:
            golds = _golds(line, item["answer"], f"{where}.answer")
            questions.append(EvalQuestion(**base, question=text_q, gold=golds[0], golds=golds, kind="free"))
    return document, questions


_READERS = {"quality": _quality, "leval": _leval, "jsonl": _custom}


def load_dataset(path: str | Path, format: str | None = None) -> Dataset:
    """Read an evaluation file.

    Args:
        path: a JSON Lines file in QuALITY, L-Eval or pearl's layout (see the module docstring).
        format: "quality", "leval" or "jsonl"; default: recognised from the first line.

    Raises:
        DatasetError: the file is unreadable or malformed; the message names the line and the field.
    """
    path = Path(path)
    if format is not None and format not in FORMATS:
        raise DatasetError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
    chosen: Format = format if format is not None else detect_format(path)
    reader = _READERS[chosen]
    documents: list[EvalDocument] = []
    questions: list[EvalQuestion] = []
    doc_ids: set[str] = set()
    question_ids: set[str] = set()
    left_out: dict[str, tuple[int, str]] = {}
    for line, obj in _lines(path):
        if chosen == "leval" and not {"input", "instructions", "outputs"} <= set(obj):
            missing = sorted({"input", "instructions", "outputs"} - set(obj))
            line.fail(missing[0], "missing (an L-Eval line has input, instructions and outputs)")
        document, found = reader(line, obj)
        if document.id in doc_ids:
            line.fail("id", f"document id {document.id!r} appears on an earlier line; ids must be unique")
        doc_ids.add(document.id)
        for question in found:
            if question.id in question_ids:
                line.fail("questions", f"question id {question.id!r} appears earlier; ids must be unique")
            question_ids.add(question.id)
        left_out |= {qid: (len(questions) + at, why) for qid, (at, why) in line.left_out.items()}
        documents.append(document)
        questions.extend(found)
    if not questions:
        raise DatasetError(f"{path}: no questions found")
    return Dataset(path=str(path), format=chosen, documents=documents, questions=questions, left_out=left_out)


def read_questions(path: str | os.PathLike[str], limit: int | None = None, data_format: str | None = None) -> list[str]:
    """Question texts from a QuALITY, L-Eval or pearl JSONL file, JSONL of `{"question": ...}`, or text (one a line).

    Options are left out: mining looks at what is asked, not at the answers offered.
    Duplicates, spacing and letter case aside, are dropped, the first spelling kept (a warning says how many; a
    repeat's options, like any question's, are not read); `limit` keeps the first N. A `.jsonl` or `.json` file is
    JSON whatever its first line holds.

    Raises:
        DatasetError: the file is unreadable, holds no question (comments alone), is a JSON array, a JSON line has
            no question, or a `.jsonl` line is not JSON.
    """
    file = Path(path)
    text = read_text(file, "questions file", DatasetError)
    lines = [(n, line.strip()) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not lines:
        raise DatasetError(f"{file}: holds no questions")
    found: list[str] = []
    # (A .jsonl file whose first line was broken was read as text, that line a question.)
    if data_format is not None or lines[0][1].startswith("{") or file.suffix.lower() in (".jsonl", ".json"):
        if lines[0][1].startswith("["):
            # Its first line, "[", was quoted as not valid JSON ("Expecting value (line 1, column 2)"), which said
            # nothing of the layout (helper-197).
            raise DatasetError(
                f'{file} is a JSON array; a questions file holds one JSON object a line (JSON Lines: {{"question": '
                '"..."} or a QuALITY, L-Eval or pearl JSONL line), or one question a line as text'
            )
        try:
            chosen = data_format or detect_format(file)
        except DatasetError:
            chosen = None
        if chosen is not None:
            found = [q.question for q in load_dataset(file, chosen).questions]
        else:
            for number, line in lines:
                obj: Any = decode_json(line, f"{file}:{number}", DatasetError)
                question = obj.get("question") if isinstance(obj, dict) else None
                if not isinstance(question, str) or not question.strip():
                    raise DatasetError(
                        f'{file}:{number}: expected a QuALITY, L-Eval or pearl JSONL line, or {{"question": "..."}}'
                    )
                found.append(question.strip())
    else:
        found = [line for _, line in lines if not line.startswith("#")]
        if not found:  # "no usable reply for any of 0 questions ... check the server" blamed the server (helper-197)
            raise DatasetError(f"{file} holds no questions, only comments ('#' lines): write one question a line")
        if len(found) > 1 and not any(line.endswith("?") for line in found):  # a story given where questions go
            log.warning(
                "%s: none of its %s ends with '?': each is read as a question (to mine for a document, "
                "give --document FILE)",
                file,
                counted(len(found), "line"),
            )
    given = [" ".join(q.split()) for q in found if q.strip()]
    # A question written again in other letter case ("who is dorota?") is the same question: it was mined twice, paid
    # for twice and its proposals counted twice. The first spelling is kept.
    first: dict[str, str] = {}
    for question in given:
        first.setdefault(question.casefold(), question)
    unique = list(first.values())
    if len(unique) < len(given):
        repeats = len(given) - len(unique)
        kept = set(unique)
        recased = next((q for q in given if q not in kept), None)  # a repeat in other case, named as an example
        case = ""
        if recased is not None:
            case = f", letter case aside: {shorten(recased, 60)!r} is {shorten(first[recased.casefold()], 60)!r}"
        log.warning(
            "%s: %s left out (%s of %s%s)",
            file,
            counted(repeats, "repeated question"),
            f"{len(unique):,} distinct",
            f"{len(given):,}",
            case,
        )
    return unique[:limit] if limit is not None else unique
