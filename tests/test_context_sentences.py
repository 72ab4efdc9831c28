"""Sentence and paragraph segmentation, layout flags, and the term normaliser."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import SAMPLE_DIR

from pearl import load_document
from pearl.context import DocumentIndex, compress, index_document, rank_sentences
from pearl.context._layout import analyse_layout, is_heading
from pearl.context._models import SentenceFlag
from pearl.context._query import clean_query, query_terms
from pearl.context._sentences import segment
from pearl.context._terms import query_variants, stem, term_bases, terms


@pytest.fixture(autouse=True)
def _pearl_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PEARL_HOME", str(tmp_path))


def _units(text: str, max_chars: int = 900) -> list[str]:
    return [text[s:e] for s, e in segment(text, max_chars).sentences]


def _texts(index: DocumentIndex) -> list[str]:
    return [sentence.text for sentence in index.sentences()]


def test_sentences_respect_abbreviations_initials_and_enumerators() -> None:
    text = (
        "Mr. Korvin met Dr. Tr'en at 5 p.m. in the U.S. embassy. He left. "
        "J. R. Smith signed for Acme Inc. on Monday! Did he? Yes."
    )
    assert _units(text) == [
        "Mr. Korvin met Dr. Tr'en at 5 p.m. in the U.S. embassy.",
        "He left.",
        "J. R. Smith signed for Acme Inc. on Monday!",
        "Did he?",
        "Yes.",
    ]
    # A telephone extension before its number (helper-215: "Call ext." stood as a sentence).
    assert _units("Call ext. 204 or Tel. 555 0100 for help. Then wait.") == [
        "Call ext. 204 or Tel. 555 0100 for help.",
        "Then wait.",
    ]


def test_a_lettered_schedule_or_a_closing_abbreviation_ends_its_sentence() -> None:
    # "Schedule A." was read as an initial, "etc." and "Inc." as mid-sentence: a contract's "Exhibit G. In witness
    # whereof ..." was one unit with the clause after it (helper-182).
    text = (
        "The Provider shall deliver the services described in Schedule A. Either party may terminate. "
        "See Exhibit G. In witness whereof the parties sign. Take vitamin C. It helps. "
        "We had apples, pears, etc. The results were good. He works at Apple Inc. She likes it. "
        "Apple Inc. announced a phone. J. R. R. Tolkien met John F. Kennedy."
    )
    assert _units(text) == [
        "The Provider shall deliver the services described in Schedule A.",
        "Either party may terminate.",
        "See Exhibit G.",
        "In witness whereof the parties sign.",
        "Take vitamin C.",
        "It helps.",
        "We had apples, pears, etc.",
        "The results were good.",
        "He works at Apple Inc.",
        "She likes it.",
        "Apple Inc. announced a phone.",
        "J. R. R. Tolkien met John F. Kennedy.",
    ]
    # Only before a word that opens sentences, in its own case, after no quote or bracket (helper-185).
    for whole in (
        "He joined the group J. Smith had founded.",
        "The report by Section A. Smith was filed.",
        "ACME INC. ON BEHALF OF ITSELF AND ITS SUBSIDIARIES SHALL INDEMNIFY BETA.",
        'This Agreement is made between Acme Inc. ("The Company") and Beta LLC.',
    ):
        assert _units(whole) == [whole]


def test_an_initialism_ends_its_sentence_before_a_word_that_opens_one() -> None:
    # "He moved to the U.S. He was happy there." was one unit: the stop after "U.S." was read as an initial's.
    text = "He moved to the U.S. He was happy there. The office is in Washington, D.C. It opened in May."
    assert _units(text) == [
        "He moved to the U.S.",
        "He was happy there.",
        "The office is in Washington, D.C.",
        "It opened in May.",
    ]
    for whole in ("The U.S. Army left.", "THE U.S. THE END.", "Named by J. R. The Elder.", "See e.g. The Times."):
        assert _units(whole) == [whole]


def test_a_time_a_month_or_a_word_that_is_also_an_abbreviation_ends_its_sentence() -> None:
    # "We met at 5 p.m. The talks ran late.", "He sat. Birds sang." and "in the sun. Birds sang." were one unit each:
    # "sat", "sun" and "no" are abbreviations (of Saturday, Sunday, number) as well as words (helper-228).
    text = "We met at 5 p.m. The talks ran late. They resume in Feb. The vote is next. He sat. Birds sang. "
    assert _units(text + "He said no. The door shut.") == [
        "We met at 5 p.m.",
        "The talks ran late.",
        "They resume in Feb.",
        "The vote is next.",
        "He sat.",
        "Birds sang.",
        "He said no.",
        "The door shut.",
    ]
    for whole in ("On Feb. 5 they met at 5 p.m. sharp.", "See fig. 3 and no. 5 here.", "Smith v. Jones was decided."):
        assert _units(whole) == [whole]
    for whole in ("Gen. Patton came.", "Col. Mustard did it.", "See Fig. A1 here.", "Ft. Worth is big."):
        assert _units(whole) == [whole]  # capitalised, a title or a label before its name
    for whole in ("Essays, 2nd ed. Oxford University Press.", "Item no. A123 is lost.", "Talk to rep. Jones today."):
        assert _units(whole) == [whole]  # in lower case too (helper-229)
    assert _units("No. This needs a schema.") == ["No.", "This needs a schema."]


def test_a_section_number_of_several_levels_stays_with_its_heading_or_clause() -> None:
    text = (
        "2.3. Promotions. 2.3.1. The Company will promote the service. 2.3.2. Notwithstanding the above, no fee "
        "is due.\n\n1.1. Version\nThis is version 0.21 of the specification.\n\nIt ends with 1.5. Then more."
    )
    units = _units(text)
    assert units[:3] == [
        "2.3. Promotions.",
        "2.3.1. The Company will promote the service.",
        "2.3.2. Notwithstanding the above, no fee is due.",
    ]
    assert "1.1. Version\nThis is version 0.21 of the specification." in units or "1.1. Version" in units
    assert "1.1." not in units and "It ends with 1.5." in units  # only a label opening a unit is one
    lettered = _units("A.1. Definitions. The terms mean this. II.3. Scope. It applies here.")
    assert lettered == ["A.1. Definitions.", "The terms mean this.", "II.3. Scope.", "It applies here."]


@pytest.mark.parametrize(
    ("text", "heading"),
    [
        ("# Guide\n\n## 13. Governing Law\n\nThis agreement is governed by Norway's law.", "## 13. Governing Law"),
        ("It starts here.\n\nSection 3. Termination\n\nEither party may end it.", "Section 3. Termination"),
        ("It starts here.\n\nARTICLE IV. Miscellaneous\n\nNotices go by post.", "ARTICLE IV. Miscellaneous"),
        ("<h2>1. Overview</h2><p>Falcon was started by Maria.</p>", "<h2>1. Overview</h2>"),
        ("<h2>Step 4. Finish</h2><p>Close the lid.</p>", "<h2>Step 4. Finish</h2>"),
        ("It starts here.\n\n§\u00a012. Scope\n\nIt applies to all.", "§\u00a012. Scope"),
    ],
)
def test_a_numbered_heading_is_one_unit(text: str, heading: str) -> None:
    # Cut at its stop ("## 13." and "Governing Law"), a question about section 13 found the bare number, not the
    # title, nor the text under it.
    assert heading in _units(text)


def test_a_number_after_other_words_still_ends_a_sentence() -> None:
    assert _units("He scored 13. Then he left. We met in Room 12. It was cold.") == [
        "He scored 13.",
        "Then he left.",
        "We met in Room 12.",
        "It was cold.",
    ]
    assert _units("It was a unit mix. Unit mix. Then it ended.")[-1] == "Then it ended."  # "mix" is no numeral
    # Digits that are no decimal numeral (superscripts, circled) ended every command in int()'s ValueError: Python's
    # own documentation writes "2⁵³." (random.html).
    assert _units("Exact up to 2⁵³. Beyond that they round. Footnote ¹. Next. Step ①. Done.") == [
        "Exact up to 2⁵³.",
        "Beyond that they round.",
        "Footnote ¹.",
        "Next.",
        "Step ①.",
        "Done.",
    ]


def test_a_question_about_a_numbered_section_is_shown_its_text() -> None:
    from pearl.context import compress
    from pearl.models import Document

    parts = ["# Service Agreement\n"]
    for n in range(1, 13):
        clauses = " ".join(f"Clause {n}.{k} states that obligation {n * 10 + k} binds both parties." for k in range(8))
        parts.append(f"\n## {n}. Topic{n} Provisions\n\n{clauses}\n")
    parts.append("\n## 13. Governing Law\n\nThis agreement is governed by the laws of Norway.\n")
    index = index_document(Document.from_text("".join(parts)), cache=False, ner=False)
    assert "Norway" in compress(index, "What does section 13 say?", 120).text


def test_numbered_clauses_and_list_items_start_units() -> None:
    text = "2. Term. The term is ten (10) years.\n\nThe following apply:\n(a) the first item;\n(b) the second item."
    units = _units(text)
    assert units[0] == "2. Term."
    assert "The term is ten (10) years." in units
    assert "(a) the first item;" in units
    assert "(b) the second item." in units


def test_an_item_of_a_numbered_list_in_wrapped_text_keeps_its_number() -> None:
    # In a hard-wrapped paragraph, "2." was cut off as a sentence of its own, and its item read without it.
    wrapped = (
        "The committee met on Tuesday to discuss the new policy for the\ndepartment and, after a long debate, agreed "
        "on the following\npoints, which take effect next month and apply to all staff\n\n1. File a report each week"
        "\n2. Reports are due on Friday\n3. Late reports are noted. They count against the team."
    )
    units = _units(wrapped)
    assert units[-4:] == [
        "1. File a report each week",
        "2. Reports are due on Friday",
        "3. Late reports are noted.",
        "They count against the team.",
    ]
    # Lines opening on named labels, one after another: "Step 2." stays with its step, each step a unit.
    steps = ["Step 1. Download the archive", "Step 2. Unpack it here"]
    assert _units("Setup is short.\nStep 1. Download the archive\nStep 2. Unpack it here") == [
        "Setup is short.",
        *steps,
    ]
    assert _units("Do this:\nStep 1. Download the archive\nStep 2. Unpack it here") == ["Do this:", *steps]
    assert _units("Setup is short, as follows.\n\nStep 1. Download the archive\nStep 2. Unpack it here")[1:] == steps
    assert _units("Installation\nStep 1. Download the archive\nStep 2. Unpack it here") == ["Installation", *steps]
    assert _units("CONTENTS\nChapter 1. The Lighthouse\nChapter 2. The Storm") == [
        *("CONTENTS", "Chapter 1. The Lighthouse", "Chapter 2. The Storm")
    ]
    # Nor a paragraph opening on a label, a wrapped reference two lines below (helper-202: cut off its sentence).
    wrapped = "Section 4. Termination. The Licensor may end this\nAgreement as provided in\nSection 5. Either may sue."
    assert _units(wrapped)[-2:] == [
        "The Licensor may end this\nAgreement as provided in\nSection 5.",
        "Either may sue.",
    ]
    # One alone is a wrapped line's start: its sentence ends at its number, as before; so do two that a wrapped
    # paragraph happens to open lines with (helper-201: one unit of three sentences).
    assert _units("The terms are as set out in\nSection 3. The next part is here.") == [
        "The terms are as set out in\nSection 3.",
        "The next part is here.",
    ]
    assert _units(
        "Fees are due as provided in\nSection 4. The Licensor may end it as in\nSection 5. Either may sue."
    ) == [
        "Fees are due as provided in\nSection 4.",
        "The Licensor may end it as in\nSection 5.",
        "Either may sue.",
    ]


def test_hard_wrapped_lines_stay_in_one_paragraph_but_one_line_paragraphs_split() -> None:
    wrapped = (
        "The rain fell on the old town of Avalon while the captain\n"
        "waited for the ship that would never come back to the harbour\n"
        "and the night grew long.\n\nA second paragraph starts here and goes on\nfor a while longer than this."
    )
    seg = segment(wrapped)
    assert len(seg.paragraphs) == 2
    assert wrapped[slice(*seg.sentences[0])].endswith("grew long.")
    long_lines = ("x " * 80 + "end.\n") * 3
    assert len(segment(long_lines).paragraphs) == 3


@pytest.mark.parametrize(
    "line",
    [
        "2024-03-{day:02d} 12:00:00 INFO worker-{n} processed batch {n} in {n} ms",  # a log
        "{n},Ship {n},Owner B{n},17",  # a table's rows, each field after a comma
        "Ship {n}\tOwner B{n}\t{n} EUR",  # tab-separated, starting with a word
    ],
    ids=["log", "csv", "tsv"],
)
def test_the_short_lines_of_logs_and_tables_are_units_not_wrapping(line: str) -> None:
    # Short lines read as wrapped prose: a log's were joined into units of a dozen records, cut inside one.
    lines = [line.format(day=n % 28 + 1, n=n) for n in range(60)]
    text = "\n".join(lines) + "\n"
    assert [text[s:e] for s, e in segment(text).sentences] == lines


def test_a_wrapped_line_continues_its_sentence_where_most_lines_are_long() -> None:
    # Long lines (table rows, one-line paragraphs) make the text read as not hard-wrapped, yet its
    # prose may still wrap: the sentence the answer is in must not be cut at the wrap.
    row = (
        '<tr><td><a href="platform-support/linux.md">x86_64-unknown-linux-gnu</a></td>'
        "<td>64-bit Linux (kernel 3.2+, glibc 2.17+)</td></tr>"
    )
    text = "\n".join(
        [
            *[row] * 12,
            "<p>Targets are identified by their target triple which is the string to inform",
            "the compiler what kind of output should be produced.</p>",
            "The first sentence ends here.",
            "then a lower-case sentence on its own line.",
            "The list follows:",
            "a) the first item",
            "## Installation",  # a short line is no wrapped one: a title, a CSV row, a line of code
            "pip install pearl and you are done",
            "alice,30,paris",
            "bob,41,lyon",
        ]
    )
    seg = segment(text)
    units = [text[s:e] for s, e in seg.sentences]
    assert any("to inform\nthe compiler what kind" in unit for unit in units)
    assert "then a lower-case sentence on its own line." in units
    paragraphs = [text[s:e] for s, e in seg.paragraphs]
    assert "a) the first item" in paragraphs  # a list item is no continuation
    assert {"## Installation", "alice,30,paris", "bob,41,lyon"} <= set(paragraphs)


def test_offsets_are_exact_and_units_trimmed() -> None:
    text = "  First one.   Second one!\n\n\n  Third (3) here?  "
    seg = segment(text)
    for start, end in seg.sentences:
        unit = text[start:end]
        assert unit == unit.strip() and unit
    assert [text[s:e] for s, e in seg.sentences] == ["First one.", "Second one!", "Third (3) here?"]
    assert seg.sentence_paragraph == [0, 0, 1]


def test_long_unit_is_cut_at_clauses_then_spaces_then_anywhere() -> None:
    clause = "the licensee shall pay the fee within thirty days of the invoice"
    text = "; ".join([clause] * 40) + "."
    seg = segment(text, max_chars=300)
    assert len(seg.sentences) > 5
    assert all(e - s <= 300 for s, e in seg.sentences)
    assert seg.continued[0] is False and all(seg.continued[1:])
    no_space = "a" * 2000
    pieces = segment(no_space, max_chars=300).sentences
    assert pieces[0] == (0, 300) and pieces[-1][1] == 2000
    assert "".join(no_space[s:e] for s, e in pieces) == no_space


@pytest.mark.parametrize(
    ("text", "units"),
    [
        (
            "ذهب الولد إلى المدرسة. كانت السماء صافية؟ ثم عاد.",
            ["ذهب الولد إلى المدرسة.", "كانت السماء صافية؟", "ثم عاد."],
        ),
        ("הילד הלך לבית הספר. השמיים היו בהירים.", ["הילד הלך לבית הספר.", "השמיים היו בהירים."]),
        ("लड़का स्कूल गया। आसमान साफ था।", ["लड़का स्कूल गया।", "आसमान साफ था।"]),
        (
            "서울은 한국의 수도입니다. 부산은 항구 도시입니까? 안 돼. 집에 가.",
            ["서울은 한국의 수도입니다.", "부산은 항구 도시입니까?", "안 돼.", "집에 가."],
        ),
    ],
    ids=["arabic", "hebrew", "hindi", "korean"],
)
def test_scripts_without_capitals_split(text: str, units: list[str]) -> None:
    # A sentence had to start with a capital: Arabic, Hebrew, Hindi and Korean text was one unit a paragraph (and a
    # Korean word of one syllable before a stop, "돼.", read as an initial).
    assert _units(text) == units


def test_a_closing_quote_set_apart_in_pre_tokenized_text_ends_its_sentence() -> None:
    # "it is over . '' The crowd left ." was one unit: a quote standing apart hid the stop before it.
    assert _units("He said `` it is over . '' The crowd left .") == ["He said `` it is over . ''", "The crowd left ."]
    assert _units("It is over . ” Then we left .") == ["It is over . ”", "Then we left ."]


def test_cjk_full_stops_split() -> None:
    assert _units("北京是中国的首都。上海是最大的城市。") == ["北京是中国的首都。", "上海是最大的城市。"]
    # After a line of English of 200 characters or more too: its stops were read only where a paragraph opened CJK.
    english = "Source: a line of English about the capital cities of Asia, written for the reader who wants it, " * 3
    units = _units(english + "北京是中国的首都。上海是最大的城市。")
    assert units[-2].endswith("it, 北京是中国的首都。") and units[-1] == "上海是最大的城市。"


def test_layout_marks_headings_sections_toc_and_furniture() -> None:
    text = (
        "TABLE OF CONTENTS\n\nI. INSURANCE . . . . . . . . . . 12\n\nSUBLEASE . . . . . . . . M\n\n"
        "XIV. INSURANCE\n\n"
        "5.2 Revenue Sharing. The Company shall receive half of all revenue.\n\n"
        "Page footer text\n\nThe policy shall name us.\n\nPage footer text\n\nMore text here.\n\nPage footer text"
    )
    seg = segment(text)
    layout = analyse_layout(text, seg.sentences, seg.sentence_paragraph, seg.continued)
    units = [text[s:e] for s, e in seg.sentences]
    toc = units.index("I. INSURANCE . . . . . . . . . . 12")
    assert layout.flags[toc] & SentenceFlag.TOC
    assert layout.flags[units.index("SUBLEASE . . . . . . . . M")] & SentenceFlag.TOC  # a list of exhibits
    section = units.index("XIV. INSURANCE")
    assert layout.flags[section] & SentenceFlag.HEADING
    revenue = units.index("The Company shall receive half of all revenue.")
    assert layout.heading[revenue] == units.index("5.2 Revenue Sharing.")
    assert layout.section[revenue] == section
    assert layout.flags[units.index("Page footer text")] & SentenceFlag.BOILERPLATE
    assert is_heading("Results") and not is_heading('"Korvin!"') and not is_heading("He ran to the door and away.")


def test_a_division_label_alone_is_a_heading_and_its_section_runs_on() -> None:
    text = (
        "The Licensee pays the fee each quarter.\n\nAppendix A\n\n"
        "Each report lists the units sold in the quarter.\n\nPART II\n\nThe term is five years."
    )
    index = index_document(text, cache=False, ner=False)
    units = [index.sentence_text(i) for i in range(index.sentence_count)]
    appendix, part = units.index("Appendix A"), units.index("PART II")
    assert index.sent_flags[appendix] & SentenceFlag.HEADING and index.sent_flags[part] & SentenceFlag.HEADING
    assert index.sent_section[units.index("Each report lists the units sold in the quarter.")] == appendix
    assert index.sent_section[units.index("The term is five years.")] == part
    # A label alone without its division word, or a division word in a sentence, is not a heading.
    assert not is_heading("12.") and not is_heading("A.") and not is_heading("Section 3 of")


def test_underlined_titles_head_their_sections_and_code_comments_and_badges_do_not() -> None:
    text = (
        "|Build-Status| |Coverage|\n\nResponses\n=========\n\nA library for mocking requests.\n\n"
        "Assertions on declared responses\n--------------------------------\n\n"
        "When used as a context manager, it raises an error.\n\n"
        "    # After the block, printing is restored\n    print('Done!')\n\n"
        "This can be disabled by passing a flag.\n\n"
        "```python\nx = 1\n\n# Install With Pip\n\ny = 2\n```\n\nThe end of the guide.\n"
    )
    index = index_document(text, cache=False, ner=False)
    units = [index.sentence_text(i) for i in range(index.sentence_count)]
    headings = [u for i, u in enumerate(units) if index.sent_flags[i] & SentenceFlag.HEADING]
    assert headings == ["Responses\n=========", "Assertions on declared responses\n--------------------------------"]
    title = units.index(headings[1])
    assert index.sent_section[units.index("This can be disabled by passing a flag.")] == title
    assert index.sent_section[units.index("The end of the guide.")] == title


def test_markdown_headings_without_blank_lines_around_them_head_their_sections() -> None:
    # "# Guide\n## Install\nRun setup.exe as admin." was one unit, and each section of a handbook so written lost its
    # heading; a page's "<h2>Install</h2>Run setup.exe" reads the same (helper-215).
    body = "Requests go to your manager in writing, at least two weeks before they start."
    wrapped = (
        f"# Employee Handbook\n## Vacation\n{body}\nQuestions go to\nthe office.\n## Sick Leave\nCall in by nine.\n"
    )
    index = index_document(wrapped, cache=False, ner=False)
    units = [index.sentence_text(i) for i in range(index.sentence_count)]
    headings = ["# Employee Handbook", "## Vacation", "## Sick Leave"]
    assert units == [*headings[:2], body, "Questions go to\nthe office.", headings[2], "Call in by nine."]
    assert [index.sent_section[i] for i in (2, 3, 5)] == [1, 1, 4]
    assert all(index.sent_flags[i] & SentenceFlag.HEADING for i in (0, 1, 4))
    page = index_document("<h2>Install</h2>Run setup.exe as admin.<h2>Remove</h2>Use the control panel.", cache=False)
    assert [page.sent_section[i] for i in range(page.sentence_count)] == [-1, 0, -1, 2]
    # Not a "#" glued to its word, nor a comment in a code block.
    for text in (
        "We use #hashtags here.\n#include <stdio.h> is C.\nAnd that is all.",
        # After no finished sentence: a snippet's comments, a line of prose opening with a number (helper-218).
        "Configure it like this:\n  # port to listen on\n  port = 8080\n  # host name\n  host = example.org\nDone.",
        "We filed the bug as ticket\n# 42 in the tracker and moved on\nto the next one.",
        "Intro.\n\t# install, indented by a tab as code is\nnext line here.",
        "Run this:\n\n```sh\n# install the deps\npip install foo\n```\n",
        "Run this:\n\n    # install the deps\n    pip install foo\n",
    ):
        index = index_document(text, cache=False, ner=False)
        assert not any(index.sent_flags[i] & SentenceFlag.HEADING for i in range(index.sentence_count)), text


def test_a_table_row_is_one_unit_whatever_full_stops_its_cells_hold(tmp_path: Path) -> None:
    # "| Basic | For individuals. No support. |" was cut after "individuals.": "No support. |" stood without its row's
    # key, and compression showed it alone (helper-215). A page's table reads the same.
    rows = ["| Plan | Notes |", "| Basic | For individuals. No support. |", "| Pro | Teams. Support by mail. |"]
    text = "\n".join([rows[0], "|---|---|", *rows[1:], "After the table. Two sentences."])
    assert _texts(index_document(text, cache=False, ner=False)) == [*rows, "After the table.", "Two sentences."]
    page = "<table><tr><th>Plan</th><th>Notes</th></tr><tr><td>Basic</td><td>For individuals. No support.</td></tr>"
    (tmp_path / "plans.html").write_text(page + "</table>", encoding="utf-8")
    assert "| Basic | For individuals. No support. |" in _texts(index_document(load_document(tmp_path / "plans.html")))
    # Bars inside prose are no table, nor is a line of prose alone that opens and ends with one; a row ends its unit
    # (helper-218: "|x| is small. So |y| ..." was one unit, and a row ran into the sentence after it).
    assert _units("Pipes | like this. And more | here. Yes.") == ["Pipes | like this.", "And more | here.", "Yes."]
    assert _units("|x| is small. So |y| is large too. Both |z|\nAnd then.")[:2] == [
        "|x| is small.",
        "So |y| is large too.",
    ]
    assert _units(f"Plans:\n{rows[1]}\n|---|---|\n{rows[2]}\nPrices exclude VAT. Fine.") == [
        "Plans:",
        rows[1],
        rows[2],
        "Prices exclude VAT.",
        "Fine.",
    ]


def test_markdown_items_marked_with_a_plus_are_units_and_no_headings() -> None:
    # "+ item" is Markdown's third list mark: a list so written was one unit (helper-215).
    index = index_document("Packing:\n+ Warm Coat\n+ Boots\n+ Map\n\nThe trip starts at dawn.", cache=False, ner=False)
    assert _texts(index) == ["Packing:", "+ Warm Coat", "+ Boots", "+ Map", "The trip starts at dawn."]
    assert not any(index.sent_flags[i] & SentenceFlag.HEADING for i in range(1, 4))


def test_a_line_of_tildes_in_plain_text_leaves_the_headings_after_it_alone() -> None:
    heading = SentenceFlag.HEADING
    body = "The parties agree to the terms below and each shall perform them."
    text = (
        f"ARTICLE 1 DEFINITIONS\n\n{body}\n\n~~~~~~~~~~~~~~~~~~~~\n\nARTICLE 2 PAYMENT TERMS\n\n{body}\n\n"
        f"Article 3 Termination Rights\n\n{body}"
    )
    index = index_document(text, cache=False, ner=False)
    headings = [index.sentence_text(i) for i in range(index.sentence_count) if index.sent_flags[i] & heading]
    assert headings == ["ARTICLE 1 DEFINITIONS", "ARTICLE 2 PAYMENT TERMS", "Article 3 Termination Rights"]
    # A four-backtick fence is not closed by a three-backtick line: the "# " line in it stays code.
    code = f"# Guide\n\n{body}\n\n````\n```\n\n# Not A Title\n\n```\n````\n\n# Usage\n\n{body}"
    index = index_document(code, cache=False, ner=False)
    headings = [index.sentence_text(i) for i in range(index.sentence_count) if index.sent_flags[i] & heading]
    assert headings == ["# Guide", "# Usage"]


def test_a_sentence_said_again_under_each_heading_is_content_not_furniture() -> None:
    # A reference lists old options, each with the same one-line body; its running footer repeats too.
    sections = "".join(
        f"{name}\n\nThis option is deprecated and does nothing.\n\nACME Compiler Manual, revision 4\n\n"
        for name in ("Archiver", "No Stack Check", "Soft Float")
    )
    text = "Codegen Options\n\nAll of these options are passed with the -C flag.\n\n" + sections
    seg = segment(text)
    layout = analyse_layout(text, seg.sentences, seg.sentence_paragraph, seg.continued)
    units = [text[s:e] for s, e in seg.sentences]
    body = [i for i, unit in enumerate(units) if unit == "This option is deprecated and does nothing."]
    footer = [i for i, unit in enumerate(units) if unit == "ACME Compiler Manual, revision 4"]
    assert len(body) == len(footer) == 3
    assert all(layout.flags[i] & SentenceFlag.HEADING for i in (b - 1 for b in body))
    assert not any(layout.flags[i] & SentenceFlag.BOILERPLATE for i in body)
    assert all(layout.flags[i] & SentenceFlag.BOILERPLATE for i in footer)
    # A running header that reads as a sentence, after a footer that reads as a title ("Page 2 of 3"),
    # follows the same footer each time: it stays furniture.
    pages = "".join(
        f"Confidential treatment has been requested for portions of this exhibit.\n\nClause {n} says this.\n\n"
        f"Page {n} of 4\n\n"
        for n in range(1, 5)
    )
    seg = segment(pages)
    layout = analyse_layout(pages, seg.sentences, seg.sentence_paragraph, seg.continued)
    units = [pages[s:e] for s, e in seg.sentences]
    header = [i for i, unit in enumerate(units) if unit.startswith("Confidential")]
    assert len(header) == 4 and all(layout.flags[i] & SentenceFlag.BOILERPLATE for i in header)


def test_a_form_feed_is_a_page_break_that_ends_its_paragraph() -> None:
    # `pdftotext` ends each page with a form feed, which opens the next page's first line: "- 1 -\n\fHYDROLOGY ..." was
    # one unit, neither a page number nor a running header, and wrapped prose ran on over the page break.
    body = "The basin was measured at station {n} in the spring of\nthat year, and the levels were written down"
    pages = [f"HYDROLOGY REPORT    Confidential\n\n{body.format(n=n)}\n\n- {n} -\n" for n in range(1, 5)]
    text = "\f".join(pages)
    index = index_document(text, cache=False, ner=False)
    units = [index.sentence_text(i) for i in range(index.sentence_count)]
    assert units.count("- 2 -") == 1 and units.count("HYDROLOGY REPORT    Confidential") == 4
    furniture = [i for i, unit in enumerate(units) if unit.startswith(("- ", "HYDROLOGY"))]
    assert len(furniture) == 8 and all(index.sent_flags[i] & SentenceFlag.BOILERPLATE for i in furniture)
    # A page break inside a line, or a sentence, ends its paragraph all the same.
    assert _units("It ran on to the next\fpage of the report.") == ["It ran on to the next", "page of the report."]
    assert len(segment("One page.\n\fTwo page.").paragraphs) == 2


def test_a_passage_copied_three_times_is_content_and_its_names_stay_on_the_sheet() -> None:
    # A draft and its revisions in one folder, or a text pasted three times: every short sentence was found three times
    # and read as page furniture, so the entity sheet kept 12 of the story's 71 names.
    story = (SAMPLE_DIR / "the_keeper_of_tren_light.txt").read_text(encoding="utf-8")
    once = index_document(story, cache=False)
    thrice = index_document("\n\n".join([story] * 3), cache=False)
    assert not any(flags & SentenceFlag.BOILERPLATE for flags in thrice.sent_flags[: once.sentence_count])
    assert {e.name for e in thrice.entities} >= {e.name for e in once.entities if e.mentions > 2}
    # A sidebar of one item over and over ("- Shl<i32>", once per type) is no passage: still furniture.
    items = "\n".join(f"- Add<{t}>" for t in ("i8", "i16", "i32", "i64") for _ in range(12))
    text = f"The integer types.\n\n{items}\n\nThe end of the page."
    seg = segment(text)
    layout = analyse_layout(text, seg.sentences, seg.sentence_paragraph, seg.continued)
    units = [text[s:e] for s, e in seg.sentences]
    sidebar = [i for i, unit in enumerate(units) if unit.startswith("- Add")]
    assert len(sidebar) == 48 and all(layout.flags[i] & SentenceFlag.BOILERPLATE for i in sidebar)
    # Nor is a menu of a dozen items atop each page, a small part of what the pages say.
    menu = "\n".join(
        f"- {item}" for item in "Home News Sport Weather Travel Music Film Books Food Shop Jobs Help".split()
    )
    pages = "".join(
        f"{menu}\n\nPage {n}. "
        + " ".join(f"Sentence {k} of page {n} tells its own part of the story." for k in range(8))
        + "\n\n"
        for n in range(1, 4)
    )
    seg = segment(pages)
    layout = analyse_layout(pages, seg.sentences, seg.sentence_paragraph, seg.continued)
    items = [i for i, (s, e) in enumerate(seg.sentences) if pages[s:e].startswith("- ")]
    assert len(items) == 36 and all(layout.flags[i] & SentenceFlag.BOILERPLATE for i in items)


def test_terms_stem_and_drop_stop_words() -> None:
    assert terms("The Licensee's renewals were terminated") == ["license", "renew", "termin"]
    assert stem("extension") == stem("extended") == "extend"
    assert stem("provisions") == stem("provide")
    assert term_bases("sublicens", {"licens"}) == ["licens"]
    assert term_bases("subtle", {"tle"}) == []  # remainder too short to be a word of its own
    # Porter leaves "competition" at "competit", "compete" at "compet": they meet through the base.
    assert stem("competition") == "competit" and stem("compete") == "compet"
    assert term_bases("noncompetit", {"compet"}) == ["compet"]
    assert query_variants("compet", {"competit"}) == ["competit"]
    assert query_variants("noncompet", {"noncompetit"}) == ["noncompetit"]
    # "who founded" meets "Founder", "who invented" "inventor"; "license" never meets "Licensor".
    assert query_variants("found", {"founder"}, agents=True) == ["founder"]
    assert query_variants("invent", {"inventor"}, agents=True) == ["inventor"]
    assert query_variants("licens", {"licensor"}) == []
    assert terms("non-U.S. persons") == ["non", "person"]  # joined only to a word of its own


def test_query_boilerplate_and_option_labels_are_removed() -> None:
    question = (
        'Highlight the parts (if any) of this contract related to "Renewal Term" that should be reviewed by a '
        "lawyer. Details: What is the renewal term after the initial term expires?"
    )
    cleaned = clean_query(question)
    assert "Highlight" not in cleaned and "lawyer" not in cleaned and "Details" not in cleaned
    weights = query_terms(question)
    assert weights["renew"] == 2.0 and "highlight" not in weights and "lawyer" not in weights
    options = query_terms("Which of the following is true?\n\n (A) Korvin left\n (B) Tr'en stayed")
    assert "korvin" in options and "a" not in options and "b" not in options


PRETOKENIZED_PAGE = (
    "<H1> Charles Darwin </H1> <Table> <Tr> <Th> Born </Th> <Td> Charles Robert Darwin 12 February 1809 "
    "Shrewsbury , Shropshire , England </Td> </Tr> <Tr> <Th> Died </Th> <Td> 19 April 1882 ( aged 73 ) Down , "
    "Kent , England </Td> </Tr> </Table> <P> Darwin was an English naturalist , geologist and biologist . His "
    "theory of evolution is now widely accepted . </P> <P> He published it in 1859 . </P> INSURANCE . . . . 12"
)


def test_pretokenized_text_and_markup_are_split_into_units() -> None:
    units = _units(PRETOKENIZED_PAGE)
    assert units[0] == "<H1> Charles Darwin </H1>"
    # A table row is one unit, cells and all; markup alone never makes a unit.
    assert any(u.startswith("<Table> <Tr> <Th> Born </Th>") and u.endswith("</Tr>") for u in units)
    # Closing markup stays with what it closes.
    assert "<Tr> <Th> Died </Th> <Td> 19 April 1882 ( aged 73 ) Down , Kent , England </Td> </Tr> </Table>" in units
    assert all(re.sub(r"<[^>]+>", "", u).strip() for u in units)
    # A stop standing alone ends a pre-tokenized sentence; a dot leader does not.
    assert "His theory of evolution is now widely accepted . </P>" in units
    assert units[-1] == "INSURANCE . . . . 12"


def test_a_sentence_is_measured_as_a_reader_sees_it_not_by_its_tags() -> None:
    # A sentence as documentation generators write it: every name a link whose title holds a colon and a
    # full stop. Its tags run it past the unit's length; as read, it is one short sentence.
    def link(name: str) -> str:
        return (
            f'<a class="reference internal" href="../library/operator.html#operator.{name}" '
            f'title="operator: Functions corresponding to the standard operators. See {name}, its arguments and '
            f'results."><code class="xref '
            f'py py-func docutils literal notranslate"><span class="pre">{name}()</span></code></a>'
        )

    sentence = (
        f"The operator module has {link('itemgetter')}, {link('attrgetter')}, and a {link('methodcaller')} function."
    )
    code = "".join(
        f'<span class="n">x{i}</span><span class="o">=</span><span class="mi">{i}</span>\n' for i in range(40)
    )
    text = f"<html><body><p>Sorting is easy.</p>\n<p>{sentence}</p>\n<pre>{code}</pre>\n<p>The end.</p></body></html>"
    assert len(sentence) > 900
    index = index_document(text, cache=False, ner=False)
    units = [index.sentence_text(i) for i in range(index.sentence_count)]
    assert f"<p>{sentence}</p>" in units, units
    # A code block of 40 short lines in hundreds of tags is one unit of ~200 tokens as read, not several.
    assert any(">x0<" in unit and ">x39<" in unit for unit in units), units
    assert not any(index.sent_flags[i] & SentenceFlag.CONTINUATION for i in range(index.sentence_count))


def test_only_markup_is_measured_without_its_tags_and_a_run_of_tags_is_still_cut() -> None:
    from pearl.context._sentences import DEFAULT_MAX_CHARS, RAW_FACTOR
    from pearl.tokens import count_tokens

    # In plain text "a<b ... c>d" is text: its sentences end where they did, its units keep the token cap.
    said = "We know that a<b. Then c>d holds for all of them. Next sentence here."
    assert len(segment(said).sentences) == 3
    plain = index_document("If x<y and the sequence is increasing then y>z; " * 45, cache=False, ner=False)
    assert plain.sentence_count > 1 and max(plain.sent_tokens) <= 200
    # In a page, a code block's references count as the characters they stand for: 30 prompts of ">>> x = 1"
    # are one unit of ~150 tokens as read (815 as written).
    code = "".join('<span class="gp">&gt;&gt;&gt; </span><span class="n">x</span> = 1\n' for _ in range(30))
    page = index_document(
        f"<html><body><p>Intro.</p><pre>{code}</pre><p>End.</p></body></html>", cache=False, ner=False
    )
    assert sum("x" in page.sentence_text(i) for i in range(page.sentence_count)) == 1
    # A run of tags alone shows nothing, yet no unit of it is longer than RAW_FACTOR units' worth of text.
    tags = "<html><body><p>Hello there.</p>" + "<b></b>" * 100_000 + "<p>The end.</p></body></html>"
    units = segment(tags, max_tokens=200, count=count_tokens, markup=True).sentences
    assert max(end - start for start, end in units) <= RAW_FACTOR * (DEFAULT_MAX_CHARS + 8)


# A web page flattened to one line, as web-page QA sets store it.
FLAT_PAGE = (
    "Two Weeks Notice - wikipedia <H1> Two Weeks Notice </H1> Jump to : navigation , search <Table> <Tr> <Th> "
    "Directed by </Th> <Td> Marc Lawrence </Td> </Tr> <Tr> <Th> Starring </Th> <Td> <Ul> <Li> Sandra Bullock </Li> "
    "<Li> Hugh Grant </Li> </Ul> </Td> </Tr> <Tr> <Th> Budget </Th> <Td> $60 million </Td> </Tr> </Table> <P> Two "
    "Weeks Notice is a 2002 American romantic comedy film . It stars Hugh Grant and Sandra Bullock . </P> <H2> Cast "
    "( edit ) </H2> <Ul> <Li> Sandra Bullock as Lucy Kelson </Li> <Li> Hugh Grant as George Wade </Li> </Ul> <H2> "
    "Reception ( edit ) </H2> <H3> Box office </H3> <P> The film opened at number two , earning $14.3 million in its "
    "opening weekend . </P> <P> It earned $199 million worldwide . </P>"
)


def test_a_flattened_page_keeps_its_paragraphs_and_headings() -> None:
    seg = segment(FLAT_PAGE)
    units = _units(FLAT_PAGE)

    def paragraph(part: str) -> int:
        return next(seg.sentence_paragraph[i] for i, unit in enumerate(units) if part in unit)

    assert len(seg.paragraphs) == 11
    # A table is one paragraph, the list inside one of its cells included; a list is one; each <P> is one.
    assert paragraph("Budget") == paragraph("Directed by") == paragraph("<Li> Hugh Grant </Li>")
    assert paragraph("Hugh Grant as George Wade") == paragraph("Sandra Bullock as Lucy Kelson")
    assert paragraph("Hugh Grant as George Wade") != paragraph("It stars Hugh Grant")
    assert len({paragraph("It earned $199 million"), paragraph("opened at number two"), paragraph("Box office")}) == 3
    # Markup says what is a heading: <H2>/<H3> are, a list item or a table row is not.
    assert is_heading("<H2> Cast ( edit ) </H2>") and is_heading("<H3> Box office </H3>")
    assert not is_heading("<Ul> <Li> Sandra Bullock as Lucy Kelson </Li>")
    assert not is_heading("<Tr> <Th> Starring </Th> <Td>")


# An infobox as web-page QA sets store it: header cells hold paragraphs, a row of header cells
# alone ("Population") heads the rows under it.
INFOBOX = (
    "<Table> <Tr> <Th> Government </Th> <Td> Parliamentary monarchy </Td> </Tr> <Tr> <Th> <P> • Prime Minister "
    "</P> </Th> <Td> Jane Roe </Td> </Tr> <Tr> <Th> Population </Th> </Tr> <Tr> <Th> <P> • 2019 estimate </P> "
    "</Th> <Td> 4,933,210 [5] </Td> </Tr> <Tr> <Th> <P> • Density </P> </Th> <Td> 18.2 / km 2 </Td> </Tr> "
    "</Table> <P> Examplia is an island country . It has two main islands . </P>"
)


EXIT_CODES = """EXIT CODES
       There are a bunch of different error codes.

       27     Out of memory. A memory allocation request failed.

       28     Operation timeout. The specified time-out period was reached ac-
              cording to the conditions.

       -k, --insecure
              Allow insecure server connections. Every transfer skips the check.

