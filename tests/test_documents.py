"""Loading documents: every format, several files as one, and every bad input as one clear error."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from pearl import Document, FakeLLM, Pearl, load_settings
from pearl.context import SentenceFlag, index_document, render_sentences, whole_document
from pearl.documents import _pdf_paragraphs, _pdf_to_text, as_document, left_out_notes, load_document
from pearl.errors import ConfigError, DocumentError, DocumentTooLargeError
from pearl.llm import CompletionRequest


def _pdf(text: str | list[str] | None) -> bytes:
    """A minimal one-page PDF, with `text` drawn on it (a list: one line each) or no text layer at all."""
    return _pdf_pages([[text] if isinstance(text, str) else text or []])


def _pdf_pages(pages: list[list[str]], drawn: str = "({line}) Tj 0 -14 Td") -> bytes:
    """A minimal PDF of these pages, each with its lines drawn (`drawn`, for each line); a page of no lines has no
    text layer. Bytes 128-130 are the ligatures fi, ffi and fl in its font, as a typeset PDF's often are."""
    kids = " ".join(f"{3 + 2 * n} 0 R" for n in range(len(pages)))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids.encode(), len(pages)),
    ]
    font = 3 + 2 * len(pages)
    for number, lines in enumerate(pages):
        shown = " ".join(drawn.format(line=line) for line in lines)
        stream = f"BT /F1 10 Tf 72 720 Td {shown} ET".encode("latin-1") if lines else b""
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
            b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (4 + 2 * number, font)
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objects.append(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding "
        b"<< /Type /Encoding /BaseEncoding /WinAnsiEncoding /Differences [128 /fi 129 /ffi 130 /fl] >> >>"
    )
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


def test_text_and_markdown(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Hello Korvin.\r\nBye.", encoding="utf-8")
    doc = load_document(tmp_path / "a.txt")
    assert doc.text == "Hello Korvin.\nBye."
    assert len(doc.content_hash) == 64
    assert doc.content_hash == load_document(tmp_path / "a.txt").content_hash


def _html_text(tmp_path: Path, page: str) -> str:
    (tmp_path / "p.html").write_text(page, encoding="utf-8")
    return load_document(tmp_path / "p.html").text


def _paragraphs(text: str) -> list[str]:
    """The blocks of `text` between blank lines, which the segmenter always takes for paragraphs."""
    return re.split(r"\n[ \t]*\n", text)


def _indexed_paragraphs(text: str) -> list[str]:
    """The paragraphs the index finds in `text`."""
    index = index_document(text, cache=False, ner=False)
    return [index.text[start:end] for start, end in zip(index.para_starts, index.para_ends, strict=True)]


def test_an_email_message_is_read_as_its_reader_sees_it(tmp_path: Path) -> None:
    # Read raw: "room B-=\n204", "vendor=E2=80=99s", and the HTML copy repeating every word among its tags.
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "Maria <maria@example.com>", "tom@example.com", "Moved"
    body = "The vendor’s meeting has moved to Thursday at 3pm in room B-204 — bring the signed order. " * 2
    message.set_content(body, cte="quoted-printable")
    message.add_alternative(f"<p>{body}</p>", subtype="html")
    message.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="order.pdf")
    path = tmp_path / "mail.eml"
    path.write_bytes(bytes(message))
    assert b"=E2=80=99" in path.read_bytes()  # as sent: quoted-printable
    text = load_document(path).text
    assert text.startswith("From: Maria <maria@example.com>\nTo: tom@example.com\nSubject: Moved\n\n")
    assert text.count("room B-204 — bring") == 2 and "vendor’s" in text and "<p>" not in text
    assert text.rstrip().endswith("[attachment: order.pdf]")
    forwarded = tmp_path / "fwd.eml"  # a forwarded message in full, once; an unknown charset read, not refused
    forwarded.write_bytes(
        b"From: a@b.c\nTo: ,,, <<>>\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=XX\n\n"
        b"--XX\nContent-Type: text/plain; charset=unknown-8bit\n\nSee below, caf\xe9.\n"
        b"--XX\nContent-Type: message/rfc822\n\nFrom: c@d.e\nSubject: inner\n\nThe key is under the mat.\n--XX--\n"
    )
    text = load_document(forwarded).text
    assert text.startswith("From: a@b.c\nTo: ,,, <<>>\n\nSee below, café.")  # headers as written
    assert text.count("The key is under the mat.") == 1 and "[forwarded message]\nFrom: c@d.e\nSubject: inner" in text
    # Eight-bit text and headers with no charset said, as many clients send them (RFC 6532 headers): every accented
    # letter was "\ufffd", or "Ã©" in a header, without a word (helper-215).
    for encoding in ("utf-8", "cp1252"):
        undeclared = tmp_path / f"{encoding}.eml"
        undeclared.write_bytes(
            "From: José García <j@example.com>\nSubject: Réunion à Zürich\nContent-Type: text/plain\n\n"
            "La réunion est confirmée.\n".encode(encoding)
        )
        assert load_document(undeclared).text == (
            "From: José García <j@example.com>\nSubject: Réunion à Zürich\n\nLa réunion est confirmée."
        ), encoding
    plain = tmp_path / "notes.eml"
    plain.write_text("Just notes, no headers.\n", encoding="utf-8")  # named .eml, not a message: read as text
    assert load_document(plain).text == "Just notes, no headers.\n"


def test_html_keeps_visible_text(tmp_path: Path) -> None:
    page = (
        "<html><head><style>x{}</style><script>alert(1)</script></head>"
        "<body><h1>Title</h1><p>One &amp; two.</p></body></html>"
    )
    text = _html_text(tmp_path, page)
    assert "Title" in text and "One & two." in text and "alert" not in text and "x{}" not in text


def test_html_superscripts_read_raised_and_soft_hyphens_are_no_text(tmp_path: Path) -> None:
    # "10<sup>8</sup>" read "108", a wrong number; a soft hyphen cut "Bundes&shy;gericht" in two words (helper-215).
    page = (
        "<p>c = 3 &times; 10<sup>8</sup> m/s and E = mc<sup>2</sup>; x<sup>-1</sup>. Das Bundes&shy;verfassungs&shy;"
        'gericht.<sup><a href="#n1">1</a></sup> The 21<sup>st</sup> century.<sup>[2]</sup> H<sub>2</sub>O.</p>'
    )
    assert _html_text(tmp_path, page) == (
        "c = 3 × 10⁸ m/s and E = mc²; x⁻¹. Das Bundesverfassungsgericht.¹ The 21st century.[2] H2O."
    )


def test_a_head_left_open_and_a_title_out_of_it_are_read_as_a_browser_shows_them(tmp_path: Path) -> None:
    # HTML lets a page leave out </head>: all its body was skipped with the head ("has no text"). A <title> outside
    # the head was glued into the first sentence, which citations then quoted.
    page = (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Widget FAQ</title><body><h1>Widget FAQ</h1>'
        "<p>The warranty lasts two years.</p></body></html>"
    )
    assert _paragraphs(_html_text(tmp_path, page)) == ["# Widget FAQ", "The warranty lasts two years."]
    page = "<!doctype html><title>Glossary</title><h1>Terms</h1><p>The warranty lasts two years."
    assert _paragraphs(_html_text(tmp_path, page)) == ["# Terms", "The warranty lasts two years."]


def test_html_end_tags_a_page_leaves_out_end_where_a_browser_ends_them(tmp_path: Path) -> None:
    # "<p>One<p>Two<h2>Next": a start tag after an open paragraph gave one line break, not a paragraph break, so
    # paragraphs ran together and the next heading was glued to the sentence before it, no heading any more.
    page = (
        "<h2>How do I reset it?</h2><p>Hold the red button.<p>The light blinks twice.<h2>Warranty</h2>"
        "<p>Two years.<ul><li>Model A<ul><li>Inner</ul><li>Model B</ul><dl><dt>Anvil<dd>A heavy block.</dl>"
        "<table><tr><td><p>x<td>y</table><p>After.<ul><li>C<table><tr><td>z</li>w</table>more<li>D</ul>"
    )
    text = _html_text(tmp_path, page)
    assert _paragraphs(text) == [
        "## How do I reset it?",
        "Hold the red button.",
        "The light blinks twice.",
        "## Warranty",
        "Two years.",
        "- Model A",
        "- Inner",
        "- Model B",
        "Anvil",
        "A heavy block.",
        "| x | y |",  # a paragraph in a cell ends with its cell: the row stays one line
        "After.",
        "- C",
        "| z w |",  # an item's end tag in a cell ends nothing: the item goes on after the table
        "more",
        "- D",
    ]
    index = index_document(text, cache=False, ner=False)
    units = [sentence.text for sentence in index.sentences()]
    assert index.sent_section[units.index("Two years.")] == units.index("## Warranty")


def test_html_cells_left_open_svg_titles_and_skipped_parts_end_nothing_around_them(tmp_path: Path) -> None:
    # Cells left open were kept track of past the table's end, so a long table pushed the list around it out of
    # reach; a paragraph's implied end took its item's dash; an SVG's title left open hid the rest of the page; a
    # list inside <noscript> (never shown) kept the item before it open.
    rows = "<tr><td>r<td>v" * 600
    page = (
        f"<ul><li>A<table>{rows}</table>more<li>B</ul><ul><li><p><div>Item</div></p><li>Two</ul>"
        "<ul><li>C <noscript><ul><li>Enable scripts</ul></noscript>more<li>D</ul><svg><title>icon</svg><p>Body."
    )
    blocks = _paragraphs(_html_text(tmp_path, page))
    assert blocks[0] == "- A" and blocks[1:601] == ["| r | v |"] * 600
    assert blocks[601:] == ["more", "- B", "- Item", "- Two", "- C more", "- D", "Body."]


