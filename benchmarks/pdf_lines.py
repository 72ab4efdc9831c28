"""What a PDF's line-by-line text layer costs evidence selection, and what rejoining its paragraphs wins back.

Usage:
    python benchmarks/pdf_lines.py                       # the shared contracts and papers files
    python benchmarks/pdf_lines.py FILE.jsonl --budget 1500

A PDF's text layer (what `pypdf` returns) is one line per printed line, with no blank line
between paragraphs. This script makes each document look like that: every paragraph of the
original text (blocks between blank lines) hard-wrapped at 95 characters, the lines joined by
single line breaks. Words are not hyphenated across lines, so the gold answers stay findable
in every variant and the lines measure paragraph structure alone. Four variants per document,
each indexed and compressed to the same budget for every question:

    original   the text as the file holds it;
    pdf-lines  the hard-wrapped text, as a PDF's text layer gives it;
    rejoined   the hard-wrapped text after `pearl.documents`' PDF paragraph rejoining, what
               `pearl ask file.pdf` indexes;
    paged      the same, printed on pages of 50 lines, each with a running header and a page
               number, so that paragraphs run over page breaks as they do in a real PDF.

Metric, as in benchmarks/context_recall.py: a question counts when every gold span, lower-cased
with whitespace collapsed, is a substring of the original text of the kept sentences likewise
normalised. Papers: only questions whose gold is a verbatim span of 3 or more words, as in
benchmarks/evidence_reach.py. Nothing is tuned per question.
"""

from __future__ import annotations

import argparse
import re
import sys
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _shared import default_data_dir, read_leval
from context_recall import gold_spans, joined_spans, normalise

from pearl.context import compress, index_document
from pearl.documents import _pdf_paragraphs

FILES = ("leval_legal_contract_qa.jsonl", "leval_scientific_qa.jsonl")
WIDTH = 95
PAGE_LINES = 50


def pdf_lines(text: str) -> str:
    """`text` as a PDF's text layer gives it: each paragraph hard-wrapped, no blank lines."""
    lines: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        flat = " ".join(paragraph.split())
        if flat:
            lines.extend(textwrap.wrap(flat, WIDTH, break_long_words=False, break_on_hyphens=False) or [flat])
    return "\n".join(lines)


def paged(wrapped: str, title: str) -> list[str]:
    """Hard-wrapped lines as the pages of a PDF: 50 lines a page, a running header and a page number."""
    lines = wrapped.split("\n")
    chunks = [lines[i : i + PAGE_LINES] for i in range(0, len(lines), PAGE_LINES)]
    return ["\n".join([title, *chunk, str(n)]) for n, chunk in enumerate(chunks, 1)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("paths", nargs="*", type=Path, help="L-Eval JSONL files (default: the shared dev files)")
    parser.add_argument("--budget", type=int, default=1500, help="context tokens per question (default 1500)")
    args = parser.parse_args(argv)
    paths = args.paths or [default_data_dir() / name for name in FILES]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        print(f"no such file: {', '.join(missing)}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    for path in paths:
        spans_only = "contract" not in path.name  # as evidence_reach.py selects span questions
        kept = {"original": 0, "pdf-lines": 0, "rejoined": 0, "paged": 0}
        questions = 0
        for number, document in enumerate(read_leval(path)):
            wrapped = pdf_lines(document.text)
            texts = {
                "original": document.text,
                "pdf-lines": wrapped,
                "rejoined": _pdf_paragraphs([wrapped]),
                "paged": _pdf_paragraphs(paged(wrapped, f"{path.stem} document {number} - confidential")),
            }
            indexes = {name: index_document(text, cache=False) for name, text in texts.items()}
            whole = normalise(document.text)
            for question, answer in zip(document.questions, document.answers, strict=False):
                gold = [normalise(g) for g in gold_spans(answer)]
                if not gold or not all(g in whole for g in gold):
                    continue
                if spans_only and any(len(g.split()) < 3 for g in gold):
                    continue
                questions += 1
                for name, index in indexes.items():
                    context = compress(index, question, args.budget)
                    shown = normalise(joined_spans(index.text, context.spans))
                    kept[name] += all(g in shown for g in gold)
        print(f"# {path.name}: {questions} questions, budget {args.budget} tokens")
        for name, count in kept.items():
            print(f"{name:<10} kept={count}/{questions} ({count / max(questions, 1):.3f})")
    print(f"# total {time.perf_counter() - started:.1f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
