"""Quote marks and rules down the side of plain text are layout: prompts read the words, citations quote the text."""

from __future__ import annotations

from pearl.context import index_document, render_sentences, shown_document
from pearl.context._markup import MarkupView, gutters

MAIL = """On Monday, Anna Berg wrote:
> I think we should meet tomorrow at the harbour office, because the
> inspector arrives on Wednesday and the papers are not ready. What
> do you say?
Fine by me. I will bring the survey.
"""

CLASS = """class Lamp(builtins.object)
     |  Lamp(oil)
     |
     |  A lamp that burns oil. It is lit at dusk and put out
     |  at dawn by the keeper of the light.
     |
     |  Methods defined here:
     |
     |  light(self)
     |      Light the lamp; the wick must be trimmed
     |      before the oil is poured.
"""


def _units(text: str) -> list[str]:
    index = index_document(text, cache=False, ner=False)
    return [render_sentences(index, [sid]).split(" ", 1)[1] for sid in range(index.sentence_count)]


def test_an_email_quote_is_read_without_its_marks_and_as_a_passage_of_its_own() -> None:
    units = _units(MAIL)
    assert units == [
        "On Monday, Anna Berg wrote:",
        "I think we should meet tomorrow at the harbour office, because the inspector arrives on Wednesday and the "
        "papers are not ready.",
        "What do you say?",
        "Fine by me.",
        "I will bring the survey.",
    ]
    # A citation still quotes the document as written, marks and all.
    index = index_document(MAIL, cache=False, ner=False)
    assert index.sentence_text(2) == "What\n> do you say?"
    # What `direct` and the paper's executor show of the whole document is read the same way.
    assert ">" not in shown_document(MAIL) and "the\n  inspector" in shown_document(MAIL)


def test_a_rule_down_a_class_section_is_layout_and_its_sentences_run_across_lines() -> None:
    units = _units(CLASS)
    assert "A lamp that burns oil." in units
    assert "It is lit at dusk and put out at dawn by the keeper of the light." in units
    assert "light(self) Light the lamp; the wick must be trimmed before the oil is poured." in units
    assert not any("|" in u for u in units)


def test_tables_prompts_comparisons_and_code_keep_their_marks() -> None:
    table = "| Name | Size |\n| --- | --- |\n| lamp | 3 |\n| wick | 1 |\n"
    assert gutters(table) == ([], [])
    assert gutters("Two lines\n| of a formula\n| at most\n") == ([], [])
    assert gutters(">>> x = 1\n>>> x\n1\n") == ([], [])
    assert gutters("Fasting glucose\n> 126 mg/dl means diabetes.\n>= 7% is high.\n") == ([], [])
    fenced = "Reply like this:\n\n```\n> quoted line\n> another\n```\n"
    assert MarkupView.of(fenced).gutters == ()
    assert "> quoted line" in render_sentences(index_document(fenced, cache=False, ner=False), [1])


def test_a_deeper_quote_and_its_end_each_begin_a_passage() -> None:
    text = "Tom wrote:\n> Anna said the ship is late\n> > because of the storm\n> and I agree\nSo do I.\n"
    assert _units(text) == [
        "Tom wrote:",
        "Anna said the ship is late",
        "because of the storm",
        "and I agree",
        "So do I.",
    ]


def test_text_without_marks_is_read_as_before() -> None:
    text = "The keeper lit the lamp.\nHe said: 3 > 2 and a | b.\n"
    assert MarkupView.of(text).gutters == () and MarkupView.of(text).read(text) is text


def test_a_quoted_sentence_is_cited_as_written_whatever_it_holds() -> None:
    # With "&" or "<" in it, a sentence whose words the prompt shows without its "> " marks was cited as shown: the
    # marks and line break gone, where the same sentence without an "&" kept them (helper-175).
    from pearl.context import cite

    text = "Notes.\n\n> Quoted & replied\n> text continues & ends here.\n\nAfter."
    index = index_document(text, cache=False, ner=False)
    quoted = next(sid for sid in range(index.sentence_count) if "Quoted" in index.sentence_text(sid))
    citation = cite(index, quoted)
    assert citation.text == "Quoted & replied\n> text continues & ends here."
    assert citation.text == text[citation.start : citation.end]