@pytest.mark.parametrize(
    "end",
    [
        "<!-- old policy, withdrawn:\n<p>Refunds within 365 days.</p>\n</body></html>\n",
        "<![CDATA[ Refunds within 365 days.",
        "<?xml Refunds within 365 days.",
    ],
    ids=["comment", "cdata", "instruction"],
)
def test_html_markup_left_unfinished_at_the_end_shows_nothing(tmp_path: Path, end: str) -> None:
    # A browser shows nothing after an unclosed "<!--": pearl gave the withdrawn text to the model, tags and all.
    text = _html_text(tmp_path, f"<html><body><h1>Refunds</h1><p>Refunds within 30 days.</p>\n{end}")
    assert _paragraphs(text) == ["# Refunds", "Refunds within 30 days."]
    assert _paragraphs(_html_text(tmp_path, "<p>x < y and 3<4</p>< not a tag")) == ["x < y and 3<4\n< not a tag"]
    # A tag left unfinished keeps what follows it: an unbalanced quote must not drop the rest of the page.
    kept = _html_text(tmp_path, "<p>Intro.</p><p>Note <a href='x>link</a> and the rest of the page.</p><p>Third.</p>")
    assert "and the rest of the page." in kept and "Third." in kept


def test_html_choices_are_words_apart_an_iframes_fallback_is_left_out_and_collapsed_text_kept(tmp_path: Path) -> None:
    page = (
        "<body><select><option>Option one<option>Option two</select>"
        '<iframe src="map.html">Your browser shows no frames.</iframe>'
        '<details><summary>Fees</summary><p style="display:none">The fee is 40 euros.</p></details>'
        "<p hidden>Open on Sundays.</p></body>"
    )
    text = _html_text(tmp_path, page)
    assert "Option one Option two" in text and "frames" not in text  # glued: "Option oneOption two"
    # A collapsed answer or a tab is hidden until clicked, and is part of what the page says: kept.
    assert "The fee is 40 euros." in text and "Open on Sundays." in text


def test_html_headings_and_list_items_keep_what_they_are(tmp_path: Path) -> None:
    page = (
        "<html><body><ul><li>Light</li><li>Coal</li></ul><h1>Traits</h1><p>Traits share behaviour.</p>"
        "<h2>using supertraits</h2><p>A trait may need another.</p></body></html>"
    )
    text = _html_text(tmp_path, page)
    assert _paragraphs(text) == [
        "- Light",
        "- Coal",
        "# Traits",
        "Traits share behaviour.",
        "## using supertraits",
        "A trait may need another.",
    ]
    index = index_document(text, cache=False, ner=False)
    units = [sentence.text for sentence in index.sentences()]
    # The headings are headings, lower-case words and all; the short list items are not.
    assert index.sent_section[units.index("A trait may need another.")] == units.index("## using supertraits")
    assert index.sent_section[units.index("Traits share behaviour.")] == units.index("# Traits")
    assert index.sent_section[units.index("- Coal")] == -1


PRETTY = """<html><body>
<h2>
  History
</h2>
<p>Alice Smith founded the company in 1990.</p>
<h3>
  Later years
</h3>
<p>She retired
   in 2010.</p>
<h2>
  References
</h2>
<ol><li>
  <span>Smith, J. (2001). A Book. Retrieved 5 May 2010. ISBN 123.</span>
</li><li>
  <span>Doe, K. (2003). Another Book. Retrieved 6 May 2010. ISBN 456.</span>
</li></ol>
</body></html>"""


def test_pretty_printed_html_keeps_its_headings_and_list_items(tmp_path: Path) -> None:
    # Indentation inside a heading or an item is one space, as a browser shows it: the mark and
    # the words stay on one line, so a heading is known for one and a list of sources for one.
    text = _html_text(tmp_path, PRETTY)
    assert _paragraphs(text) == [
        "## History",
        "Alice Smith founded the company in 1990.",
        "### Later years",
        "She retired in 2010.",
        "## References",
        "- 1. Smith, J. (2001). A Book. Retrieved 5 May 2010. ISBN 123.",  # numbered as a browser numbers them
        "- 2. Doe, K. (2003). Another Book. Retrieved 6 May 2010. ISBN 456.",
    ]
    index = index_document(text, cache=False, ner=False)

    def flagged(flag: int) -> list[str]:
        return [index.sentence_text(i) for i in range(index.sentence_count) if index.sent_flags[i] & flag]

    assert flagged(SentenceFlag.HEADING) == ["## History", "### Later years", "## References"]
    sources = flagged(SentenceFlag.REFERENCES)
    assert sources[0] == "## References" and sources[-1] == "ISBN 456." and len(sources) == 9
    assert not {"Book", "Retrieved", "ISBN"} & {entity.name for entity in index.entities}


def test_an_ordered_lists_items_are_numbered_as_a_browser_numbers_them(tmp_path: Path) -> None:
    # Every item was "- ": "what is step 2?" had no step 2 to find.
    page = (
        '<ol><li>Clone</li><li>Run<ul><li>twice</li></ul></li><li>Start</li></ol><ol start="5"><li>Five<li>Six</ol>'
        '<ol type="a"><li>x<li value="4">d<ol type="I"><li>in</ol><li>e</ol><p>after</p>'
    )
    assert _paragraphs(_html_text(tmp_path, page)) == [
        *("- 1. Clone", "- 2. Run", "- twice", "- 3. Start", "- 5. Five", "- 6. Six", "- a. x", "- d. d", "- I. in"),
        *("- e. e", "after"),
    ]
    # Counted down (`reversed`), or numbered by the items themselves (mdBook's contents), no number is made up.
    assert _paragraphs(_html_text(tmp_path, "<ol reversed><li>Three<li>Two</ol>")) == ["- Three", "- Two"]
    own = "<ol><li><a><strong>1.</strong> What is rustdoc?</a><li><a><strong>3.1.</strong> Settings</a></ol>"
    assert _paragraphs(_html_text(tmp_path, own)) == ["- 1. What is rustdoc?", "- 3.1. Settings"]
    # Another number an item opens with is its words (helper-202: "5. Mai 2020" lost the list's number).
    assert _paragraphs(_html_text(tmp_path, "<ol><li>5. Mai 2020</li></ol>")) == ["- 1. 5. Mai 2020"]
    # An item is never a heading, numbered or not ("1. Install Python" over its code block headed what came after it).
    steps = "<ol><li><p>Install Python</p><pre>apt install python3</pre></li><li><p>Clone It</p></li></ol>"
    index = index_document(_html_text(tmp_path, f"<h1>Setting Up</h1>{steps}"))
    items = [i for i in range(index.sentence_count) if index.sentence_text(i).startswith("- ")]
    assert len(items) == 2 and not any(index.sent_flags[i] & SentenceFlag.HEADING for i in items)
    assert set(index.sent_section[1:]) == {0}  # all under "# Setting Up"
    # A contract's numbered headings, each opening its clause's paragraph, stay headings (a step's search finds their
    # sections by them).
    contract = index_document("1. Term. The term is ten years.\n\n2. Payment. The Licensee pays at once.", cache=False)
    assert [contract.sentence_text(i) for i in range(contract.sentence_count)] == [
        *("1. Term.", "The term is ten years.", "2. Payment.", "The Licensee pays at once.")
    ]
    assert [bool(flags & SentenceFlag.HEADING) for flags in contract.sent_flags] == [True, False, True, False]


def test_a_pages_navigation_is_read_after_its_text(tmp_path: Path) -> None:
    # A news page's menu opened the document: 30 links were all a small budget kept of it (helper-196).
    page = (
        "<html><body><nav><ul><li><a href='/'>Home</a></li><li>Sport</li></ul></nav>"
        "<div class='related' role='navigation'><ul><li>Index</li></ul></div><h1>Storm damage</h1>"
        "<p>Repairs will cost 2 million pounds.</p><nav><nav>Top</nav> Back</nav><p>The end.</p></body></html>"
    )
    assert _paragraphs(_html_text(tmp_path, page)) == [
        *("# Storm damage", "Repairs will cost 2 million pounds.", "The end."),
        *("- Home", "- Sport", "- Index", "Top\nBack"),  # nothing of it left out
    ]
    assert _html_text(tmp_path, "<nav><a>Only</a> <a>a menu</a></nav>") == "Only a menu"


def test_a_headings_permalink_mark_is_not_part_of_it(tmp_path: Path) -> None:
    # Sphinx's "¶" link after every heading: "Installation Guide¶" was the heading, and a word of the entity sheet.
    page = (
        '<h1>Installation Guide<a class="headerlink" href="#guide" title="Permalink">¶</a></h1><p>See ¶ 12.</p>'
        "<p>As stated in <b>¶</b> 12 of the agreement.</p>"  # a paragraph mark of its own, not a link's, is kept
    )
    assert _paragraphs(_html_text(tmp_path, page)) == [
        *("# Installation Guide", "See ¶ 12.", "As stated in ¶ 12 of the agreement.")
    ]