This    line  is  justified  prose.  It has wide gaps
but its lines start at one margin.
"""


def test_a_section_numbered_on_two_levels_is_a_heading_in_any_case() -> None:
    for title in ("2.1 Data collection", "4.11. How do I match only the first occurrence of a pattern?"):
        assert is_heading(title), title
    for sentence in ("2.5 million people live there", "1.1 The term of this Agreement is five years.", "1. Install it"):
        assert not is_heading(sentence), sentence


def test_a_two_column_entry_is_headed_by_its_label() -> None:
    # A manual page's exit code: "28" and its title, then a sentence the question's words never reach.
    index = index_document(EXIT_CODES, cache=False, ner=False)
    text = _texts(index)
    title = text.index("28     Operation timeout.")
    timeout = next(i for i, t in enumerate(text) if t.startswith("The specified time-out"))
    assert index.sent_heading[timeout] == title
    one_line = next(i for i, t in enumerate(text) if t.startswith("A memory allocation"))
    assert text[index.sent_heading[one_line]].startswith("27")
    # Prose with wide gaps is no entry (its lines start at one margin), nor a label on its own line.
    assert index.sent_heading[next(i for i, t in enumerate(text) if t.startswith("It has wide gaps"))] == -1
    assert index.sent_heading[next(i for i, t in enumerate(text) if t.startswith("Every transfer"))] == -1
    # As `man curl | col -b` saves it: the lines under an entry indented with a tab.
    saved = "       28     Operation timeout. The specified time-out period was reached ac-\n\t      cording to them.\n"
    index = index_document(saved, cache=False, ner=False)
    assert index.sent_heading[1] == 0
    # A line of prose alone with a wide gap after its first word, a Markdown list item: no entries.
    for alone in (
        "The   committee met on Tuesday. It approved the budget.\n\nLater it rained. Nobody came.\n",
        "-   Install the package. It pulls numpy. And more text that is\n    wrapped under it.\n",
    ):
        assert all(h == -1 for h in index_document(alone, cache=False, ner=False).sent_heading), alone
    # So the question finds the sentence that answers it.
    chosen = compress(index, "What does exit code 28 mean?", 60)
    assert "The specified time-out period" in chosen.text


def test_a_table_row_is_one_unit_and_a_header_row_heads_the_rows_under_it() -> None:
    units = _units(INFOBOX)
    assert "<Tr> <Th> <P> • Prime Minister </P> </Th> <Td> Jane Roe </Td> </Tr>" in units
    assert "<Tr> <Th> <P> • 2019 estimate </P> </Th> <Td> 4,933,210 [5] </Td> </Tr>" in units
    index = index_document(INFOBOX, cache=False, ner=False)
    text = _texts(index)
    population = text.index("<Tr> <Th> Population </Th> </Tr>")
    assert index.sent_heading[population + 1] == index.sent_heading[population + 2] == population
    assert index.sent_heading[text.index("<Tr> <Th> <P> • Prime Minister </P> </Th> <Td> Jane Roe </Td> </Tr>")] == -1
    assert index.sent_heading[text.index("<P> Examplia is an island country .")] != population
    # A row too long to be one unit is still cut at its block markup, and its first piece heads nothing.
    cell = " ".join(f"<P> Fact number {i} is stated here . </P>" for i in range(30))
    assert len(_units(f"<Table> <Tr> <Td> {cell} </Td> </Tr> </Table>")) > 1
    long_row = (
        f"<Table> <Tr> <Th> <P> Notes </P> </Th> <Td> {cell} </Td> </Tr> <Tr> <Th> Born </Th> <Td> 1950 </Td> </Tr>"
    )
    assert all(h == -1 for h in index_document(long_row, cache=False, ner=False).sent_heading)
    # A header row heads rows only: not the prose after its table.
    after = (
        "<Table> <Tr> <Th> Population </Th> </Tr> <Tr> <Td> 2018 </Td> </Tr> </Table> The city grew . It has a port ."
    )
    index = index_document(after, cache=False, ner=False)
    assert index.sent_heading[1] == 0 and index.sent_heading[2:] == [-1] * (index.sentence_count - 2)


def test_a_list_of_sources_is_flagged_but_notes_are_content() -> None:
    page = (
        "<H1> Examplia </H1> <P> Examplia is an island country . </P> <H2> Notes [ edit ] </H2> <P> The census "
        'counts residents only . </P> <H2> References [ edit ] </H2> <Ol> <Li> ^ Smith , J . ( 2019 ) . " The '
        'population of Examplia " . Island Review . </Li> </Ol> <H2> External links </H2> <Ul> <Li> Examplia '
        "official site </Li> </Ul>"
    )
    index = index_document(page, cache=False, ner=False)
    text = _texts(index)
    flagged = [t for t, f in zip(text, index.sent_flags, strict=True) if f & SentenceFlag.REFERENCES]
    assert flagged == text[text.index("<H2> References [ edit ] </H2>") :], flagged
    assert "<Ul> <Li> Examplia official site </Li> </Ul>" in flagged
    # It ends at the next title of any kind; "Sources" may be content (a river's, a study's).
    contract = (
        "1.1 References\n\nReferences to Sections are to this Agreement.\n\n2. Payment. The Licensee pays at once."
    )
    flags = index_document(contract, cache=False, ner=False).sent_flags
    assert flags[0] & SentenceFlag.REFERENCES and not flags[-1] & SentenceFlag.REFERENCES
    river = index_document("<H2> Sources </H2> <P> The river rises in the Alps . </P>", cache=False, ner=False)
    assert not any(f & SentenceFlag.REFERENCES for f in river.sent_flags)
    # Its authors and titles are not entities of the document.
    sources = " ".join(f"<Li> ^ Smith , J . ( {year} ) . Island Review . </Li>" for year in (2019, 2020, 2021))
    index = index_document(page.replace("</Ol>", f"{sources} </Ol>"), cache=False, ner=False)
    assert not {"Review", "Island Review", "2020"} & {entity.name for entity in index.entities}


def test_a_flattened_pages_sections_follow_its_headings() -> None:
    index = index_document(FLAT_PAGE, cache=False, ner=False)
    text = _texts(index)
    box_office = text.index("<H3> Box office </H3>")
    cast = text.index("<H2> Cast ( edit ) </H2>")
    assert index.sent_section[text.index("<P> It earned $199 million worldwide . </P>")] == box_office
    assert index.sent_section[text.index("<Li> Hugh Grant as George Wade </Li> </Ul>")] == cast


def test_markup_structure_survives_an_unclosed_table_and_prose_about_tags_stays_prose() -> None:
    # A page cut short leaves its table open; the headings after it still start paragraphs.
    page = "<Table> <Tr> <Td> x </Td> </Tr> <H2> Plot </H2> <P> He runs . </P> <H2> Cast </H2> <P> Ann . </P>"
    units = _units(page)
    assert "<H2> Plot </H2>" in units and "<H2> Cast </H2>" in units
    assert len(segment(page).paragraphs) == 5
    # Headings wrapped in other markup, or never closed, are headings.
    assert is_heading("<Div> <H2> Plot </H2>") and is_heading("<H2> Plot </H2> </Div>") and is_heading("<H2> Plot")
    # Prose that names a tag is not markup: one paragraph.
    prose = "Use the <p> tag to start a paragraph. Close it when the paragraph ends."
    assert len(segment(prose).paragraphs) == 1
    # Markup around CJK text never makes a unit of markup alone.
    cjk = "<P> 東京は大きい。 </P> <P> 大阪も。 </P>"
    assert all(re.sub(r"<[^>]+>", "", cjk[s:e]).strip() for s, e in segment(cjk).sentences)


def test_a_chat_logs_messages_and_a_subtitles_cues_are_units() -> None:
    # Short chat lines were read as wrapped prose, cut at commas into units of several messages; a subtitle's cue
    # number made half its lines "numbered", so each line of a cue was a unit and a citation half a sentence.
    chat = "\n".join(f"[2024-04-04 09:{m:02d}] <{'bob' if m % 2 else 'ann'}> ok, see you" for m in range(40))
    chat += "\n[2024-04-04 10:00] <dmitri> decision: we're going with Postgres 16 for the ledger, not CockroachDB"
    assert (
        _units(chat)[-1]
        == "[2024-04-04 10:00] <dmitri> decision: we're going with Postgres 16 for the ledger, not CockroachDB"
    )
    assert len(_units(chat)) == 41
    cues = "\n\n".join(
        f"{n}\n00:00:{n:02d},080 --> 00:00:{n + 1:02d},649\n"
        f"My brother Henrik sold the farm {n}\nto the Van Dorens in 1987."
        for n in range(1, 30)
    )
    one_line = "\n\n".join(
        f"{n}\n00:00:{n:02d},080 --> 00:00:{n + 1:02d},649\nThe farm was sold in {n}." for n in range(1, 30)
    )
    assert len(_units(one_line)) == 29  # cues of one line each: three units a cue before
    units = _units(cues)
    assert len(units) == 29 and all(
        u.endswith("sold the farm " + u.split()[0] + "\nto the Van Dorens in 1987.") for u in units
    )


def test_dates_and_abbreviations_of_german_and_french_end_no_sentence() -> None:
    # "vom 3. bis 17." and "August wegen ..." were two units: a citation gave the closing without its month.
    german = (
        "Die Kantine bleibt vom 3. bis 17. August wegen Umbauarbeiten geschlossen. Der Vertrag endet am "
        "31. Dezember 2025. Gemäß Art. 5 Abs. 2 DSGVO ist das zulässig, vgl. Nr. 4 der Anlage."
    )
    assert _units(german) == [
        "Die Kantine bleibt vom 3. bis 17. August wegen Umbauarbeiten geschlossen.",
        "Der Vertrag endet am 31. Dezember 2025.",
        "Gemäß Art. 5 Abs. 2 DSGVO ist das zulässig, vgl. Nr. 4 der Anlage.",
    ]
    assert _units("Voir l'art. 12 du règlement. C'est clair.") == ["Voir l'art. 12 du règlement.", "C'est clair."]
    # English: a month's name opens a sentence after a number; "env" and "abs" are words.
    assert _units("He scored 13. August came. Turn to page 7. September starts. Copy it into .env. Then go.") == [
        "He scored 13.", "August came.", "Turn to page 7.", "September starts.", "Copy it into .env.", "Then go."
    ]  # fmt: skip


@pytest.mark.parametrize("address", ["li.wei@example.com", "p.raman@example.org", "tr.ops@example.net"])
def test_an_address_in_angle_brackets_is_no_tag(address: str) -> None:
    # "<li.wei@example.com>" read as an <li> tag cut the sentence before it (an e-mail's From: and Cc: lines too).
    line = f"Please contact Li Wei <{address}> about the invoice. The invoice is late."
    assert _units(line) == [f"Please contact Li Wei <{address}> about the invoice.", "The invoice is late."]
    assert _units("<ul><li>First item.</li><li>Second item.</li></ul>", 900) != [
        "<ul><li>First item.</li><li>Second item.</li></ul>"
    ]  # a tag is still a tag


def test_a_table_of_contents_without_dot_leaders_is_no_heading() -> None:
    contract = "\n\n".join(
        [
            "LICENSE AGREEMENT",
            "ARTICLE 1 Definitions 2",
            "ARTICLE 2 Licenses 5",
            "ARTICLE 3 Payments 9",
            "ARTICLE 1 DEFINITIONS",
            "Affiliate means any entity that controls a party.",
            "ARTICLE 2 LICENSES",
            "Licensor grants Licensee a license to the patents.",
            "ARTICLE 3 PAYMENTS",
            "Licensee pays a royalty of five percent.",
        ]
    )
    index = index_document(contract, cache=False, ner=False)
    text = _texts(index)
    flags = [index.sent_flags[text.index(line)] for line in ("ARTICLE 1 Definitions 2", "ARTICLE 3 Payments 9")]
    assert all(flag & SentenceFlag.TOC and not flag & SentenceFlag.HEADING for flag in flags)
    # The real headings still head their clauses.
    royalty = text.index("Licensee pays a royalty of five percent.")
    assert index.sent_section[royalty] == text.index("ARTICLE 3 PAYMENTS")
    # Two lines naming later headings are not yet a table of contents.
    short = index_document(contract.replace("ARTICLE 3 Payments 9\n\n", ""), cache=False, ner=False)
    assert not any(short.sent_flags[i] & SentenceFlag.TOC for i in range(short.sentence_count))
    # A Markdown README's contents: links to its headings, whose targets spell each title a second time.
    readme = "\n".join(
        [
            "# tool",
            "",
            "Reads settings.",
            "",
            *(
                f"- [{t}](#{t.lower().replace(' ', '-')})"
                for t in ("Getting Started", "File Format", "Related Projects")
            ),
        ]
        + [
            f"\n## {t}\n\nThe {t.lower()} part says more.\n"
            for t in ("Getting Started", "File Format", "Related Projects")
        ]
    )
    index = index_document(readme, cache=False, ner=False)
    links = [i for i, line in enumerate(_texts(index)) if line.startswith("- [")]
    assert len(links) == 3 and all(index.sent_flags[i] & SentenceFlag.TOC for i in links)
    # A title by markup is no contents line, though it names a later title but for a number: openssl's NEWS.md had
    # its releases' headings read as contents, and their notes left under the document's first title (helper-225).
    news = (
        "# News\n\n"
        + "".join(f"- [Release {n}.0](#release-{n}0)\n" for n in (3, 2, 1))
        + "\n"
        + "".join(
            f"## Release {n}.0\n\n### Changes between {n - 1}.9 and {n}.0\n\nRelease {n} fixed bug {n}.\n\n"
            for n in (3, 2, 1)
        )
    )
    index = index_document(news, cache=False, ner=False)
    texts = _texts(index)
    toc = [texts[i] for i in range(index.sentence_count) if index.sent_flags[i] & SentenceFlag.TOC]
    assert toc == ["- [Release 3.0](#release-30)", "- [Release 2.0](#release-20)", "- [Release 1.0](#release-10)"]
    assert texts[index.sent_section[texts.index("Release 3 fixed bug 3.")]] == "### Changes between 2.9 and 3.0"


def test_no_unit_is_over_the_token_cap() -> None:
    from pearl.tokens import count_tokens

    dense = " , ".join(f"item{i} 1,23{i}.5" for i in range(400))  # no sentence end, many tokens per character
    seg = segment(dense, max_tokens=120, count=count_tokens)
    assert len(seg.sentences) > 3
    assert max(count_tokens(dense[s:e]) for s, e in seg.sentences) <= 120
    assert seg.continued[1] and not seg.continued[0]


def test_no_unit_is_over_the_token_cap_however_dense_or_uneven() -> None:
    from pearl.tokens import count_tokens

    # A hex dump: under twice the cap in characters yet over it in tokens, and denser in some places than
    # on average, so cutting at the average density alone leaves a piece over the cap.
    hexdump = "00000000 4d 49 4d 45 2d 4d 61 67 69 63 00 0a 5b 35 30 3a |MIME-Magic..[50:| " * 3
    uneven = "word " * 60 + "4d:49:4d:45:2d:4d:61:67:69:63:00:0a:5b:35:30:3a:" * 8
    emoji = "\U0001f600" * 100  # fewer characters than the cap, three tokens each
    for dense in (hexdump, uneven, emoji):
        seg = segment(dense, max_tokens=120, count=count_tokens)
        assert max(count_tokens(dense[s:e]) for s, e in seg.sentences) <= 120, dense[:40]


def test_a_unit_cut_at_the_cap_never_splits_a_visible_character() -> None:
    from pearl.tokens import count_tokens

    # Each of these is one visible character written with several code points; a run of them has
    # no space or mark to cut at, so the cap cuts anywhere, but not inside one of them.
    for cluster in ("\U0001f469\u200d\U0001f4bb", "\U0001f1eb\U0001f1f7", "e\u0301", "\u0915\u094d\u0937\u093f"):
        for prefix in ("", "x", "xy"):
            text = prefix + cluster * 200
            seg = segment(text, max_tokens=40, count=count_tokens)
            assert len(seg.sentences) > 2
            assert all(text[s:e].replace(prefix, "", 1).replace(cluster, "") == "" for s, e in seg.sentences), cluster


def test_one_visible_character_longer_than_the_cap_is_cut_inside_it_not_endlessly() -> None:
    from pearl.tokens import count_tokens

    # A letter under hundreds of marks (Zalgo text) or a long chain of joiners: no cut between visible
    # characters exists, so one is forced; the index is built, every unit non-empty and under the cap.
    for text in ("Intro.\n\nSome words Z" + "\u0301" * 250 + " and more.\n\nEnd.", "x\u200d" * 400):
        seg = segment(text, max_tokens=40, count=count_tokens)
        assert all(s < e for s, e in seg.sentences)
        assert max(count_tokens(text[s:e]) for s, e in seg.sentences) <= 40
        assert index_document(text, cache=False, ner=False).sentence_count >= 1


def test_each_row_of_a_markdown_table_is_a_unit_also_in_wrapped_text() -> None:
    rows = "".join(f"| Person {i} | Town {i} | {1900 + i} |\n" for i in range(3))
    text = f"The table lists\ncities, wrapped.\n\n| Name | City | Year |\n| --- | --- | --- |\n{rows}\nThat is all."
    units = _units(text)
    assert "| Person 1 | Town 1 | 1901 |" in units and "| Name | City | Year |" in units
    assert "The table lists\ncities, wrapped." in units  # the prose around it is still read as wrapped


def test_a_markdown_tables_delimiter_row_is_no_unit_nor_shown() -> None:
    # The "|---|---|" under a header row says it is one: no words, yet it was a unit of its own, shown as evidence.
    text = (
        "The options.\n\n| Option | Default |\n| :--- | ---: |\n| --fast | off |\n\n"
        "Option | Default\n-------|--------\n--dir | ~/.widget\n\n|---|---|\n\nThat is all."
    )
    seg = segment(text)
    units = [text[s:e] for s, e in seg.sentences]
    assert units == [
        "The options.",
        "| Option | Default |",
        "| --fast | off |",
        "Option | Default",
        "--dir | ~/.widget",
        "That is all.",
    ]
    assert sorted(set(seg.sentence_paragraph)) == list(range(len(seg.paragraphs)))  # a delimiter alone: no paragraph
    index = index_document(text, cache=False, ner=False)
    assert "-|-" not in compress(index, "Which option is off by default?", 1000).text


def test_a_name_in_camel_case_is_also_searched_by_its_words() -> None:
    assert {"transfer", "list"} <= set(terms("They cannot be listed in transferList."))
    assert {"json", "decod", "error"} <= set(terms("It raises JSONDecodeError."))
    assert "donald" in terms("McDonald's menu") and "phone" in terms("the iPhone’s screen")  # no possessive
    # Not every capital inside a word starts one: two letters are no word ("SQuAD" gives no "qu").
    assert set(terms("SQuAD")) == {"squad"} and set(terms("PAPA JOHN'S")) == {"papa", "john"}


def test_a_symbol_written_alone_is_also_searched_by_its_name() -> None:
    # A question says "an actual & character" where a FAQ says "a literal ampersand", or the other way round.
    assert {"ampersand", "backslash"} <= set(terms("To enter it on the RHS, type '\\&'."))
    assert "ampersand" in terms("I want an actual & character")
    assert {"exclam", "bang", "dollar"} <= set(terms("The exclamation mark (!) is special; so is $!"))
    # A word's own punctuation, or a sign inside a name, is no symbol alone.
    for text in ("Wow! That was great.", "AT&T and $HOME", "50%", "x^2"):
        assert not {"exclam", "ampersand", "dollar", "percent", "caret"} & set(terms(text)), text
    entries = "".join(
        f"       {sign}      Expands to the {what} of the job most recently run.\n\n"
        for sign, what in (("?", "exit status"), ("$", "process ID of the shell"), ("!", "process ID"))
    )
    index = index_document(entries, cache=False, ner=False)
    chosen = compress(index, "What does the exclamation mark variable expand to?", 25).text
    assert "! Expands to the process ID of the job" in chosen and "exit status" not in chosen


def test_a_footer_that_numbers_its_page_is_page_furniture() -> None:
    # "Confidential - Page N" repeats but for its number: it was read as a heading (every clause of the next page
    # under it) and named as an entity (helper-182). "Page N of 7" was furniture already.
    pages = [
        f"ACME SERVICES AGREEMENT\n\nClause {n}. The Supplier shall deliver lot {n} to the Buyer.\n\n"
        f"Confidential - Page {n}\n\f"
        for n in range(1, 6)
    ]
    index = index_document("".join(pages), cache=False, ner=False)
    footers = [i for i, text in enumerate(_texts(index)) if text.startswith("Confidential")]
    assert len(footers) == 5
    assert all(index.sent_flags[i] & SentenceFlag.BOILERPLATE for i in footers)
    assert not any(index.sent_section[i] in footers for i in range(index.sentence_count))
    # Numbered clauses and sections are no footers, however many there are.
    clauses = [i for i, text in enumerate(_texts(index)) if text.startswith("Clause")]
    assert not any(index.sent_flags[i] & SentenceFlag.BOILERPLATE for i in clauses)
    # Only the page's number is set aside: rows that differ in more than it are rows (helper-185).
    rows = [f"Route {n} departs at {8 + n}:15 (see page {n + 2})." for n in range(1, 5)]
    routes = index_document(" ".join(["Buses leave the square each day."] * 5 + rows), cache=False, ner=False)
    assert not any(
        routes.sent_flags[i] & SentenceFlag.BOILERPLATE for i, t in enumerate(_texts(routes)) if "Route" in t
    )


def test_an_info_manuals_navigation_line_is_page_furniture() -> None:
    # Each node of an info manual opens with a line of links, each unique: it had been read as content, and its
    # labels as the manual's names ("Node" 31 mentions, "Prev" 25, in grep's manual; helper-222).
    # The first follows a title, as sed's follows the directory entry ("END-INFO-DIR-ENTRY"; helper-225).
    nodes = [("Top", "Options", "Usage"), ("Options", "Usage", "Index"), ("Usage", "Index", "Top")]
    manual = "GREP MANUAL\n\n"
    for before, node, after in nodes:
        title = f"{node} of ‘grep’"
        manual += f"\x1f\nFile: grep.info,  Node: {node},  Next: {after},  Prev: {before},  Up: Top\n\n"
        manual += f"{title}\n{'*' * len(title)}\n\nThe {node.lower()} of grep are described by Ada Lovelace here.\n\n"
    index = index_document(manual, cache=False, ner=False)
    texts = _texts(index)
    links = [i for i, text in enumerate(texts) if text.startswith("File:")]
    assert len(links) == 3 and all(index.sent_flags[i] & SentenceFlag.BOILERPLATE for i in links)
    assert not {"Node", "Prev", "Up"} & {entity.name for entity in index.entities}
    assert "Ada Lovelace" in {entity.name for entity in index.entities}
    # A record of fields is what the text says, not a way round it: it names no title under it (helper-225), has one
    # link on, or says more than fields.
    for record in (
        "Current: Alice Moreno, Next: Bob Tanaka, Previous: Carol Jensen",
        "Team: Compilers, Lead: Ada Lovelace, Next: review",
        "Next: Compilers, Prev: Tools, Up: Rota, but ask Ada first",
    ):
        index = index_document(f"Rota\n\n{record}\n\nCompilers\n*********\n\nPage Ada first.\n", cache=False, ner=False)
        assert not any(flags & SentenceFlag.BOILERPLATE for flags in index.sent_flags), record


def test_a_manual_pages_section_labels_are_headings_of_their_own() -> None:
    # "DESCRIPTION\n       Bash is ..." was one unit, label and sentence, and no section had a heading (helper-182).
    text = (
        "BASH(1)                  General Commands Manual                  BASH(1)\n\n"
        "NAME\n       bash - GNU Bourne-Again SHell\n\n"
        "DESCRIPTION\n       Bash is an sh-compatible command language interpreter.  It reads commands.\n\n"
        "OPTIONS\n       All of the single-character shell options can be used.\n"
    )
    index = index_document(text, cache=False, ner=False)
    texts = _texts(index)
    for label in ("NAME", "DESCRIPTION", "OPTIONS"):
        assert label in texts, texts
        assert index.sent_flags[texts.index(label)] & SentenceFlag.HEADING
    first = next(i for i, unit in enumerate(texts) if unit.startswith("Bash is"))
    assert index.sent_heading[first] == texts.index("DESCRIPTION")
    # A label over text that is not indented under it stays as it was read.
    assert _units("NOTE\nThe lamp was lit.") == ["NOTE\nThe lamp was lit."]
    # A play's speaker, over each of his lines, is no heading of a section (helper-185).
    play = "SAILOR\n      The tide turns at dawn.\n\nSAILOR\n      Aye, we wait."
    assert _units(play) == ["SAILOR\n      The tide turns at dawn.", "SAILOR\n      Aye, we wait."]


def _heading_of(index: DocumentIndex, start: str) -> str | None:
    """The text of the paragraph heading linked to the first unit that starts with `start`."""
    texts = _texts(index)
    heading = index.sent_heading[next(i for i, unit in enumerate(texts) if unit.startswith(start))]
    return texts[heading] if heading >= 0 else None


def test_a_faqs_question_on_a_line_of_its_own_heads_its_answer() -> None:
    # An info manual's FAQ: the answers, set under their questions, never repeat the question's words (helper-222).
    faq = (
        "Here are some common questions and answers.\n\n"
        "  1. How can I list just the names of matching files?\n\n"
        "          grep -l 'main' test-*.c\n\n"
        "     lists names of files in the current directory whose contents\n"
        "     mention main.\n\n"
        "  2. How do I search directories recursively?\n\n"
        "          grep -r 'hello' /home/gigi\n\n"
        "     searches for hello in all files under the gigi directory.\n"
        "     For more control, use find.\n\n"
        "  3. What if a pattern has a leading dash?  For example:\n\n"
        '          grep "$pattern" *\n\n'
        "     can behave unexpectedly.\n\n"
        "The end of the list.\n"
    )
    index = index_document(faq, cache=False, ner=False)
    question = "2. How do I search directories recursively?"
    assert _heading_of(index, "searches for hello") == question
    assert _heading_of(index, "For more control") == question
    assert _heading_of(index, "lists names") == "1. How can I list just the names of matching files?"
    # The next item of the list ends the answer, though its question runs on in its line; so does the text after.
    assert _heading_of(index, "3. What if") is None and _heading_of(index, "can behave") is None
    assert _heading_of(index, "The end") is None
    # A FAQ set flat: the answer's paragraphs at the question's column, up to the next question; a question may
    # wrap onto a second line.
    flat = (
        "Q: Why is the sky blue?\n\n"
        "Sunlight scatters off the air.\n\n"
        "Short waves scatter most.\n\n"
        "Q: Does the sea do the same when the\nsun is low?\n\n"
        "Water absorbs the red light.\n"
    )
    index = index_document(flat, cache=False, ner=False)
    assert _heading_of(index, "Short waves") == "Q: Why is the sky blue?"
    assert _heading_of(index, "Water absorbs") == "Q: Does the sea do the same when the\nsun is low?"
    # An answer that opens with a word of its own ("Yes.", "A: No.") goes on in its line: it is no title over
    # the rest of the answer, which stays under the question (helper-223). A title on a line of its own still is.
    short = (
        "1. Is there a discount for charities?\n\n"
        "Yes. Registered charities get 20 percent off.\n\nSend us your registration number.\n\n"
        "2. Do prices include VAT?\n\nA: Yes. The rate is 20 percent.\n\n"
        "3. Where is the shop?\n\nOpening Hours\n\nWe open at nine.\n"
    )
    index = index_document(short, cache=False, ner=False)
    assert _heading_of(index, "Registered") == _heading_of(index, "Send us") == "1. Is there a discount for charities?"
    assert _heading_of(index, "The rate") == "2. Do prices include VAT?"
    assert _heading_of(index, "We open") is None  # under "Opening Hours", its section's title
    # A question answered in its own paragraph leaves the title after it one (helper-225).
    compact = (
        "Q: Can I cancel my order?\nA: Yes, within 14 days.\n\n"
        "Shipping. We ship to the EU from Rotterdam.\n\nDelivery takes three days.\n"
    )
    assert _heading_of(index_document(compact, cache=False, ner=False), "We ship") == "Shipping."
    # A question neither numbered nor marked leads nothing: in an e-mail, what follows it is often about something
    # else (helper-223), and a line of dialogue asks nothing the text answers.
    mail = (
        "Hi all,\n\nWhat is the rollback plan for the database upgrade?\n\n"
        "The fire drill is on Thursday.\n\nPriya joins the team on Monday.\n"
    )
    index = index_document(mail, cache=False, ner=False)
    assert _heading_of(index, "The fire drill") is None and _heading_of(index, "Priya") is None
    story = '"Why not?"\n\nShe walked to the door.\n\nHe said, "Are you going?"\n\nThe rain fell.\n'
    index = index_document(story, cache=False, ner=False)
    assert _heading_of(index, "She walked") is None and _heading_of(index, "The rain") is None


def test_a_term_on_a_line_of_its_own_heads_the_paragraphs_indented_under_it() -> None:
    reference = (
        "Download options are these.\n\n"
        "‘--unlink’\n\n"
        "     Remove the file before writing over the existing one.\n"
        "     This is useful with hard links.\n\n"
        "     Symbolic links are left alone.\n\n"
        "‘--no-clobber’\n\n"
        "     Keep the file already there.\n\n"
        "The next section covers directories.\n"
    )
    index = index_document(reference, cache=False, ner=False)
    assert _heading_of(index, "Remove the file") == "‘--unlink’"
    assert _heading_of(index, "Symbolic links") == "‘--unlink’"
    assert _heading_of(index, "Keep the file") == "‘--no-clobber’"
    assert _heading_of(index, "The next section") is None  # back at the term's column: the definition has ended
    # A short line over paragraphs at its own column leads nothing: prose, not a definition.
    prose = "Monday morning\n\nThe shop opened late.\n\nNobody came.\n"
    assert _heading_of(index_document(prose, cache=False, ner=False), "The shop") is None
    # A word that opens three terms or more names no one thing: a changelog's package over each release's entries,
    # which a question naming the package would all lift (two answers fewer with dense similarity on changelogs).
    changelog = "".join(
        f"make (3.79.1-{n}) unstable; urgency=low\n\n  * {change}\n\n -- Manoj <m@example.org>  2001\n\n"
        for n, change in enumerate(["Fixed the build.", "A bug made make setgid kmem.", "New upstream."], 1)
    )
    assert _heading_of(index_document(changelog, cache=False, ner=False), "* A bug") is None
    # A line that leads into a block with a colon is no term: what it introduces goes on from it (CONTINUATION),
    # and libpng's "where row_pointers is:" over each declaration had taken a memory question's room (rag, helper).
    intro = "The rows are declared so.\n\nwhere row_pointers is:\n\n     png_bytep row_pointers[height];\n"
    assert _heading_of(index_document(intro, cache=False, ner=False), "png_bytep") is None


def test_compress_finds_a_faqs_answer_by_the_question_it_answers() -> None:
    # The answer's words are not the question's: only the question on its line leads a search to them.
    topics = [
        ("compress", "archives quickly", "gzip"),
        ("count", "lines of output", "wc"),
        ("sort", "numbers by size", "sort"),
        ("search", "directories recursively", "grep"),
        ("copy", "trees of files", "cp"),
        ("print", "dates in a format", "date"),
    ]
    faq = "".join(
        f"  {n}. How do I {verb} the {thing}?\n\n     Use the {tool} command.\n\n"
        f"     Then add the {tool[0]} switch, which every {tool} release has understood.\n\n"
        for n, (verb, thing, tool) in enumerate(topics, 1)
    )
    context = compress(index_document(faq, cache=False, ner=False), "How can I search directories recursively?", 40)
    assert "Use the grep command." in context.text and "the g switch" in context.text, context.text


TRANSCRIPT = (
    "Board meeting, 3 March 2026\n\n"
    "[00:01:02] Sarah Lindqvist: So, a few things. Circulation is up eight percent. The old printer broke in March.\n"
    "[00:01:30] Tom Becker: Sure. What about advertising? We lost two accounts in February.\n"
    "[00:02:11] Sarah Lindqvist: Advertising is flat. I expect it to recover by June.\n"
    "[00:02:40] Priya Natarajan: Noted.\n"
    "[00:02:45] Tom Becker: The printer contract ends in April. They owe us a quote. The new printer broke in May.\n"
)


def test_a_speakers_name_heads_what_they_say_in_a_transcript() -> None:
    # Only the turn's first sentence said who spoke: "Circulation is up" had no heading, while "Tom Becker: Sure." was
    # read as a title over what followed it.
    index = index_document(TRANSCRIPT, cache=False, ner=False)
    texts = _texts(index)
    headed = {texts[i]: texts[h] for i, h in enumerate(index.sent_heading) if h >= 0}
    assert headed["Circulation is up eight percent."].endswith("Sarah Lindqvist: So, a few things.")
    assert headed["We lost two accounts in February."].endswith("Tom Becker: Sure.")
    assert headed["They owe us a quote."].endswith("Tom Becker: The printer contract ends in April.")
    assert not any(flags & SentenceFlag.HEADING for flags in index.sent_flags[1:]), texts
    ranked = [texts[sid] for sid, _ in rank_sentences(index, "When did Tom Becker say the printer broke?")]
    assert ranked[0] == "The new printer broke in May.", ranked  # not Tom's "Sure.", nor Sarah's printer


def test_a_few_labelled_notes_are_no_dialogue() -> None:
    # Two labels that open two paragraphs each, among many: a manual's notes, whose sentences head nothing.
    prose = "".join(f"The pump runs in mode {n}. It stops when the tank is full.\n\n" for n in range(12))
    text = (
        prose + "Note: Drain the tank first. Then open the valve.\n\nTip: Check the seal. It wears out.\n\n"
        "Note: Keep the lid shut. Dust gets in.\n\nTip: Oil the hinge. It squeaks.\n\n"
    )
    assert all(h < 0 for h in index_document(text, cache=False, ner=False).sent_heading)


def test_a_title_between_the_turns_of_an_interview_stays_a_title_and_a_faqs_question_heads_its_answer() -> None:
    # Once the text was a dialogue, "Part Two: The Company" was a turn, no title, and "A: Under billing." took the
    # answer's sentences from the question over it (helper-229).
    interview = (
        "Part One: Early Years\n\nInterviewer: Where were you born? Tell me.\n\nMaria Lopez: In Seville. We moved.\n\n"
        "Interviewer: Why? Was it work?\n\nMaria Lopez: My father found work. He was a printer.\n\n"
        "Part Two: The Company\n\nInterviewer: When did you found it? How?\n\nMaria Lopez: In 1990. With my brother.\n"
    )
    index = index_document(interview, cache=False, ner=False)
    texts = _texts(index)
    part_two = texts.index("Part Two: The Company")
    assert index.sent_flags[part_two] & SentenceFlag.HEADING and index.sent_section[-1] == part_two
    assert texts[index.sent_heading[texts.index("With my brother.")]] == "Maria Lopez: In 1990."
    faq = "".join(
        f"Q: Where are the {thing} kept?\n\nA: Under {place}. Each of the {thing} is a file.\n\n"
        for thing, place in (("invoices", "billing"), ("receipts", "payments"), ("orders", "sales"))
    )
    index = index_document(faq, cache=False, ner=False)
    texts = _texts(index)
    answer = texts.index("Each of the invoices is a file.")
    assert texts[index.sent_heading[answer]] == "Q: Where are the invoices kept?"
