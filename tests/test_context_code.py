"""Code blocks keep their lines: a Markdown fence or a `<pre>` is shown line by line, indented as written."""

from __future__ import annotations

from pathlib import Path

from pearl.context import index_document, render_sentences, shown_document
from pearl.context._markup import MarkupView, fences
from pearl.documents import load_document
from pearl.tokens import count_tokens

README = """# Widget

Widget is a small library. Install it with pip and call it.

```python
from widget import Widget

def main():
    w = Widget(size=3)
    for part in w.parts():
        print(part)
```

The constructor takes a size.   Larger sizes   use more memory.
"""

DOCTEST = (
    "<!DOCTYPE html>\n<html><body>\n<p>It returns a new sorted list:</p>\n"
    '<div class="highlight"><pre><span></span><span class="gp">&gt;&gt;&gt; </span>'
    '<span class="n">a</span> <span class="o">=</span> <span class="p">[</span><span class="mi">5</span>'
    '<span class="p">,</span> <span class="mi">2</span><span class="p">]</span>\n'
    '<span class="gp">&gt;&gt;&gt; </span><span class="k">for</span> <span class="n">x</span> '
    '<span class="ow">in</span> <span class="n">a</span><span class="p">:</span>\n'
    '<span class="gp">... </span>    <span class="nb">print</span><span class="p">(</span>'
    '<span class="n">x</span><span class="p">)</span>\n'
    '<span class="go">5</span>\n<span class="go">2</span>\n</pre></div>\n'
    "<p>The   list is   left as it was.</p>\n</body></html>"
)


def _everything(text: str) -> str:
    index = index_document(text, cache=False, ner=False)
    return render_sentences(index, range(index.sentence_count))


def test_a_fenced_block_is_one_paragraph_shown_line_by_line_with_its_label_over_it() -> None:
    index = index_document(README, cache=False, ner=False)
    code = next(i for i in range(index.sentence_count) if "def main" in index.sentence_text(i))
    # The blank line inside the block does not end it: the import and the function are one unit.
    assert "from widget import Widget" in index.sentence_text(code)
    shown = render_sentences(index, [code - 1, code, code + 1])
    assert f"[S{code}]\n```python\nfrom widget import Widget\n\ndef main():\n    w = Widget(size=3)\n" in shown
    assert "    for part in w.parts():\n        print(part)\n```\n" in shown
    # Prose around it is still collapsed, and a sentence after the block starts its own line.
    assert f"\n[S{code + 1}] The constructor takes a size." in shown
    assert "Larger sizes use more memory." in _everything(README)
    # What a budget counts is what the prompt shows.
    assert index.sent_tokens[code] == count_tokens(render_sentences(index, [code]).split("\n", 1)[1])


def test_a_pages_pre_keeps_its_lines_and_indentation_in_every_prompt() -> None:
    everything = _everything(DOCTEST)
    assert ">>> a = [5, 2]\n>>> for x in a:\n...     print(x)\n5\n2" in everything
    assert "The list is left as it was." in everything and "<span" not in everything
    # The whole page, as `direct` pastes it, too.
    assert ">>> for x in a:\n...     print(x)\n5\n2\n" in shown_document(DOCTEST)


def test_a_long_block_is_cut_only_between_lines_and_its_pieces_keep_their_indentation() -> None:
    body = "".join(f"    value_{i} = compute(value_{i - 1}, factor={i})  # step {i}\n" for i in range(1, 80))
    text = f"Intro sentence.\n\n```python\ndef run():\n{body}```\n\nThe end.\n"
    index = index_document(text, cache=False, ner=False)
    pieces = [i for i in range(index.sentence_count) if "compute" in index.sentence_text(i)]
    assert len(pieces) > 2 and max(index.sent_tokens[i] for i in pieces) <= 200
    for i in pieces:
        unit = index.sentence_text(i)
        assert unit.endswith(("# step 79", "```")) or text[index.sent_ends[i]] == "\n"  # ends at a line's end
        lines = render_sentences(index, [i]).split("\n")[1:]
        # A piece from the middle shows its first line with the indentation the block gives it.
        assert len(lines) > 1 and all(line.startswith(("    value_", "def run", "```")) for line in lines), lines
    assert len({index.sent_para[i] for i in pieces}) == 1


def test_what_is_no_closed_fence_is_prose() -> None:
    # A line of marks right under a title, as long as it, underlines it (reStructuredText); one naming a
    # language, or shorter than the line above, opens code.
    assert fences("Usage\n~~~~~\n\nText.\n\nNotes\n~~~~~\n\nMore.\n") == []
    assert [f.closed for f in fences("Example:\n```sh\nls  -l\n```\n")] == [True]
    assert [f.closed for f in fences("Example:\n```\nls  -l\n```\n")] == [True]
    # A plain text whose line of tildes opens a fence never closed is shown as prose, whitespace collapsed.
    notes = "Chapter one\n\n~~~~~~~~~~\n\nIt   was a   dark night.\n"
    assert MarkupView.of(notes).code == ()
    assert "It was a dark night." in _everything(notes)


def test_an_html_files_pre_is_read_as_fenced_code(tmp_path: Path) -> None:
    page = tmp_path / "guide.html"
    page.write_text(
        "<html><body><h2>Loops</h2><p>Run:</p><pre>\nfor x in a:\n    print(x)  # ```\n</pre>"
        "<p>It   prints   each item.</p></body></html>",
        encoding="utf-8",
    )
    text = load_document(page).text
    assert "````\nfor x in a:\n    print(x)  # ```\n````" in text  # a longer fence than any run inside
    everything = _everything(text)
    assert "for x in a:\n    print(x)" in everything and "It prints each item." in everything