def test_html_tables_are_rows_of_cells_and_no_headings(tmp_path: Path) -> None:
    page = """<table>
      <tr><th>City</th>
          <th>Population</th></tr>
      <tr><td>Auckland</td><td>1,628,900</td></tr>
      <tr><td>Wellington</td><td></td><td>418,500</td></tr>
      <tr><td></td><td>1</td><td></td></tr>
    </table><p>Two&nbsp;cities &amp;lt;x&amp;gt; <b>and</b>
    <i>more</i>.<br>Next line.</p><pre>  kept
    as written</pre>"""
    text = _html_text(tmp_path, page)
    assert _paragraphs(text) == [
        "| City | Population |",
        "| Auckland | 1,628,900 |",
        "| Wellington | | 418,500 |",  # an empty cell keeps the columns in line
        "| | 1 | |",
        "Two\xa0cities &lt;x&gt; and more.\nNext line.",  # an entity in the page's text is decoded once
        "```\n  kept\n    as written\n```",  # code, fenced: shown with its lines and indentation
    ]
    index = index_document(text, cache=False, ner=False)
    assert not any(flags & SentenceFlag.HEADING for flags in index.sent_flags)  # a row is no title


def test_two_html_line_breaks_are_a_paragraph_break(tmp_path: Path) -> None:
    # Older pages break paragraphs with "<br><br>", which a browser shows as an empty line; one
    # <br> is a line break, which the segmenter reads as wrapping when the lines are short.
    page = (
        "<div>Chapter one. Alice went home.<br><br>Bob stayed behind at the mill.<br>\n  <br/>\n"
        "The end came soon.<br>It was late.<br><br><br>Goodbye.</div>"
    )
    text = _html_text(tmp_path, page)
    assert _paragraphs(text) == [
        "Chapter one. Alice went home.",
        "Bob stayed behind at the mill.",
        "The end came soon.\nIt was late.",
        "Goodbye.",
    ]
    assert _indexed_paragraphs(text) == _paragraphs(text)


def test_blocks_in_an_html_table_cell_keep_its_row_on_one_line(tmp_path: Path) -> None:
    # A paragraph, list, heading or <br> in a cell is a space, as a Markdown row has no line
    # breaks; a table in a cell is rows of its own; an omitted </td> or </tr> ends its cell or row.
    page = """<table>
      <tr><td><p>Alpha</p></td><td>b</td></tr>
      <tr><th>Born</th><td>1 May 1900<br>London</td></tr>
      <tr><th><h3>Languages</h3></th><td><ul><li>English</li><li>Maori</li></ul></td></tr>
      <tr><td>Outer</td><td><table><tr><td>x</td><td>y</td></tr></table>more</td><td>c</td></tr>
      <tr><td>Old<td>style
      <tr><td>rows<td>too
    </table><p>After.</p>"""
    text = _html_text(tmp_path, page)
    assert _paragraphs(text) == [
        "| Alpha | b |",
        "| Born | 1 May 1900 London |",
        "| Languages | English Maori |",
        "| Outer | |",
        "| x | y |",
        "| more | c |",
        "| Old | style |",
        "| rows | too |",
        "After.",
    ]
    assert _indexed_paragraphs(text) == _paragraphs(text)


def test_a_markdown_heading_mark_is_no_entity() -> None:
    from pearl.context._entities import load_ner

    if load_ner() is None:
        pytest.skip("the spaCy model is not installed")
    text = "# Mozilla\n\n## History\n\nMozilla shipped a browser.\n\n### Pledge\n\n#### SeaMonkey\n\nIt went on.\n"
    names = {entity.name for entity in index_document(text, cache=False, ner=True).entities}
    assert "Mozilla" in names and not [name for name in names if "#" in name]


def test_pdf_with_text(tmp_path: Path) -> None:
    (tmp_path / "d.pdf").write_bytes(_pdf("The lease ends in 2031."))
    assert "The lease ends in 2031." in load_document(tmp_path / "d.pdf").text


def test_a_pdfs_text_is_read_up_to_the_size_limit_page_by_page(tmp_path: Path) -> None:
    # The limit was on the file's bytes alone: 18 KB whose pages share one compressed stream gave 54 million characters
    # in 81 s, and more pages would have filled the memory (helper-160).
    pages = [[f"Line {n} of page {p} says what the lease holds." for n in range(40)] for p in range(3)]
    data = _pdf_pages(pages)
    with pytest.raises(DocumentTooLargeError, match=r"its text is over 2,000 characters by page 2 of 3, over the"):
        _pdf_to_text(tmp_path / "d.pdf", data, max_chars=2_000)
    assert "page 2" in _pdf_to_text(tmp_path / "d.pdf", data, max_chars=len(data))


def test_pdf_lines_become_paragraphs_and_hyphenated_words_join(tmp_path: Path) -> None:
    # A PDF's text layer is printed lines: without paragraphs a heading runs into the sentence
    # after it, and "evi-" + "dence" is two words no search finds.
    lines = [
        "1. TERM",
        "This Agreement begins on the Effective Date and continues for a period of five (5)",
        "years unless it is terminated earlier under Section 2 of this Agreement. The evi-",
        "dence of any renewal must be in writing and signed by both of the parties hereto.",
        "2. TERMINATION",
        "Either party may terminate this Agreement by giving the other party sixty (60) days",
        "written notice.",
        "Notices go to the addresses first written above, by courier or by registered mail.",
    ]
    (tmp_path / "c.pdf").write_bytes(_pdf(lines))
    text = load_document(tmp_path / "c.pdf").text
    assert "The evidence of any renewal" in text
    paragraphs = [" ".join(p.split()) for p in text.split("\n\n")]
    assert paragraphs[0] == "1. TERM" and paragraphs[2] == "2. TERMINATION"
    assert paragraphs[3].endswith("sixty (60) days written notice.")  # a full line runs on
    assert paragraphs[4].startswith("Notices go to")  # a short line ended the paragraph before
    index = index_document(text, cache=False, ner=False)
    headings = [
        index.sentence_text(i) for i in range(index.sentence_count) if index.sent_flags[i] & SentenceFlag.HEADING
    ]
    assert headings == ["1. TERM", "2. TERMINATION"]


def test_several_files_keep_boundaries(tmp_path: Path) -> None:
    (tmp_path / "b.txt").write_text("Second file.", encoding="utf-8")
    (tmp_path / "a.md").write_text("First file.", encoding="utf-8")
    doc = load_document(tmp_path)
    assert [Path(p.name).name for p in doc.parts] == ["a.md", "b.txt"]
    for part in doc.parts:
        assert doc.text[part.start : part.end] == Path(part.name).read_text(encoding="utf-8")
    assert Path(doc.part_at(doc.parts[1].start)).name == "b.txt"


STORY = Path(__file__).resolve().parents[1] / "datasets" / "sample" / "the_keeper_of_tren_light.txt"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-8-sig"])
def test_text_with_a_byte_order_mark_is_read_in_its_encoding(tmp_path: Path, encoding: str) -> None:
    # Windows Notepad saves "Unicode" as UTF-16 with a byte-order mark: its NUL bytes are text, not binary.
    text = "Dorota keeps the light at Tr’en.\r\nThe lamp burns oil.\r\n"
    bom = {"utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}.get(encoding, b"")
    (tmp_path / "notepad.txt").write_bytes(bom + text.encode(encoding))
    assert load_document(tmp_path / "notepad.txt").text == "Dorota keeps the light at Tr’en.\nThe lamp burns oil.\n"


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "cp1252", "latin-1"])
def test_text_saved_without_a_mark_in_utf_16_or_a_western_encoding_is_read(tmp_path: Path, encoding: str) -> None:
    # UTF-16 with no byte-order mark was "a binary file"; a letter saved in Windows-1252 "cannot be decoded as UTF-8".
    text = "Zoë keeps the café at Köln. The ferry leaves at noon, and Mira runs it for the islanders.\n" * 3
    if encoding == "cp1252":
        text = text.replace("café", "“café”")  # punctuation Latin-1 does not have
    (tmp_path / "letter.txt").write_bytes(text.encode(encoding))
    assert load_document(tmp_path / "letter.txt").text == text
    if encoding.startswith("utf-16"):  # a byte after its last character (a "\n" a tool added) is none of its
        (tmp_path / "letter.txt").write_bytes(text.encode(encoding) + b"\n")
        assert load_document(tmp_path / "letter.txt").text == text
    else:  # bytes of two Windows-1252 characters may spell one UTF-8 character: „groß“ ends in ß“, bytes DF 93
        german = "Der Käufer zahlt den Preis für die Größe „groß“ binnen zehn Tagen nach Lieferung der Ware.\n" * 3
        (tmp_path / "letter.txt").write_bytes(german.encode("cp1252"))
        assert load_document(tmp_path / "letter.txt").text == german


