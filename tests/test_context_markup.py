"""A document written in markup is shown, indexed and counted as what a browser shows of it."""

from __future__ import annotations

import pytest

from pearl import Pearl, load_settings
from pearl.context import SentenceFlag, compress, index_document, rank_sentences, render_sentences
from pearl.context._markup import MarkupView, is_markup, shown_text
from pearl.eval import counting_fake_llm
from pearl.tokens import count_tokens

KEEPERS = "".join(
    f'<p><a class="anchor" href="#keeper-{i}"></a>Keeper number {i} polished the brass of the lamp.</p>\n'
    for i in range(30)
)
PAGE = (
    "<!DOCTYPE html>\n<html><head><title>Tren Light</title></head><body>\n<main>\n"
    '<h2 id="the-light"><a class="header" href="#the-light">The light</a></h2>\n'
    "<p>The <code>lamp</code> of Tren Light burned <em>paraffin</em> oil until 1951.</p>\n"
    "<p>Its <code>wick</code>s were trimmed at dusk.</p>\n"
    f"{KEEPERS}"
    "<p>The iron anchor of the old supply boat from the mainland held fast in the sheltered bay below the "
    "northern cliffs through the whole of that long winter.</p>\n"
    '<script>var anchor = "paraffin lamp header";</script>\n</main></body></html>'
)


def _sid(index_text: str, starts: list[int], ends: list[int], needle: str) -> int:
    return next(i for i, (s, e) in enumerate(zip(starts, ends, strict=True)) if needle in index_text[s:e])


def test_a_pages_sentences_are_shown_and_counted_without_their_tags_and_cited_in_the_original() -> None:
    index = index_document(PAGE, cache=False, ner=False)
    shown = compress(index, "What oil did the lamp burn?", 200)
    assert "The lamp of Tren Light burned paraffin oil until 1951." in shown.text
    assert not any(mark in shown.text for mark in ("<p>", "<code>", "class=", "href", "<em>"))
    lamp = _sid(index.text, index.sent_starts, index.sent_ends, "burned")
    assert index.sent_tokens[lamp] == count_tokens(shown_text(index, lamp)) < count_tokens(index.sentence_text(lamp))
    # Citations still point at the page as written.
    assert any("<code>lamp</code>" in index.text[s:e] for s, e in shown.spans)
    # A heading's link shows its words, not its address.
    assert "[S" in render_sentences(index, [_sid(index.text, index.sent_starts, index.sent_ends, "header")])
    assert "The light" in shown_text(index, _sid(index.text, index.sent_starts, index.sent_ends, "header"))
    # An inline element's tags leave no gap in the word they mark.
    assert shown_text(index, _sid(index.text, index.sent_starts, index.sent_ends, "trimmed")) == (
        "Its wicks were trimmed at dusk."
    )


def test_words_in_tags_and_scripts_match_no_question() -> None:
    # Every keeper's paragraph carries "anchor" in a tag's attribute, and the script says it too: only the
    # sentence about the boat's anchor says it.
    index = index_document(PAGE, cache=False, ner=False)
    best = rank_sentences(index, "Where was the anchor?")[0][0]
    assert "iron anchor" in index.sentence_text(best)
    shown = compress(index, "What does the script say about the paraffin lamp header?", 300)
    assert "var anchor" not in shown.text


def test_a_fragment_without_a_doctype_is_a_page() -> None:
    fragment = PAGE.split("<main>\n", 1)[1].split("</main>", 1)[0]
    assert fragment.startswith("<h2") and is_markup(fragment) and MarkupView.of(fragment).page
    index = index_document(fragment, cache=False, ner=False)
    script = _sid(index.text, index.sent_starts, index.sent_ends, "<script>")
    assert index.sent_flags[script] & SentenceFlag.MARKUP
    assert "burned paraffin oil" in compress(index, "What oil did the lamp burn?", 200).text


def test_text_in_the_layout_of_flattened_pages_is_shown_without_its_tags() -> None:
    rows = " ".join(f"<Tr> <Td> Keeper {i} </Td> <Td> {1900 + i} </Td> </Tr>" for i in range(20))
    text = (
        "Tren Light - wikipedia <H1> Tren Light </H1> <P> Tren Light is a lighthouse on a rock . </P> "
        f"<Table> {rows} </Table> <P> The lamp burned paraffin oil until 1951 . </P>"
    )
    assert is_markup(text) and not MarkupView.of(text).page
    index = index_document(text, cache=False, ner=False)
    shown = compress(index, "What oil did the lamp burn?", 60)
    assert "The lamp burned paraffin oil until 1951 ." in shown.text and "<P>" not in shown.text
    bare = [i for i in range(index.sentence_count) if index.sentence_text(i).strip() in ("</Table>", "<Table>")]
    assert all(index.sent_flags[i] & SentenceFlag.MARKUP for i in bare)


def test_prose_about_tags_and_code_examples_keep_them() -> None:
    tutorial = 'Put a <link rel="stylesheet"> in the <head> of the page. The <script> element runs code.'
    assert not is_markup(tutorial)
    index = index_document(tutorial, cache=False, ner=False)
    assert "<head>" in render_sentences(index, range(index.sentence_count))
    # Markdown dense with an HTML table: the table's tags go, the code block's stay.
    table = "\n".join(f"<tr><td><code>option{i}</code></td><td>Sets the level {i}.</td></tr>" for i in range(30))
    notes = f'# Options\n\n<table>\n{table}\n</table>\n\nAn example:\n\n```html\n<input type="email" required>\n```\n'
    assert is_markup(notes)
    index = index_document(notes, cache=False, ner=False)
    everything = render_sentences(index, range(index.sentence_count))
    assert "<td>" not in everything and "option7 Sets the level 7." in everything
    assert '<input type="email" required>' in everything


@pytest.mark.parametrize("method", ["direct", "pearl-fulldoc", "rag", "pearl"])
def test_every_method_shows_a_page_as_a_browser_does(method: str) -> None:
    fake = counting_fake_llm()  # real plans of two steps
    pearl = Pearl(llm=fake, settings=load_settings(cache=False))
    answer = pearl.ask(PAGE, "What oil did the lamp burn?", method=method)
    assert not any("answered by" in note for note in answer.notes)  # no fallback: the plan ran
    prompts = [m.content for request in fake.history for m in request.messages]
    assert any("The lamp of Tren Light burned paraffin oil until 1951." in p for p in prompts)
    assert not any(mark in p for p in prompts for mark in ('class="anchor"', "<code>", 'var anchor = "'))
