"""Compare the four answering methods with `pearl eval`'s runner: score and cost per question.

Two parts, in one run:

1. The counting fake model (`pearl.eval.counting_fake_llm`) on every question of the shared
   QuALITY, contract and scientific files. It answers instantly (valid plans, short step
   results, letters by hash, so accuracy sits at chance) and counts real cl100k prompt tokens:
   the token and call columns are what a real model would be sent. Its "evidence shown" column
   is `evidence_reach.py`'s reach taken from the run's own prompts (with the fake's plans): of the
   free-text questions whose gold is a span of the document, how many had it whole in one prompt.
   The QuALITY run is issued twice, to show that re-running a finished run only reads its results.
2. The embedded model (SmolLM2-135M, chance-level answers) on the first `--embedded-limit`
   questions of the QuALITY and contract files, with a `--embedded-window` token window so it
   finishes in minutes on two CPU cores. Skipped, with a message, when it is not installed.

Measured on a shared 2-core machine: the fake part takes about 45 s (most of it indexing the
contracts once), the embedded part several minutes per file with the defaults. llama.cpp's
threads spin while they wait, so anything else running on the machine slows it sharply;
`--embedded-limit 1` halves it.

Each run is exactly what `pearl eval DATA --methods pearl,direct,rag,pearl-fulldoc` does
(`pearl.eval.run_eval` is the function behind the command), with the model passed in.
Runs go to a fresh temporary directory unless `--out DIR` is given.

Usage:
    python benchmarks/eval_compare.py [--data ../shared/data] [--embedded-limit 2] [--skip-embedded]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _shared import dense_from_environment, token_margin_for

from pearl import Pearl, Settings
from pearl.cli._progress import ProgressBar
from pearl.errors import EmbeddedModelError
from pearl.eval import EvalSummary, counting_fake_llm, load_dataset, run_eval
from pearl.llm import LLM, EmbeddedLLM

METHODS = ("pearl", "direct", "rag", "pearl-fulldoc")
FAKE_FILES = ("leval_quality.jsonl", "leval_legal_contract_qa.jsonl", "leval_scientific_qa.jsonl")
EMBEDDED_FILES = ("leval_quality.jsonl", "leval_legal_contract_qa.jsonl")


def default_data_dir() -> Path:
    """`../shared/data` beside the checkout (absent in a fresh clone)."""
    return Path(__file__).resolve().parents[1].parent / "shared" / "data"


@dataclass
class Run:
    """One `pearl eval` run and how long it took."""

    data: str
    model: str
    summary: EvalSummary
    seconds: float
    rerun_seconds: float | None = None


def run(llm: LLM, path: Path, out: Path, *, limit: int | None, concurrency: int, rerun: bool = False) -> Run:
    """Run all four methods over `path` into `out`; with `rerun`, issue the same run again and time it."""
    # Explicit defaults, the user's config must not leak in; PEARL_DENSE=0: words alone where MiniLM is installed.
    settings = Settings(cache=False, dense=dense_from_environment(), token_margin=token_margin_for(llm))
    pearl = Pearl(llm=llm, settings=settings)
    dataset = load_dataset(path)
    print(f"\n{path.name} with {llm.model} -> {out}", file=sys.stderr)
    started = time.perf_counter()
    summary = run_eval(pearl, dataset, METHODS, out, limit=limit, concurrency=concurrency, progress=ProgressBar("eval"))
    result = Run(path.name, llm.model, summary, time.perf_counter() - started)
    if rerun:
        started = time.perf_counter()
        run_eval(pearl, dataset, METHODS, out, limit=limit, concurrency=concurrency)
        result.rerun_seconds = time.perf_counter() - started
    return result


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}"


def table(runs: list[Run]) -> str:
    """One Markdown table: a row per (data, model, method)."""
    head = (
        "| data | model | method | n | accuracy | F1 | ROUGE-L | evidence shown | prompt tok/q | completion tok/q "
        "| calls/q | s/q | errors | fallbacks |"
    )
    lines = [head, "|" + "|".join([" --- "] * 3 + [" ---: "] * 11) + "|"]
    for r in runs:
        for m in r.summary.methods:
            evidence = f"{_pct(m.evidence_shown)} of {m.evidence_n}" if m.evidence_n else "–"
            lines.append(
                f"| {r.data} | {r.model} | {m.method} | {m.n} | {_pct(m.accuracy)} | {_pct(m.f1)} | {_pct(m.rouge_l)} "
                f"| {evidence} | {m.mean_prompt_tokens:,.0f} | {m.mean_completion_tokens:,.0f} | {m.mean_calls:.1f} "
                f"| {m.mean_seconds:.2f} | {m.errors} | {m.fallbacks} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data", type=Path, default=default_data_dir(), help="folder of the shared L-Eval files")
    parser.add_argument("--out", type=Path, default=None, help="where runs go (default: a fresh temporary folder)")
    parser.add_argument("--fake-limit", type=int, default=None, help="questions per file for the fake (default all)")
    parser.add_argument("--embedded-limit", type=int, default=2, help="questions per file for the embedded model")
    parser.add_argument("--embedded-window", type=int, default=2048, help="embedded model context in tokens")
    parser.add_argument("--skip-embedded", action="store_true", help="only the counting fake")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"{args.data} not found: this benchmark reads ../shared/data beside the checkout (or pass --data)")
        return 0
    out = args.out or Path(tempfile.mkdtemp(prefix="pearl-bench-"))
    runs: list[Run] = []
    for name in FAKE_FILES:
        path = args.data / name
        if path.is_file():
            fake = counting_fake_llm()
            runs.append(
                run(
                    fake,
                    path,
                    out / f"fake-{path.stem}",
                    limit=args.fake_limit,
                    concurrency=4,
                    rerun=name == FAKE_FILES[0],
                )
            )
    if not args.skip_embedded:
        embedded = EmbeddedLLM(context_window=args.embedded_window)
        try:
            embedded.check()
        except EmbeddedModelError as exc:
            print(f"\nskipping the embedded model: {exc}", file=sys.stderr)
        else:
            for name in EMBEDDED_FILES:
                path = args.data / name
                if path.is_file():
                    # the model takes one request at a time; one question at a time keeps s/q honest
                    target = out / f"embedded-{path.stem}"
                    runs.append(run(embedded, path, target, limit=args.embedded_limit, concurrency=1))
    print()
    print(table(runs))
    print()
    for r in runs:
        again = f"; re-issued: {r.rerun_seconds:.2f}s (nothing left to run)" if r.rerun_seconds is not None else ""
        print(f"- {r.data} with {r.model}: {r.summary.questions} questions x 4 methods in {r.seconds:.1f}s{again}")
    print(f"\nruns (results.jsonl, summary.json, report.md) are in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