@pytest.mark.parametrize(
    ("content", "message"),
    [
        # Most bytes past ASCII: Russian in Windows-1251 would read as accented garbage; one byte of another encoding
        # in UTF-8 would garble each of its UTF-8 characters. Both are refused, saying where.
        ("Паром уходит в полдень. Мира ведёт его.".encode("cp1251"), "cannot be decoded as UTF-8"),
        ("Zoë keeps the café at Köln and the ferry. ".encode() * 3 + b"caf\xe9", "byte 0xe9 at line 1, column 130"),
        # Its words amid control words ("\\f0\\fs24 Dear Mr. Thompson,"): refused as a .docx is.
        (b"{\\rtf1\\ansi{\\fonttbl\\f0 Times;}\\f0\\fs24 Dear Mr. Thompson,\\par}", "RTF document.*save it as PDF"),
        (b"\x00\x01" * 40 + b"binary", "binary"),  # NULs on both sides of each pair: no UTF-16
        (b"\xff\xfe" + "a\x00b".encode("utf-16-le"), "binary"),  # NUL characters are no text, BOM or not
        (b"\xff\xfe" + b"\x00\xd8\x41\x00", "UTF-16 byte-order mark but is not UTF-16"),  # a lone surrogate
        (b"\xef\xbb\xbfcaf\xe9", "UTF-8 byte-order mark but is not UTF-8"),
    ],
)
def test_a_byte_order_mark_does_not_let_a_binary_file_in(tmp_path: Path, content: bytes, message: str) -> None:
    (tmp_path / "odd.txt").write_bytes(content)
    with pytest.raises(DocumentError, match=message):
        load_document(tmp_path / "odd.txt")


@pytest.mark.parametrize("end", ["\r\n", "\r"])
def test_text_given_with_windows_line_ends_reads_as_it_does_with_unix_ones(end: str) -> None:
    # Given as a string (Document.from_text, ask(text), index_document(text)), "\r\n" was read as it is: no blank
    # line was one, so the text had one paragraph and no headings.
    lines = ["INTRODUCTION", "", "The company was founded in 1990 by two friends", "who met at school.", "",
             "TERMS AND CONDITIONS", "", "The term is five years."]  # fmt: skip
    given = end.join(lines)
    windows, unix = (index_document(Document.from_text(t), cache=False) for t in (given, "\n".join(lines)))
    assert windows.text == unix.text and windows.sent_flags == unix.sent_flags and windows.sentence_count == 4
    assert any(f & SentenceFlag.HEADING for f in windows.sent_flags)
    for sid in range(windows.sentence_count):  # a citation's file offsets count in the string as given
        citation = windows.citation(sid)
        assert given[citation.file_start : citation.file_end].replace(end, "\n") == citation.text


def _on_disk(path: Path, encoding: str) -> str:
    with open(path, encoding=encoding, newline="") as file:  # line ends as written
        return file.read()


@pytest.mark.parametrize(
    ("line_end", "encoding"),
    [("\r\n", "utf-8"), ("\r\n", "utf-8-sig"), ("\r\n", "utf-16"), ("\n", "utf-8-sig"), ("mixed", "utf-8")],
)
def test_citations_give_offsets_into_the_file_as_written(tmp_path: Path, line_end: str, encoding: str) -> None:
    # The document's text has "\n" for every line end; a citation's file offsets count "\r\n" as
    # the two characters the file has (and no byte-order mark), or an editor finds other words there.
    lines = STORY.read_text(encoding="utf-8").split("\n")
    ends = ["\r\n", "\n", "\r"] if line_end == "mixed" else [line_end]
    written = "".join(line + ends[i % len(ends)] for i, line in enumerate(lines))
    (tmp_path / "a.txt").write_text("A first file.\r\n\r\nIt is short.\r\n", encoding="utf-8")
    path = tmp_path / "story.txt"
    path.write_bytes(written.encode(encoding))
    decoded = _on_disk(path, "utf-16" if encoding == "utf-16" else "utf-8-sig")
    index = index_document([tmp_path / "a.txt", path], cache=False, ner=False)
    citations = [index.citation(sid) for sid in range(index.sentence_count)]
    assert {c.source for c in citations} == {str(tmp_path / "a.txt"), str(path)}
    for citation in citations:
        own = decoded if citation.source == str(path) else _on_disk(tmp_path / "a.txt", "utf-8")
        assert own[citation.file_start : citation.file_end].replace("\r\n", "\n").replace("\r", "\n") == citation.text
    assert citations[-1].file_end == len(decoded.rstrip())


def test_an_answer_cites_a_windows_text_file_where_its_words_are(tmp_path: Path) -> None:
    crlf = tmp_path / "crlf.txt"
    crlf.write_bytes(STORY.read_text(encoding="utf-8").replace("\n", "\r\n").encode("utf-8"))
    question = "Why did Dorota put water in the lamp oil?"
    plan = 'why = FIND_REASON(CTX, "Dorota water lamp oil")'

    def reply(request: CompletionRequest) -> str:  # plans `plan`, and cites the last two sentences it is shown
        if (request.prompt or "").startswith("plan"):
            return plan
        # Not the "[S12]" of the instructions' example, which the answer would note as not shown.
        shown = re.findall(r"\[S(\d+)\]", request.messages[-1].content.replace("like [S12]", ""))
        return "She wanted the light to fail " + " ".join(f"[S{sid}]" for sid in shown[-2:])

    answer = Pearl(llm=FakeLLM(default=reply), settings=load_settings(cache=False)).ask(crlf, question)
    decoded = _on_disk(crlf, "utf-8")
    assert len(answer.citations) == 2 and not answer.notes
    for citation in answer.citations:
        assert citation.file_start > citation.start  # past the first line ends, each a character longer
        assert decoded[citation.file_start : citation.file_end].replace("\r\n", "\n") == citation.text


def test_a_manual_page_saved_with_its_overstrikes_reads_as_col_b_shows_it(tmp_path: Path) -> None:
    # `man ls | cat` bolds a character by striking it over itself and underlines it by striking it over "_": read as
    # written, "N\bNA\bAM\bME\bE" was no "NAME" a question could match, nor "_\bf_\bi_\bl_\be" a "file".
    def bold(word: str) -> str:
        return "".join(f"{char}\b{char}" for char in word)

    def underline(word: str) -> str:
        return "".join(f"_\b{char}" for char in word)

    plain = (
        "NAME\n       ls - list directory contents\n\nSYNOPSIS\n       ls [OPTION]... [FILE]...\n\n"
        "DESCRIPTION\n       List information about the FILEs.  Sort entries alphabetically.\n\n"
        "       -a, --all\n              do not ignore entries starting with .\n"
    )
    struck = plain.replace("-a, --all", f"{bold('-a')}, {bold('--all')}")
    for title in ("NAME", "SYNOPSIS", "DESCRIPTION"):
        struck = struck.replace(f"{title}\n", f"{bold(title)}\n")
    for argument in ("OPTION", "FILE"):
        struck = struck.replace(f"[{argument}]", f"[{underline(argument)}]")
    path = tmp_path / "ls.txt"
    path.write_bytes(struck.replace("\n", "\r\n", 3).encode("utf-8"))  # a Windows line end or three too
    assert load_document(path).text == plain
    # A citation's offsets are the file's: its span takes every character of each overstrike.
    decoded = _on_disk(path, "utf-8")
    index = index_document(path, cache=False, ner=False)
    citations = [index.citation(sid) for sid in range(index.sentence_count)]
    assert citations[0].file_start == 0 and citations[-1].file_end == len(decoded.rstrip())
    for citation in citations:
        shown = re.sub(r".\x08", "", decoded[citation.file_start : citation.file_end]).replace("\r\n", "\n")
        assert shown == citation.text
    # Source code is read as written: a backspace in it is no overstrike.
    (tmp_path / "tool.py").write_text('BOLD = "N\bN"\n', encoding="utf-8")
    assert load_document(tmp_path / "tool.py").text == 'BOLD = "N\bN"\n'
    (tmp_path / "tool").write_text('#!/bin/sh\nprintf "N\bN"\n', encoding="utf-8")  # a script named by its #!
    assert load_document(tmp_path / "tool").text == '#!/bin/sh\nprintf "N\bN"\n'


