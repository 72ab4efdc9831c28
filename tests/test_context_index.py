"""index_document: sources, offsets, caching, and awkward documents."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import pytest

from pearl.context import (
    DocumentIndex,
    compress,
    count_words,
    entity_named,
    entity_sheet,
    index_document,
    sentence_span,
)
from pearl.context._cache import cache_path
from pearl.errors import ContextError, DocumentError
from pearl.models import Document

TEXT = (
    "BW-3 Franchise Systems, Inc. signed this Agreement with Korvin Foods LLC on March 15, 2022.\n\n"
    "2. Term. The term of this Agreement is ten (10) years. It may be renewed once.\n\n"
    "3. Fees. Korvin Foods LLC will pay a monthly fee equal to five percent (5%) of Gross Sales."
)


@pytest.fixture(autouse=True)
def _pearl_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PEARL_HOME", str(tmp_path))


def _check_offsets(index: DocumentIndex) -> None:
    assert len(index.sent_starts) == len(index.sent_ends) == len(index.sent_tokens) == len(index.sent_para)
    for sentence in index.sentences():
        assert index.text[sentence.start : sentence.end] == sentence.text
        assert sentence.text == sentence.text.strip() and sentence.text
        assert sentence_span(index, sentence.id) == (sentence.start, sentence.end)
        para = sentence.paragraph
        assert index.para_starts[para] <= sentence.start < sentence.end <= index.para_ends[para]
    assert index.sent_starts == sorted(index.sent_starts)


def test_sources_path_document_and_text_give_the_same_index(tmp_path: Path) -> None:
    path = tmp_path / "contract.txt"
    path.write_text(TEXT, encoding="utf-8")
    from_text = index_document(TEXT)
    from_path = index_document(path)
    from_str_path = index_document(str(path))
    from_document = index_document(Document.from_text(TEXT, name="mine"))
    assert from_text.content_hash == from_path.content_hash == from_document.content_hash
    assert from_path.name == str(path) and from_document.name == "mine" and from_text.name == "text"
    assert from_str_path.sent_starts == from_text.sent_starts
    _check_offsets(from_text)
    assert from_path.citation(0).source == str(path)
    assert from_text.words == len(TEXT.split()) and from_text.tokens > 0


def test_a_missing_path_is_an_error_and_text_that_reads_as_one_is_indexed_when_given_as_text(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="no such file"):
        index_document("no/such/file.txt", cache=False)
    with pytest.raises(DocumentError):
        index_document(tmp_path / "missing.txt")
    assert index_document(Document.from_text("no/such/file.txt"), cache=False).text == "no/such/file.txt"


def test_empty_document_is_a_clear_context_error() -> None:
    with pytest.raises(ContextError, match="no text to index"):
        index_document("")
    with pytest.raises(ContextError, match="no text to index"):
        index_document(" \n\n\t ")


def test_markup_that_shows_no_text_is_refused_like_an_empty_document() -> None:
    # Given as text, a page of bare tags was one "sentence" of markup: rag and pearl paid for calls about nothing
    # and cited the tags, where `direct` and the page read from a file refused it.
    page = "<html><body><div><span></span></div><script>var x = 1;</script></body></html>"
    with pytest.raises(ContextError, match="no text to index"):
        index_document(Document.from_text(page), cache=False)
    assert index_document(Document.from_text("<p>Tom rows.</p>"), cache=False).sentence_count == 1


def test_document_without_entities() -> None:
    index = index_document("The cat sat on the mat. It was warm and the day was long.", cache=False)
    assert index.entities == [] and index.sentence_count == 2
    assert entity_sheet(index) == "Entities: none found."
    assert compress(index, "where did the cat sit?", 12).sentence_ids == [0]  # the match, no room for more


def test_one_line_of_200k_characters() -> None:
    chunk = "the caravan moved slowly across the sand while the merchants argued about prices "
    line = "".join(chunk + ("Korvin of Avalon paid 40 coins " if i % 60 == 0 else "") for i in range(2500))[:200_000]
    assert len(line) == 200_000 and "\n" not in line
    started = time.perf_counter()
    index = index_document(line, cache=False)
    assert time.perf_counter() - started < 15
    _check_offsets(index)
    assert (
        index.sentence_count > 100
        and max(e - s for s, e in zip(index.sent_starts, index.sent_ends, strict=True)) <= 900
    )
    assert entity_named(index, "Korvin") is not None
    context = compress(index, "What did Korvin pay?", 300)
    assert 0 < context.tokens <= 300


@pytest.mark.parametrize(
    "unit",
    [
        "x",
        "X",
        ".",
        "1",
        "A. ",
        "; ",
        "Ab",
        "<script></i>",
        "<!--</b>",
        "<!doctype html><img src='" + "A" * 450 + "'> ",
        "<a b",
        "J. ",  # after a tag or a part's name and a long run of spaces (below): a heading's label is looked for
    ],
)
def test_pathological_200k_lines_are_linear(unit: str) -> None:
    started = time.perf_counter()
    if unit.startswith(("<script", "<!doctype")):  # a script never closed, images: a browser shows no text
        with pytest.raises(ContextError, match="no text to index"):
            index_document(unit * (200_000 // len(unit)), cache=False, ner=False)
        assert time.perf_counter() - started < 5
        return
    index = index_document(unit * (200_000 // len(unit)), cache=False, ner=False)
    assert time.perf_counter() - started < 5
    assert index.sentence_count >= 1
    for opening in ("<b>", "Section"):  # quadratic once: 137 s for 80,000 spaces
        started = time.perf_counter()
        index_document(opening + " " * 80_000 + unit * (80_000 // len(unit)), cache=False, ner=False)
        assert time.perf_counter() - started < 5
    assert compress(index, "x 1 Ab", 100).tokens <= 100


@pytest.mark.parametrize(
    "text",
    [
        "Москва — столица России. Иван Петров живёт в Москве. Он любит Москву.",
        "北京是中国的首都。上海是最大的城市。北京有很多公园。",
        "Der Vertrag wurde am 3. Mai 1999 von Herrn Korvin in Berlin unterschrieben. Korvin zahlte 5 Millionen Euro.",
        "🙂🙂🙂 ... ??? !!! ### 12345",
    ],
)
def test_non_english_and_odd_text_index_and_compress(text: str) -> None:
    index = index_document(text, cache=False)
    _check_offsets(index)
    entity_sheet(index)
    context = compress(index, "Korvin Москва 北京", 60)
    assert context.tokens <= 60
    for start, end in context.spans:
        assert index.text[start:end]


def test_second_call_reads_the_cache_and_a_corrupt_cache_is_rebuilt() -> None:
    first = index_document(TEXT)
    assert not first.from_cache
    path = cache_path(first.content_hash, "ner")
    assert path.is_file() and path.parent.parent.name != ""
    second = index_document(TEXT)
    assert second.from_cache
    assert second.model_dump() == first.model_dump() | {"build_seconds": second.build_seconds}
    assert index_document(TEXT, ner=False) is not None and cache_path(first.content_hash, "rules").is_file()

    path.write_text('{"version": 1, "content_hash": "trunc', encoding="utf-8")
    rebuilt = index_document(TEXT)
    assert not rebuilt.from_cache and rebuilt.sent_starts == first.sent_starts
    assert index_document(TEXT).from_cache  # the rebuilt index was written back

    path.write_bytes(b"\xff\xfe not json at all")
    assert not index_document(TEXT).from_cache
    assert not index_document(TEXT, cache=False).from_cache


def test_the_cache_drops_older_versions_files_and_the_least_recently_used_past_its_size(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # It grew for ever: every pipeline version left its files behind, every edit of a growing document a whole copy
    # (helper-216: 401 MB in one session).
    import os

    from pearl.context import _cache

    monkeypatch.setattr(_cache, "_PRUNE_EVERY", 1)  # a process prunes at its first write, then at every 50th
    first = index_document(TEXT)
    folder = cache_path(first.content_hash, "ner").parent
    older = folder / f"{'0' * 64}.ner.v{_cache.PIPELINE_VERSION - 1}.json"
    newer = folder / f"{'1' * 64}.ner.v{_cache.PIPELINE_VERSION + 1}.json"  # another install's, newer: left alone
    other = folder / "notes.txt"
    for path in (older, newer, other):
        path.write_text("{}", encoding="utf-8")
    texts = [f"{TEXT} Copy {n} was made on day {n}." for n in range(3)]
    paths = []
    for n, text in enumerate(texts):
        paths.append(cache_path(index_document(text, ner=False).content_hash, "rules"))
        os.utime(paths[-1], (1000 + n, 1000 + n))  # written in this order, long ago
    assert not older.exists() and newer.exists() and other.exists() and all(p.exists() for p in paths)
    assert index_document(texts[0], ner=False).from_cache  # used now: the most recently used
    fourth = f"{TEXT} A fourth copy made."
    room = (
        sum(p.stat().st_size for p in (cache_path(first.content_hash, "ner"), paths[0])) + 2 * paths[1].stat().st_size
    )
    monkeypatch.setattr(_cache._prune, "__defaults__", (room,))  # room for those two, the fourth and one more
    index_document(fourth, ner=False)
    # The least recently used went first, until the rest fit; the fourth, just written, and the newer version's stay.
    assert [p.exists() for p in paths] == [True, False, True]
    assert cache_path(first.content_hash, "ner").exists() and newer.exists()
    assert cache_path(index_document(fourth, ner=False, cache=True).content_hash, "rules").exists()


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d.update(sent_starts=d["sent_starts"][:-3]),
        lambda d: d.update(mention_sentence=[len(d["sent_starts"]) + 5 for _ in d["mention_sentence"]]),
        lambda d: d.update(sent_ends=[len(d["text"]) + 9 for _ in d["sent_ends"]]),
        lambda d: d["entities"][0].update(first_sentence=10**6),
    ],
    ids=["cut", "mention", "offset", "entity"],
)
def test_a_cache_that_parses_but_does_not_fit_together_is_rebuilt(
    damage: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # A cache file cut short inside a list still parsed, and `pearl context` ended in "zip() argument 2 is longer".
    first = index_document(TEXT)
    path = cache_path(first.content_hash, "ner")
    data = json.loads(path.read_text(encoding="utf-8"))
    damage(data)
    path.write_text(json.dumps(data), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="pearl"):
        rebuilt = index_document(TEXT)
    assert not rebuilt.from_cache and rebuilt.model_dump() == first.model_dump() | {
        "build_seconds": rebuilt.build_seconds
    }
    assert "ignoring corrupt index cache" in caplog.text
    compress(rebuilt, "Korvin", 60)


def test_cache_is_keyed_by_content_not_name(tmp_path: Path) -> None:
    index_document(Document.from_text(TEXT, name="a.txt"))
    again = index_document(Document.from_text(TEXT, name="b.txt"))
    assert again.from_cache and again.name == "b.txt"
    other = index_document(TEXT + " One more sentence.")
    assert not other.from_cache


def test_unsupported_source_type() -> None:
    with pytest.raises(TypeError, match="cannot read a"):
        index_document(42)  # type: ignore[arg-type]


def test_words_of_a_text_without_spaces_are_counted_as_its_language_counts_them() -> None:
    # Split at spaces, a page of Chinese would be one word.
    index = index_document("東京は日本の首都です。 Tokyo is the capital.", cache=False, ner=False)
    assert index.words == 10 + 4
    assert count_words("我爱你，世界！") == 5 and count_words("one two  three") == 3


def test_an_index_pickles_without_its_derived_views() -> None:
    # With dense on (the default where the MiniLM wheel is installed) the index held a lock among its derived views:
    # pickling it, to cache it or hand it to a process pool, failed with "cannot pickle '_thread.lock' object".
    import pickle
    import threading

    index = index_document("Mira rows the ferry. Tom keeps the shop.", cache=False)
    compress(index, "Who rows?", 50)  # builds some views
    index.memo("a lock", threading.Lock)
    import copy

    for again in (pickle.loads(pickle.dumps(index)), copy.deepcopy(index), index.model_copy(deep=True)):
        assert not again.derived() and "a lock" in index.derived()  # the original keeps its own
        assert again.model_dump() == index.model_dump() and again.entities is not index.entities
        assert compress(again, "Who rows?", 50).sentence_ids == compress(index, "Who rows?", 50).sentence_ids
