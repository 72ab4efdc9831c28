"""A document written in markup is shown, indexed and counted as what a browser shows of it."""

from __future__ import annotations

import re
import time

import pytest

from pearl import Pearl, load_settings
from pearl.context import DocumentIndex, SentenceFlag, compress, index_document, rank_sentences, render_sentences
from pearl.context._markup import MarkupView, is_markup, shown_document, shown_text, shown_texts
from pearl.eval import counting_fake_llm
from pearl.llm import FakeLLM
from pearl.tokens import count_tokens

KEEPERS = "".join(
    f'<p><a class="anchor" href="#keeper-{i}"></a>Keeper number {i} polished the brass of the lamp.</p>\n'
    for i in range(30)
)
PAGE = (
    "<!DOCTYPE html>\n<html><head><title>Tren Light</title></head><body>\n<main>\n"
    '<h2 id="the-light"><a class="header" href="#the-light">The light</a></h2>\n'
    "<p>The <code>lamp</code> of Tren Light burned <em>paraffin</em> oil until 1951.</p>\n"
    "<p>Its <code>wick</code>s were trimmed at dusk &amp; at dawn.</p>\n"
    "<p>Breadcrumb: Home > Lighthouses > Tren Light. Keep x < 3 always.</p>\n"
    '<mdbook-sidebar class="sidebar-scrollbox">Contents</mdbook-sidebar>\n'
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
    assert shown_text(index, _sid(index.text, index.sent_starts, index.sent_ends, "header")) == "The light"
    # The document's size is its text's: what budgets and reports count.
    assert index.tokens == count_tokens(shown_document(PAGE)) < count_tokens(PAGE) / 2
    # An inline element's tags leave no gap in the word they mark.
    assert shown_text(index, _sid(index.text, index.sent_starts, index.sent_ends, "trimmed")) == (
        "Its wicks were trimmed at dusk & at dawn."
    )
    # A bare ">" or "<" is text, and a page's own elements are markup as HTML's are.
    everything = render_sentences(index, range(index.sentence_count))
    assert "Home > Lighthouses > Tren Light." in everything and "Keep x < 3 always." in everything
    assert "Contents" in everything and "mdbook-sidebar" not in everything


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
    # Prose that names many tags closes none of them: it is no markup, however dense.
    lesson = "An HTML list starts with <ul> for bullets or <ol> for numbers; each item is an <li>. " * 12
    assert not is_markup(lesson)
    # Markdown dense with an HTML table: the table's tags go, the code's stay.
    table = "\n".join(f"<tr><td><code>option{i}</code></td><td>Sets the level {i}.</td></tr>" for i in range(30))
    notes = f"# Options\n\n<table>\n{table}\n</table>\n\nCells open with `<td>`. An example:\n\n"
    notes += '```html\n<input type="email" required>\n```\n\n<!-- Added in\n\nversion 2.\n\n'
    notes += "A long note on the history of the option. " * 12 + "-->\n\nThe end.\n"
    assert is_markup(notes)
    index = index_document(notes, cache=False, ner=False)
    everything = render_sentences(index, range(index.sentence_count))
    assert "<tr>" not in everything and "| option7 | Sets the level 7." in everything
    assert '<input type="email" required>' in everything and "`<td>`" in everything
    # A comment, over three paragraphs: none of it shows.
    assert not any(words in everything for words in ("Added in", "version 2", "A long note"))
    # A README that opens with its logo is no page: its examples keep their tags.
    badges = "".join(f'<a href="https://ci/{i}"><img src="badge{i}.svg"></a>\n' for i in range(12))
    readme = f'<p align="center">\n{badges}</p>\n\n# Widget\n\n```html\n<script src="widget.js"></script>\n```\n'
    assert not MarkupView.of(readme).page
    index = index_document(readme, cache=False, ner=False)
    assert '<script src="widget.js"></script>' in render_sentences(index, range(index.sentence_count))
    # XML names elements as HTML does (`<data>`, `<time>`): it is no markup to strip.
    entries = "".join(f"<entry><code>E{i}</code><time>2020-01-0{i % 9 + 1}</time></entry>\n" for i in range(30))
    assert not is_markup(f'<?xml version="1.0"?>\n<log>\n{entries}</log>\n')


def test_a_long_row_is_cut_between_tags_and_a_tag_cut_anyway_shows_nothing_of_itself() -> None:
    # A long table row with no space outside its tags: cut before a tag, never inside one.
    cells = "".join(
        f'<td style="padding: 4px; border: 1px solid" title="cell {i}: of the row">value{i}-{"w" * 20}</td>'
        for i in range(60)
    )
    keepers = "".join(f"<p>Keeper {i} kept it.</p>\n" for i in range(30))
    text = f"Values\n\n<p>The table below lists values.</p>\n<table><tr>{cells}</tr></table>\n{keepers}"
    assert is_markup(text) and not MarkupView.of(text).page
    index = index_document(text, cache=False, ner=False)
    row = [i for i in range(index.sentence_count) if "value" in index.sentence_text(i)]
    assert len(row) > 1
    assert all(index.sentence_text(i).startswith("<") for i in row)
    everything = render_sentences(index, range(index.sentence_count))
    assert "style" not in everything and "title" not in everything
    assert f"| value30-{'w' * 20} | value31-" in everything
    # A tag longer than a unit (an image inlined as data) is cut inside itself: no unit shows a piece of it.
    image = f'<p>The logo: <img alt="logo" src="data:image/png;base64,{"QUJD" * 1500}"> and more.</p>\n'
    index = index_document(f"{image}{keepers}", cache=False, ner=False)
    assert any(
        not index.sentence_text(i).lstrip().startswith("<") and "QUJD" in index.sentence_text(i)
        for i in range(index.sentence_count)
    )
    everything = render_sentences(index, range(index.sentence_count))
    assert "QUJD" not in everything and "base64" not in everything and "The logo:" in everything


def test_a_units_boundary_cuts_only_a_real_tag() -> None:
    rows = "".join(f"<tr><td>r{i}</td><td>{i}</td></tr>\n" for i in range(30))
    text = f"Notes\n\n<table>\n{rows}</table>\n<p>Loop while i<n holds, then check x>0 again.</p>\n"
    text += "Code: `if a <b && c> 1` and `&lt;div&gt;` and &lt;b&gt; here.\n"
    view = MarkupView.of(text)
    assert view.markup and not view.page
    # "i<n ... x>" is no tag (no element is named "n"): a boundary inside it cuts nothing.
    start, end = text.index("n holds"), text.index("0 again")
    assert view.shown(text, start, len(text)).startswith("n holds, then check x>0 again.")
    assert view.shown(text, text.index("Loop"), end).endswith("then check x>")
    # Nor in code, where "<b && c>" reads as a tag; and code shows references as written.
    code = view.shown(text, text.index("b && c"), len(text))
    assert code.startswith("b && c> 1`") and "`&lt;div&gt;`" in code and "<b> here." in code
    assert view.shown(text, text.index("Code"), text.index("&& c")).endswith("`if a <b")
    # A boundary inside a real tag cuts the piece off.
    inside = text.index("<td>r3") + 2
    assert view.shown(text, inside, text.index("</td>", inside)) == "r3"


def test_a_comment_opener_in_code_does_not_hide_the_comment_after_it() -> None:
    rows = "".join(f"<tr><td>r{i}</td><td>{i}</td></tr>\n" for i in range(30))
    text = f"Comments open with `<!--`.\n\n<table>\n{rows}</table>\n\n<!-- SECRET draft: {'x ' * 300}-->\n\nEnd.\n"
    view = MarkupView.of(text)
    assert "SECRET" not in view.document(text) and "Comments open with `<!--`." in view.document(text)


def test_a_tutorials_code_examples_do_not_make_its_prose_markup() -> None:
    example = "```html\n<ul>\n" + "".join(f"<li><a href='/p{i}'>Page {i}</a></li>\n" for i in range(8)) + "</ul>\n```\n"
    lesson = "# Lists\n\n" + "A navigation list goes inside the <nav> element, and each link sits in an <li>.\n\n" * 6
    assert not is_markup(lesson + example * 3)


def test_showing_markup_is_linear() -> None:
    steps = "".join(f"<p>Step <b>{i}</b> runs <i>fast</i>.</p>\n\n```\ncode {i}\n```\n\n" for i in range(8000))
    comments = "".join(f"<!-- note {i} --><p>Keeper {i}.</p>\n" for i in range(20000))
    started = time.perf_counter()
    assert "Step 7999 runs fast." in shown_document("Intro.\n\n" + steps)
    assert "Keeper 19999." in shown_document(comments)
    # Sentence by sentence, as an index shows them: each looks only at the comments beside it.
    view, page = MarkupView.of(comments), comments
    ends = [m.end() for m in re.finditer("</p>", page)]
    assert view.page and all(view.shown(page, s, e) for s, e in zip([0, *ends], ends, strict=False))
    assert time.perf_counter() - started < 5  # quadratic, this takes a minute


def test_a_long_run_of_letters_beside_a_hyphenated_line_end_is_read_at_once() -> None:
    # Compounds were looked for from every letter of a run: 40,000 letters (a DNA sequence) took 39 s (helper-160).
    text = "The man-\nagement of the data. " + "acgt" * 10_000 + ". The end."
    started = time.perf_counter()
    assert "management" in shown_document(text)
    assert time.perf_counter() - started < 1


@pytest.mark.parametrize("method", ["direct", "pearl-fulldoc", "rag", "pearl"])
def test_every_method_shows_a_page_as_a_browser_does(method: str) -> None:
    fake = counting_fake_llm()  # real plans of two steps
    pearl = Pearl(llm=fake, settings=load_settings(cache=False))
    answer = pearl.ask(PAGE, "What oil did the lamp burn?", method=method)
    assert not any("answered by" in note for note in answer.notes)  # no fallback: the plan ran
    prompts = [m.content for request in fake.history for m in request.messages]
    assert any("The lamp of Tren Light burned paraffin oil until 1951." in p for p in prompts)
    assert not any(mark in p for p in prompts for mark in ('class="anchor"', "<code>", 'var anchor = "'))


def test_a_page_read_as_text_is_cited_as_the_model_was_shown_it() -> None:
    # The evidence under the answer was the page's source: a cited sentence began "<!DOCTYPE html> <html>..." and
    # ran into a script's "The founder was Bob", which the model never saw, beside an answer naming Clara.
    page = (
        '<!DOCTYPE html>\n<html><head><title>Acme History</title>\n<script>var note = "The founder was Bob. Not '
        'Clara.";</script></head>\n<body><p>Acme was founded by Clara Weiss &amp; Ada Lind.</p></body></html>\n'
    )
    fake = FakeLLM(default=lambda request: "Clara Weiss and Ada Lind [S0] [S2].")
    answer = Pearl(llm=fake, settings=load_settings(cache=False)).ask(page, "Who founded Acme?", method="rag")
    assert [c.text for c in answer.citations] == ["Acme History", "Acme was founded by Clara Weiss & Ada Lind."]
    assert page[answer.citations[1].file_start : answer.citations[1].file_end].startswith("<p>Acme was")  # as written
    # Plain text is cited as written, its line breaks, spaces and words hyphenated across lines kept.
    plain = "Clara  Weiss founded\nAcme, self-\ncontained and well-\nknown, in 1901. It grew."
    answer = Pearl(llm=fake, settings=load_settings(cache=False)).ask(plain, "Who founded Acme?", method="rag")
    assert answer.citations[0].text == "Clara  Weiss founded\nAcme, self-\ncontained and well-\nknown, in 1901."


def test_an_index_read_back_shows_its_sentences_as_the_one_built() -> None:
    built = index_document(PAGE, cache=False, ner=False)
    loaded = DocumentIndex.model_validate_json(built.model_dump_json())
    assert "shown_texts" not in loaded.derived() and shown_texts(loaded) == shown_texts(built)
    assert [count_tokens(text) for text in shown_texts(loaded)] == loaded.sent_tokens


def test_a_word_hyphenated_across_lines_of_plain_text_is_shown_and_found_whole() -> None:
    # As `pdftotext` or `man` save typeset text: words broken at a line's end, with "-" or U+2010.
    text = (
        "A first paragraph opens the report, and it says nothing of the matter at all for a while.\n\n"
        "The board reviews the budget each year and the man-\n"
        "agement of the fund is left to the trustees, who meet twice a year in the city hall and report\n"
        "to the members on the decom\u2010\n    pression of the archive, the third-\n"
        "party audits and the pre-\nand post-war records; each third-party audit is filed."
    )
    index = index_document(text, cache=False, ner=False)
    shown = render_sentences(index, [1])
    assert "management" in shown and "decompression" in shown
    assert "the third-party audits" in shown  # the document writes it with a hyphen: it keeps it
    assert "the pre- and post-war records" in shown  # a suspended hyphen is the text's own
    assert compress(index, "management", 75).sentence_ids == [1]
    # Offsets still cite the file as written; the paper's executor and `direct` are shown it joined too.
    assert index.text[index.sent_starts[1] : index.sent_ends[1]].count("\n") == 5
    assert "the management of the fund" in shown_document(text)


@pytest.mark.parametrize(
    ("broken", "elsewhere", "shown"),
    [
        ("the gover-\nnor of the bank", "", "the governor of the bank"),  # "nor" ends a word here
        ("the mi-\nnor party", "", "the minor party"),
        ("both pre-\nor post-war", "", "both pre- or post-war"),
        ("a state-of-the-\nart design", "a state-of-the-art design", "a state-of-the-art design"),
        ("a third-\nparty audit", "any third\u2010party audit", "a third-party audit"),
        ("a state-of-the-\nart design", "", "a state-of-the-art design"),  # a hyphen in a chain is the word's
        ("my mother-\nin-law", "", "my mother-in-law"),
        ("the X-\nray showed", "", "the X-ray showed"),  # after one letter too
        ("the engi\u00adneers, the man-\nagers", "", "the engineers, the managers"),  # a soft hyphen is invisible
    ],
)
def test_a_broken_words_hyphen_is_kept_only_where_the_document_writes_it(
    broken: str, elsewhere: str, shown: str
) -> None:
    text = f"It says {broken} and more besides, at some length here.\n\nIt also says {elsewhere or 'nothing else'}."
    index = index_document(text, cache=False, ner=False)
    assert shown in render_sentences(index, [0])


def test_markup_given_as_text_names_no_tag_and_cuts_no_name_at_one() -> None:
    # "<!DOCTYPE html>" gave the entity DOCTYPE (an ORG), and "<td>Peter Gibbons</td>" the name Peter alone, where
    # the same page read as .html gave the whole names (helper-182).
    page = (
        "<!DOCTYPE html><html><body><table><tr><td>W-100</td><td>Peter Gibbons</td></tr>"
        "<tr><td>W-200</td><td>Samir Nagheenanajar</td></tr></table>"
        "<p>Peter Gibbons works at Initech in Austin.</p></body></html>"
    )
    names = [entity.name for entity in index_document(page, cache=False).entities]
    assert "DOCTYPE" not in names and {"Peter Gibbons", "Samir Nagheenanajar"} <= set(names), names


def test_a_saved_pages_navigation_is_page_furniture_not_its_opening() -> None:
    # Menus, breadcrumbs and a sidebar's contents opened the page and took its opening's bonus: a small budget kept
    # the menu of a news page and little of its story (helper-196).
    menu = "".join(f"<li><a href='/{n}'>Section {n}</a></li>" for n in range(30))
    page = (
        f"<!DOCTYPE html><html><body><nav><ul>{menu}</ul></nav><div class='related' role='navigation'><ul><li>Index"
        "</li><li>Modules</li></ul></div><h1>Storm damage</h1><p>The storm hit the harbour on Monday night.</p>"
        "<p>Repairs will cost two million pounds, the council said.</p></body></html>"
    )
    index = index_document(page, cache=False, ner=False)
    texts = [index.sentence_text(i) for i in range(index.sentence_count)]
    furniture = [t for t, f in zip(texts, index.sent_flags, strict=True) if f & SentenceFlag.BOILERPLATE]
    assert any("Section 0" in t for t in furniture) and any("Modules" in t for t in furniture)
    assert not any("storm" in t.lower() for t in furniture)
    kept = compress(index, "How much will the repairs cost?", 60)
    # It kept six menu links and the answer; now the story, and what budget is left beside it.
    assert "two million pounds" in kept.text and "The storm hit" in kept.text and "Section 0" not in kept.text