BAD_INPUTS: dict[str, tuple[str, bytes | None, str]] = {
    # id: (file name, content or None for "do not create", expected message)
    "missing": ("missing.txt", None, "no such file"),
    "empty": ("empty.txt", b"", "empty"),
    "binary": ("bin.txt", b"\x00\x01\x02binary", "binary"),
    # A Word file and a gzipped manual page were "a binary file": named, with what to do instead.
    "docx": ("memo.docx", b"PK\x03\x04\x14\x00\x00\x00\x08\x00word/document.xml", r"a ZIP archive .*save it as PDF"),
    "gzip": ("ls.1.gz", b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03+\xc9\xc8", r"gzip-compressed.*gunzip"),
    # Where the stray byte is: one byte of another encoding is mended there (helper-182).
    "undecodable": (
        "latin.txt",
        "caf\xe9 ol\xe9".encode("latin-1"),
        r"UTF-8 text \(byte 0xe9 at line 1, column 4, offset 3\)",
    ),
    # A browser reads a page's own utf-16 meta as UTF-8; decoded as UTF-16, Latin-1 bytes became CJK characters.
    "declared utf-16": ("page.html", b'<html><meta charset="utf-16"><p>caf\xe9s</p></html>', "nor as the utf-16"),
    "declared python codec": ("page.html", b'<meta charset="unicode_escape"><p>caf\xe9</p>', "nor as the unicode_"),
    "undecodable as declared": (
        "page.html",
        b'<html><meta charset="UTF-8"><p>caf\xe9</p></html>',
        "cannot be decoded as UTF-8 text, nor as the utf-8 it declares",
    ),
    "pdf-no-text": ("scan.pdf", _pdf(None), "no text layer"),
    "pdf-broken": ("broken.pdf", b"%PDF-1.4 garbage", "broken.pdf: not a readable PDF"),
    # A text file named .pdf was "not a readable PDF (Stream has ended unexpectedly)".
    "pdf-not-one": ("story.pdf", b"Once upon a time.\n", r"story.pdf: not a PDF \(it does not open with %PDF-\)"),
    "whitespace": ("blank.txt", b"  \n\n ", "no text"),
    # Zero-width characters alone were indexed as a sentence and sent to the model.
    "zero-width": ("zw.txt", "\u200b\u200d\n".encode(), "zw.txt: has no text"),
    "zero-width-eml": ("zw.eml", "\u200b\n".encode(), "zw.eml: has no text"),  # no headers: read as text
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_inputs(tmp_path: Path, case: str) -> None:
    name, content, message = BAD_INPUTS[case]
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DocumentError, match=message):
        load_document(path)


@pytest.mark.parametrize(
    ("meta", "encoding"),
    [
        ('<meta charset="iso-8859-1">', "cp1252"),  # as browsers read Latin-1: windows-1252, so the euro sign is one
        ("<META http-equiv='Content-Type' content='text/html; charset=windows-1252'>", "cp1252"),
        ('<meta charset="iso88591">', "cp1252"),
        ('<meta charset="Shift_JIS">', "shift_jis"),
    ],
)
def test_a_saved_page_that_is_not_utf8_is_read_in_the_charset_it_declares(
    tmp_path: Path, meta: str, encoding: str
) -> None:
    # It was refused as "cannot be decoded as UTF-8": a page saved in windows-1252 is common, and a browser reads it.
    words = "Zoë owns the café in Köln; a cup costs 5 €." if encoding == "cp1252" else "日本語の本です。"
    page = tmp_path / "page.html"
    page.write_bytes(f"<html><head>{meta}</head><body><p>{words}</p></body></html>".encode(encoding))
    assert load_document(page).text.strip() == words
    # UTF-8 is read as UTF-8 whatever a page declares: it is never Latin-1 mis-read as UTF-8.
    page.write_bytes(f"<html><head>{meta}</head><body><p>Zoë</p></body></html>".encode())
    assert load_document(page).text.strip() == "Zoë"


@pytest.mark.parametrize("name", ["page.html", "page.xhtml", "saved-page"])
def test_an_xhtml_page_is_read_as_a_page_in_the_encoding_its_xml_declaration_names(tmp_path: Path, name: str) -> None:
    # An XHTML page opens with an XML declaration, which names its encoding where no meta does: a Latin-1 page was
    # refused as "cannot be decoded as UTF-8", and one named .xhtml (or with no suffix) was read as text, tags and all.
    words = "Zoë owns the café in Köln."
    page = tmp_path / name
    xhtml = '<html xmlns="http://www.w3.org/1999/xhtml"><head><title>Menu</title></head>'
    latin = f'<?xml version="1.0" encoding="ISO-8859-1"?>{xhtml}<body><p>{words}</p></body></html>'
    page.write_bytes(latin.encode("latin-1"))
    assert load_document(page).text == words
    doctype = '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "xhtml1-strict.dtd">'
    utf8 = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n{doctype}\n<!-- saved -->\n{xhtml}<body><h1>Menu</h1><p>{words}</p>'
    )
    page.write_text(f"{utf8}</body></html>\n", encoding="utf-8")
    assert load_document(page).text.strip() == f"# Menu\n\n{words}"
    if name.endswith(".xhtml"):  # and a folder reads it, as it reads .html (it left .xhtml out)
        assert load_document(tmp_path).text.strip() == f"# Menu\n\n{words}"


@pytest.mark.parametrize(
    "path",
    [
        "contract.pdf",
        "My Documents/report.TXT",
        "notes/",
        "C:\\docs\\a.md",
        "tool_typo.py",
        "Makefile",
        # Documents of kinds pearl does not read as such were read as the text of their names.
        "report.docx",
        "Q3 results.xlsx",
        "data.csv",
    ],
)
def test_a_missing_path_given_as_a_string_is_refused_not_read_as_text(path: str) -> None:
    # The README's `pearl.ask("contract.pdf", ...)` from the wrong folder once answered about the
    # twelve characters "contract.pdf" instead.
    llm = FakeLLM(default="ok")
    with pytest.raises(DocumentError, match="no such file or directory.*Document.from_text"):
        Pearl(llm, load_settings(cache=False)).ask(path, "When does it end?", method="direct")
    assert llm.history == []


@pytest.mark.parametrize(
    "text",
    ["Guido van Rossum created Python; its homepage is python.org", "See the notes in debug.log", "Open data.csv"],
)
def test_a_sentence_ending_in_a_files_name_is_text(text: str) -> None:
    # Refused as a missing file once .org, .log and .csv were taken for files' names in any one-line string.
    assert as_document(text).text == text


@pytest.mark.parametrize("name", ["My Documents/story", "Meeting notes"])
def test_a_missing_file_in_a_list_is_said_missing_not_a_passage(name: str) -> None:
    # `pearl ask "Meeting notes" ...` was told to join passages with Python's Document.from_text.
    with pytest.raises(DocumentError, match=f"{name}: no such file or directory"):
        as_document([name])


def test_an_empty_name_is_refused_not_read_as_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `Path("")` is the current folder: load_document("") and ask([""], ...) read every file under it and sent it to
    # the model (helper-170), as `pearl ask "$UNSET" "..."` did.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "private.txt").write_text("The safe's code is 4711.", encoding="utf-8")
    llm = FakeLLM(default="ok")
    with pytest.raises(DocumentError, match="'' names no file"):
        load_document("")
    with pytest.raises(DocumentError, match="' ' names no file"):
        Pearl(llm, load_settings(cache=False)).ask([" "], "Who?", method="direct")
    assert llm.history == []


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ("documents", r"a list holding Document as a document: .*join their texts: Document\.from_text"),
        ([1, 2.5], r"a list holding float and int as a document: a list is of files or folders$"),
    ],
)
def test_a_list_not_of_paths_is_told_what_a_list_holds(items: object, message: str) -> None:
    # It said "cannot read a list as a document: pass a path, a Document or a string", yet a list of paths is read.
    if items == "documents":
        items = [Document.from_text("Mira runs the ferry."), Document.from_text("Tom keeps a shop.")]
    with pytest.raises(TypeError, match=message):
        as_document(items)  # type: ignore[arg-type]


def test_a_folder_of_folders_nested_deep_is_read(tmp_path: Path) -> None:
    # os.walk recurses before Python 3.12: 1,400 folders one in another raised RecursionError (helper-160). Here 400
    # under a recursion limit of 300, which os.walk's recursion passes and the read must not need.
    deep = tmp_path / "notes"
    bottom = deep / "/".join(["a"] * 400)
    bottom.mkdir(parents=True)
    (deep / "top.txt").write_text("Mira runs the ferry.", encoding="utf-8")
    (bottom / "bottom.txt").write_text("Tom keeps a shop.", encoding="utf-8")
    (deep / ".hidden").mkdir()
    (deep / ".hidden" / "no.txt").write_text("Not read.", encoding="utf-8")
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(300)
    try:
        text = load_document(deep).text
    finally:
        sys.setrecursionlimit(limit)
    assert "Mira runs the ferry." in text and "Tom keeps a shop." in text and "Not read." not in text


def test_a_list_of_passages_is_refused_with_how_to_ask_about_them(tmp_path: Path) -> None:
    # It said "Alice went home.: no such file or directory", and nothing of how to ask about passages.
    story = tmp_path / "story.txt"
    story.write_text("Mira runs the ferry.", encoding="utf-8")
    llm = FakeLLM(default="ok")
    with pytest.raises(DocumentError, match=r"'Alice went home\.' is not a file: a list is of files or folders"):
        Pearl(llm, load_settings(cache=False)).ask([str(story), "Alice went home."], "Who?", method="direct")
    assert llm.history == []
    with pytest.raises(DocumentError, match="missing.txt: no such file"):  # a file's name still reads as one
        Pearl(llm, load_settings(cache=False)).ask([str(story), str(tmp_path / "missing.txt")], "Who?")


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("https://example.com/a.html", "https://example.com/a.html: pearl reads local files, not URLs: download it"),
        ("contract.txt\n", "'contract.txt\\n' has white space around a file's name: strip it"),
        ("~/contract.pdf", "{home}/contract.pdf: no such file or directory;"),
    ],
)
def test_a_refused_path_string_says_what_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str, message: str
) -> None:
    # Each once read "no such file or directory (looked in <cwd>)": false for a file that exists
    # with a line break after its name, misleading for a URL and for a path under `~`.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "contract.txt").write_text("The term is two years.")
    with pytest.raises(DocumentError, match=re.escape(message.format(home=tmp_path / "home"))):
        as_document(source)


@pytest.mark.parametrize("text", ["Mira runs the ferry to Tr'en.", "The report is in report.pdf.\nIt is long."])
def test_text_that_mentions_a_file_is_still_text(text: str) -> None:
    answer = Pearl(FakeLLM(default="ok"), load_settings(cache=False)).ask(text, "Who?", method="direct")
    assert answer.answer == "ok"


def test_empty_directory(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match=r"directory with no files of the kinds read from a folder") as raised:
        load_document(tmp_path)
    assert "other kinds" not in str(raised.value)


def test_a_folder_of_other_kinds_says_which_and_how_to_read_them(tmp_path: Path) -> None:
    # A .csv given by name is read as text; in a folder it is left out, so a folder of them read as empty.
    (tmp_path / "sales.csv").write_text("region,total\nNorth,12\n", encoding="utf-8")
    (tmp_path / "img.png").write_bytes(b"\x89PNG")
    with pytest.raises(DocumentError, match=r"holds files of other kinds \(\.csv, \.png\): name them to read them"):
        load_document(tmp_path)
    assert "North,12" in load_document(tmp_path / "sales.csv").text


def test_size_limit(tmp_path: Path) -> None:
    (tmp_path / "big.txt").write_text("word " * 100, encoding="utf-8")
    with pytest.raises(DocumentTooLargeError, match="over the limit of 100"):  # a DocumentError, named for what it is
        load_document(tmp_path / "big.txt", max_bytes=100)
    assert load_document(tmp_path / "big.txt", max_bytes=5e6).text  # a whole number, as Settings takes it
    for limit in (0, -5, 2.5):  # refused as Settings.max_bytes is: 0 read every file as over the limit
        with pytest.raises(ConfigError, match="max_bytes must be a whole number of bytes, 1 or more"):
            load_document(tmp_path / "big.txt", max_bytes=limit)  # type: ignore[arg-type]


FULL = "The parties agree that the licence granted here covers every site the licensee runs today"  # 88 chars
SITES = "Each site is named in the schedule, and the schedule grows when the licensee opens a new one"
FEES = "Fees are paid on each site from the day it opens until the day the licensee closes it for good"
REVIEW = "The licensor may review the list of sites at any time on giving the licensee ten days notice"


def test_pdf_line_rules_decide_paragraphs_from_line_lengths_and_case() -> None:
    page = "\n".join(
        [
            FULL,
            FULL[: int(len(FULL) * 0.88)],  # a little short, as justified text is: no break
            FULL,
            "short line, then",  # short, but the next line goes on in lower case: no break
            "the sentence goes on and ends here with all the words it needs to be full.",
            "Then a short one.",  # short, next opens a paragraph: break
            FULL,
            "by Self-",  # a hyphen before a capital is a real one: kept, and no break
            "Employed persons, who are covered by the scheme that this section sets out in full.",
            "Renewal",  # after a finished sentence, short, but the next line goes on in lower case:
            # not a heading, the start of a sentence run over two lines
            "is automatic unless either party gives notice of its wish to end the agreement.",
        ]
    )
    paragraphs = [" ".join(p.split()) for p in _pdf_paragraphs([page]).split("\n\n")]
    assert paragraphs[0].startswith(FULL) and paragraphs[0].endswith("with all the words it needs to be full.")
    assert paragraphs[1] == "Then a short one."
    assert paragraphs[2].endswith(
        "by Self- Employed persons, who are covered by the scheme that this section sets out in full. "
        "Renewal is automatic unless either party gives notice of its wish to end the agreement."
    )
    # Ragged-right text: a line is short wherever the next word did not fit. "...Institute of Technology\nand Lawrence
    # Berkeley National\nLaboratory." ended its paragraph, and its sentence, inside the name; a paragraph's first line
    # cut so short read as a heading (helper-215). A heading is still one: far short of a line, or in title case.
    ragged = [
        "Project History",
        "The project was led by researchers",
        "from Stanford University,",
        "Massachusetts Institute of Technology",
        "and Lawrence Berkeley National",
        "Laboratory.",
        "Funding came from the European",
        "Commission, the Bill and Melinda Gates",
        "Foundation and three governments.",
        "Outcomes",
        "The systems now run in three countries.",
    ]
    assert [" ".join(p.split()) for p in _pdf_paragraphs(["\n".join(ragged)]).split("\n\n")] == [
        "Project History",
        "The project was led by researchers from Stanford University, Massachusetts Institute of Technology and "
        "Lawrence Berkeley National Laboratory.",
        "Funding came from the European Commission, the Bill and Melinda Gates Foundation and three governments.",
        "Outcomes",
        "The systems now run in three countries.",
    ]
    # A numbered heading, a division's, a list's last item and an address block's last line end their paragraphs:
    # the rule above had run each into the text after it (helper-218).
    listed = [
        FULL,
        "the terms set out below.",
        "4.2 Limitation of liability for indirect damages",
        FULL,
        "end of it.",
        "Section 5 Payment terms and invoicing schedule",
        FULL,
        "here.",
        "The box holds:",
        "• Two cables",
        "• A printed manual",
        FULL,
        "done.",
        "Send notices to:",
        "Jane Smith",
        "Director of Operations",
        FULL,
        "end.",
    ]
    paragraphs = [" ".join(p.split()) for p in _pdf_paragraphs(["\n".join(listed)]).split("\n\n")]
    for alone in ("4.2 Limitation of liability for indirect damages", "Section 5 Payment terms and invoicing schedule"):
        assert alone in paragraphs, paragraphs
    assert "• A printed manual" in paragraphs and "Director of Operations" in paragraphs, paragraphs
    # A last line that is a word, not a page number ("civil" is no roman numeral), stays in its paragraph.
    assert _pdf_paragraphs([f"{FULL}\n{FULL}\n{FULL}\n{FULL}\nthe rights of the parties are\ncivil"]).endswith(
        "are\ncivil"
    )


def test_pdf_hyphens_follow_the_documents_own_words_and_page_furniture_stands_alone() -> None:
    body = [FULL, "a licence for the third-", "party software and the evi-", "dence of use.", FULL]
    pages = ["\n".join(["ACME LICENSE AGREEMENT - CONFIDENTIAL", *body, f"Page {n} of 3"]) for n in (1, 2, 3)]
    pages[0] = pages[0].replace(FULL, FULL + " and any third-party product", 1)
    text = _pdf_paragraphs(pages)
    assert "the third-party software" in text  # the document writes "third-party" elsewhere
    assert "the evidence of use." in text  # and no "evi-dence": the hyphen broke the word
    paragraphs = text.split("\n\n")
    assert paragraphs.count("ACME LICENSE AGREEMENT - CONFIDENTIAL") == 3 and "Page 2 of 3" in paragraphs
    index = index_document(text, cache=False, ner=False)
    header = [i for i in range(index.sentence_count) if index.sentence_text(i).startswith("ACME LICENSE")]
    assert header and all(index.sent_flags[i] & SentenceFlag.BOILERPLATE for i in header)


def test_pdf_paragraph_running_over_a_page_break_is_joined_and_the_furniture_set_after_it() -> None:
    pages = [
        "\n".join(
            [
                "ACME LICENSE AGREEMENT",
                FULL,
                FULL,
                "the licensee must keep all of the records for seven full years and must show them",
                "12",
            ]
        ),
        "\n".join(["ACME LICENSE AGREEMENT", "to the licensor on request, and the licensor may audit the evi-", "13"]),
        "\n".join(["ACME LICENSE AGREEMENT", "dence once a year.", "Renewal", FULL + ".", "14"]),
    ]
    paragraphs = _pdf_paragraphs(pages).split("\n\n")
    body = [" ".join(p.split()) for p in paragraphs if "\n" in p or len(p) > 30]
    assert body[0].endswith(
        "keep all of the records for seven full years and must show them to the licensor on request, and the "
        "licensor may audit the evidence once a year."
    ), body
    # Nothing is lost: the headers and page numbers come after the paragraph they interrupted.
    assert paragraphs.count("ACME LICENSE AGREEMENT") == 3 and {"12", "13", "14"} <= set(paragraphs)
    assert paragraphs.index("12") > 0 and "Renewal" in paragraphs
    # A page that ends a sentence is not joined to the next.
    # A footer of two lines is furniture too, and the paragraph runs on over it.
    pay = "the licensee shall pay all of the fees that are due under this agreement within thirty days of"
    due = "each invoice, and any amount not paid when due shall bear interest at the rate that is set out in"
    rest = "schedule b and shall be payable on demand by the licensor as provided in this agreement."
    footed = [
        "\n".join(["Master License Agreement", "4. Payment", pay, due, "ACME Corp. Confidential", "Page 1 of 3"]),
        "\n".join(["Master License Agreement", rest, "ACME Corp. Confidential", "Page 2 of 3"]),
        "\n".join(["Master License Agreement", "5. Term", pay, "ACME Corp. Confidential", "Page 3 of 3"]),
    ]
    paragraphs = _pdf_paragraphs(footed).split("\n\n")
    assert any(f"{due}\n{rest}" in p for p in paragraphs), paragraphs
    assert paragraphs.count("ACME Corp. Confidential") == 3 and "Page 2 of 3" in paragraphs
    # Not joined: a short last line (a heading, a signature), or a short first line (a heading)
    # opening in capitals; nor over an edge line that repeats on only two pages, which may be text.
    opening = "Whereas the Licensee wishes to hold a licence for every site it runs and for the sites it opens"
    for end, start in (("Signed by the Licensor", opening), ("and " + FULL, "Schedule A")):
        first_page = f"{FULL}\n{SITES}\n{end}\n1"
        split = _pdf_paragraphs([first_page, f"{start}\n{FEES}\n{REVIEW}.\n2"]).split("\n\n")
        assert " ".join(split[0].split()).endswith(end) and split[1] == "1", split
    agreement = [  # every line distinct but "Agreement.", which ends two pages
        f"{FULL}\n{SITES} under this\nAgreement.",
        f"{FEES}\nthe end.",
        f"{REVIEW}\n{REVIEW} once more under this\nAgreement.",
    ]
    text = _pdf_paragraphs(agreement)
    assert text.index("under this\n\nAgreement.") < text.index("the end."), text
    last = "and so the first page ends with a sentence that is whole, with all of the words it needs."
    following = "The second page opens a new paragraph, with a line as long as any other line here\nand goes on."
    assert len(_pdf_paragraphs([f"{FULL}\n{FULL}\n{last}", following]).split("\n\n")) == 2


def test_a_pdfs_ligatures_are_letters_and_a_line_drawn_twice_to_look_bold_is_one_line(tmp_path: Path) -> None:
    # Typeset PDFs draw "fi" as one glyph, which pypdf reads as U+FB01: no search for "financial" found
    # "\ufb01nancial". A heading drawn twice, a little apart, read as "HeadingHeading".
    lines = ["The \x80nancial o\x81cer signed the \x82oor plan.", "Fake Bold Heading", "SUMMARY"]
    (tmp_path / "l.pdf").write_bytes(_pdf_pages([lines], drawn="({line}) Tj 0.4 0 Td ({line}) Tj -0.4 -14 Td"))
    text = load_document(tmp_path / "l.pdf").text
    assert text == "The financial officer signed the floor plan.\nFake Bold Heading\nSUMMARY"
    (tmp_path / "w.pdf").write_bytes(_pdf_pages([["Tom cooked couscous.", "couscous"]]))  # a word, twice: kept
    assert load_document(tmp_path / "w.pdf").text == "Tom cooked couscous.\ncouscous"


def test_a_pdfs_pages_without_text_are_named_in_the_documents_notes(tmp_path: Path) -> None:
    # A half-scanned PDF read as its pages with text alone, without a word that the rest is not there.
    pages = [["Page one text about Hanoi."], [], [], ["Page four text about Hue."], [], ["Six."], []]
    (tmp_path / "scan.pdf").write_bytes(_pdf_pages(pages))
    document = load_document(tmp_path / "scan.pdf")
    assert "Hanoi" in document.text and "Hue" in document.text
    assert left_out_notes(document) == [
        f"left out of the document: {tmp_path / 'scan.pdf'}: pages 2-3, 5 and 7 of 7 show no text "
        "(scanned, or pictures alone?); to read scanned pages, run OCR on the PDF first (e.g. ocrmypdf)"
    ]
    (tmp_path / "full.pdf").write_bytes(_pdf_pages([["One."], ["Two."]]))
    assert load_document(tmp_path / "full.pdf").left_out == []
    (tmp_path / "one.pdf").write_bytes(_pdf_pages([["One."], []]))
    assert "page 2 of 2 shows no text" in load_document(tmp_path / "one.pdf").left_out[0]


def test_pdf_rows_alike_but_for_their_digits_stay_in_order_at_a_page_break() -> None:
    # A statement's rows, or a report's sentences that differ only in their numbers, are alike once
    # their digits are set aside, at the edge of every page: they are text, not furniture, and were
    # moved to the end of the document (the pages' bodies spliced together without them).
    rows = [
        f"2023-01-{day:02} Payment to ACME Ltd invoice {1000 + day} amount {day * 37}.00 EUR" for day in range(1, 31)
    ]
    pages = [
        "\n".join(["Account statement - Musterbank AG", *rows[n * 10 : n * 10 + 10], f"Page {n + 1}"]) for n in range(3)
    ]
    text = _pdf_paragraphs(pages)
    lines = [line for line in text.split("\n") if line]
    assert [line for line in lines if line in rows] == rows
    # The header and the page numbers are still furniture: the rows run on over them, which follow the rows.
    assert "\n".join(rows) in text
    paragraphs = text.split("\n\n")
    assert paragraphs.count("Account statement - Musterbank AG") == 3 and {"Page 1", "Page 2", "Page 3"} <= set(
        paragraphs
    )
    # A running header the body quotes once is furniture still: it is at the pages' edges more often.
    quoted = [page.replace(rows[5], "Account statement - Musterbank AG") for page in pages]
    paragraphs = _pdf_paragraphs(quoted).split("\n\n")
    header = "Account statement - Musterbank AG"
    assert paragraphs[-5:] == ["Page 1", header, "Page 2", header, "Page 3"], paragraphs


def test_a_folder_leaves_out_hidden_files_and_says_which_files_it_could_not_read(tmp_path: Path) -> None:
    (tmp_path / "b" / "deeper").mkdir(parents=True)
    (tmp_path / ".git").mkdir()
    (tmp_path / "b" / "deeper" / "first.txt").write_text("Mira runs the ferry.", encoding="utf-8")
    (tmp_path / "z.md").write_text("She lives on the island.", encoding="utf-8")
    (tmp_path / "b" / "empty.md").write_text("", encoding="utf-8")
    (tmp_path / "b" / "latin.txt").write_bytes("café".encode("latin-1"))
    (tmp_path / ".git" / "notes.txt").write_text("not part of it", encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text("nor this", encoding="utf-8")
    document = load_document(tmp_path)
    assert [Path(p.name).name for p in document.parts] == ["first.txt", "z.md"]
    assert document.name == f"{tmp_path} (2 files)"  # the folder given, not the first file's folder
    assert "not part of it" not in document.text and "nor this" not in document.text
    left_out = " ".join(document.left_out)
    assert "empty.md: the file is empty" in left_out and "latin.txt: cannot be decoded" in left_out
    assert len(document.left_out) == 2
    # Files of kinds pearl does not read are left out too, and said so in one line a folder.
    (tmp_path / "data.csv").write_text("a,b", encoding="utf-8")
    (tmp_path / "b" / "NOTES").write_text("notes", encoding="utf-8")
    document = load_document(tmp_path)
    note = (
        f"{tmp_path}: 2 files of kinds pearl does not read from a folder (.csv, no extension); name a file to read it"
    )
    assert note in document.left_out
    # Source code is read only when named, and the note says so, of the source files alone (it said "name the source
    # file to read it as code" of a folder's CSV and subtitles too: helper-215).
    (tmp_path / "tool.py").write_text("print(1)\n", encoding="utf-8")
    note = f"{tmp_path}: 3 files of kinds pearl does not read from a folder (.csv, .py, no extension); "
    assert note + "name a file to read it (tool.py: source code, read line by line)" in load_document(tmp_path).left_out
    (tmp_path / "tool.py").unlink()
    # An answer about it says so, in its notes (which `pearl ask` prints and --json carries).
    answer = Pearl(llm=FakeLLM(default="A")).ask(document, "Who runs the ferry?", method="direct")
    assert [note for note in answer.notes if note.startswith("left out of the document: ")] == [
        f"left out of the document: {why}" for why in document.left_out
    ]


def test_a_folder_reads_no_file_a_symbolic_link_in_it_leads_outside_it(tmp_path: Path) -> None:
    # A link to /etc/passwd in a folder of notes was read, and its lines went to the model's server.
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:root:/root:/bin/bash", encoding="utf-8")
    notes = tmp_path / "notes"
    (notes / "sub").mkdir(parents=True)
    (notes / "a.txt").write_text("Anna met Bob.", encoding="utf-8")
    (notes / "sub" / "link.txt").symlink_to(secret)
    (notes / "again.txt").symlink_to(notes / "a.txt")  # within the folder: read, once
    document = load_document(notes)
    assert "root:x" not in document.text and "Anna met Bob." in document.text
    assert (
        document.left_out[0]
        == f"{notes}: 1 symbolic link to files outside it ({notes}/sub/link.txt): name a file to read it"
    )
    assert any("again.txt" in why and "read once" in why for why in document.left_out)
    assert "root:x" in load_document(notes / "sub" / "link.txt").text  # named, it is read
    (notes / "a.txt").unlink()
    (notes / "again.txt").unlink()
    with pytest.raises(DocumentError, match="1 symbolic link in it leads outside it: name a file to read it"):
        load_document(notes)


def test_a_folder_of_files_none_of_which_reads_says_why_for_each(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("", encoding="utf-8")
    (tmp_path / "b.txt").write_bytes(b"\x00\x01\x02binary\x00\x00" * 20)
    with pytest.raises(DocumentError, match=r"no file could be read: .*a\.md.*; .*b\.txt"):
        load_document(tmp_path)


def test_a_named_file_that_cannot_be_read_still_stops_the_read(tmp_path: Path) -> None:
    good, empty = tmp_path / "good.txt", tmp_path / "empty.txt"
    good.write_text("Mira runs the ferry.", encoding="utf-8")
    empty.write_text("", encoding="utf-8")
    with pytest.raises(DocumentError, match="empty"):
        load_document([good, empty])


def test_files_named_by_absolute_and_relative_paths_are_one_document(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "d1").mkdir()
    (tmp_path / "d1" / "a.txt").write_text("Mira runs the ferry.", encoding="utf-8")
    (tmp_path / "b.txt").write_text("She lives on the island.", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    document = load_document([tmp_path / "d1" / "a.txt", "b.txt"])
    assert document.name == f"{tmp_path} (2 files)"
    assert load_document("d1").name == "d1 (1 file)"  # a folder given is named as given, however many files read
    # Files named only by relative paths are named as typed: the folder they share, else this folder's own name;
    # never the working folder's absolute path, which prompts would carry to a server.
    assert load_document(["d1/a.txt", "b.txt"]).name == f"{tmp_path.name} (2 files)"
    (tmp_path / "d1" / "c.txt").write_text("Her boat is red.", encoding="utf-8")
    assert load_document(["d1/a.txt", "d1/c.txt"]).name == "d1 (2 files)"


def test_a_file_over_the_size_limit_in_a_folder_stops_the_read(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Mira runs the ferry.", encoding="utf-8")
    (tmp_path / "big.txt").write_text("word " * 100, encoding="utf-8")
    with pytest.raises(DocumentError, match="over the limit"):
        load_document(tmp_path, max_bytes=100)


def test_dash_reads_the_document_from_standard_input(monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"\xef\xbb\xbfOne line.\r\nTwo.\r\n")))
    doc = load_document(["-"])
    assert doc.text == "One line.\nTwo.\n" and doc.name == "<stdin>" and doc.parts[0].crlf
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(_pdf("Text on a page."))))
    assert "Text on a page." in load_document(["-"]).text
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"x" * 11)))
    with pytest.raises(DocumentError, match="<stdin>: it is over the limit of 10; raise it with --max-bytes"):
        load_document(["-"], max_bytes=10)


def test_a_pipe_is_read_as_a_file_and_a_device_points_to_dash(tmp_path: Path) -> None:
    import os
    import threading

    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)

    def write() -> None:
        with pipe.open("wb") as stream:
            stream.write(b"Piped text.\n")

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    try:
        doc = load_document(pipe)
    finally:
        if writer.is_alive():  # nothing read the pipe: open it, or the writer waits for a reader for ever
            os.close(os.open(pipe, os.O_RDONLY | os.O_NONBLOCK))
        writer.join(timeout=5)
    assert doc.text == "Piped text.\n"
    with pytest.raises(DocumentError, match="not a regular file; to read standard input, give - as the file"):
        load_document("/dev/null")


def test_a_loop_of_symbolic_links_or_a_dangling_one_is_named(tmp_path: Path) -> None:
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    (tmp_path / "gone").symlink_to(tmp_path / "deleted.txt")
    with pytest.raises(DocumentError, match="a loop of symbolic links"):
        load_document(tmp_path / "a")
    with pytest.raises(DocumentError, match=r"a symbolic link to .*deleted\.txt, which does not exist"):
        load_document(tmp_path / "gone")
    with pytest.raises(DocumentError, match="no such file or directory"):
        load_document(tmp_path / "never.txt")


def test_a_file_given_twice_is_read_once_and_said_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "story").mkdir()
    (tmp_path / "story" / "a.txt").write_text("Mira runs the ferry.", encoding="utf-8")
    (tmp_path / "story" / "b.txt").write_text("She lives on the island.", encoding="utf-8")
    (tmp_path / "link.txt").symlink_to(tmp_path / "story" / "a.txt")
    monkeypatch.chdir(tmp_path)
    twice = load_document(["story/a.txt", "story/a.txt"])
    assert twice.text == "Mira runs the ferry." and len(twice.parts) == 1 and twice.name == "story/a.txt"
    assert twice.left_out == ["the repeat of story/a.txt: it is read once, where first given"]
    # A folder and a file in it, under other names too: each file once, where it first came.
    document = load_document(["story", "story/b.txt", str(tmp_path / "story" / "a.txt"), "link.txt"])
    assert [Path(p.name).name for p in document.parts] == ["a.txt", "b.txt"]
    assert document.text.count("Mira runs the ferry.") == 1 and document.text.count("island") == 1
    assert document.left_out == [
        f"the 2 repeats of story/a.txt (named {tmp_path / 'story' / 'a.txt'}, link.txt): "
        "it is read once, where first given",
        "the repeat of story/b.txt: it is read once, where first given",
    ]
    # `pearl ask` says so (the answer's notes).
    answer = Pearl(llm=FakeLLM(default="A")).ask(twice, "Who runs the ferry?", method="direct")
    assert "left out of the document: the repeat of story/a.txt: it is read once, where first given" in answer.notes
    # A file named by itself as well as in its folder is named: an empty one is an error, wherever it comes first.
    (tmp_path / "story" / "empty.txt").write_text("", encoding="utf-8")
    for given in (["story/empty.txt", "story"], ["story", "story/empty.txt"]):
        with pytest.raises(DocumentError, match="empty"):
            load_document(given)


@pytest.mark.parametrize("given", ["https://example.com/doc.html", Path("http://example.com/x.pdf")])
def test_a_url_is_told_to_be_downloaded_first_as_typed(given: str | Path) -> None:
    # A command's file argument is a `Path`, which keeps one slash of "https://": "https:/example.com/doc.html: no such
    # file or directory" said neither what was typed nor what to do.
    with pytest.raises(DocumentError) as raised:
        load_document(given)
    typed = str(given).replace(":/", "://", 1) if isinstance(given, Path) else given
    assert str(raised.value) == f"{typed}: pearl reads local files, not URLs: download it first (`curl -O URL`)"


def test_each_file_of_a_folder_is_read_as_it_would_be_alone(tmp_path: Path) -> None:
    # A fence left open in a.md was closed in b.md: one code block across both, cited in a.md with b.md's line.
    fence = tmp_path / "fence"
    fence.mkdir()
    (fence / "a.md").write_text("Intro text here.\n\n```python\nx = 1\ny = 2\n", encoding="utf-8")
    (fence / "b.md").write_text("z = 3\n```\n\nAfter the fence. Done.\n", encoding="utf-8")
    index = index_document(load_document(fence), cache=False, ner=False)
    for sid in range(index.sentence_count):
        citation = index.citation(sid)
        own = Path(citation.source).read_text(encoding="utf-8")
        assert own[citation.file_start : citation.file_end] == citation.text, citation
    # A saved page first in a folder made every file read as markup: a note's tags and words were deleted.
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    script = "<script>window.dataLayer = window.dataLayer || [];</script>"
    page = f"<!DOCTYPE html><html><head><title>Saved</title>{script}</head><body><p>A saved page.</p></body></html>"
    (mixed / "a.txt").write_text(page, encoding="utf-8")
    note = "Notes on markup. Write <b> to start bold and </b> to end it. In C, a<b && c>d compares."
    (mixed / "b.txt").write_text(note, encoding="utf-8")
    index = index_document(load_document(mixed), cache=False, ner=False)
    shown = render_sentences(index, range(index.sentence_count))
    assert "Write <b> to start bold and </b> to end it." in shown and "a<b && c>d compares." in shown
    assert "A saved page." in shown and "<p>A saved page." not in shown  # the page read as one, the note as written
    assert "dataLayer" not in shown  # its script hidden: read as plain text, it was indexed as sentences
    assert Document.from_text(load_document(mixed).text).content_hash != load_document(mixed).content_hash


def test_a_pages_escaped_tags_are_its_text_not_markup(tmp_path: Path) -> None:
    # "&lt;p&gt;" on a page is the text "<p>": read back as markup where such tags were dense, it was deleted.
    items = "".join(
        f"<li>Wrap a paragraph in &lt;p&gt; and &lt;/p&gt;; item {n} of the list explains why.</li>" for n in range(12)
    )
    page = tmp_path / "cheat.html"
    page.write_text(f"<!DOCTYPE html><html><body><h1>HTML cheat sheet</h1><ul>{items}</ul></body></html>")
    document = load_document(page)
    assert document.parts[0].plain
    index = index_document(document, cache=False, ner=False)
    shown = render_sentences(index, range(index.sentence_count))
    assert shown.count("<p> and </p>") == 12, shown[:300]
    assert whole_document(document).count("<p> and </p>") == 12  # as direct and the paper's executor paste it
    # The same text saved as a .txt is read otherwise, so it shares no index with the page (the cache served one
    # reading for the other).
    assert Document.from_text(document.text).content_hash != document.content_hash
    # Alongside a note, in a folder, alike.
    (tmp_path / "note.txt").write_text("A note.", encoding="utf-8")
    index = index_document(load_document(tmp_path), cache=False, ner=False)
    assert render_sentences(index, range(index.sentence_count)).count("<p> and </p>") == 12


def test_a_page_with_windows_line_ends_reads_as_the_same_page_with_unix_ones(tmp_path: Path) -> None:
    # The line break a browser drops right after <pre> was "\r\n": its "\n" went and a blank first line of code stayed
    # (helper-191).
    page = "<html><body><pre>\ndef f():\n    return 1\n</pre><p>Text here.</p></body></html>"
    unix, windows = tmp_path / "unix.html", tmp_path / "windows.html"
    unix.write_text(page, encoding="utf-8", newline="")
    windows.write_text(page.replace("\n", "\r\n"), encoding="utf-8", newline="")
    assert load_document(windows).text == load_document(unix).text == "```\ndef f():\n    return 1\n```\n\nText here."
