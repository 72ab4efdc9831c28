"""Plan validity with the embedded model, and the agent's own time per question.

1. Plan validity: for each question of the shared QuALITY file, SmolLM2-135M writes a plan
   under the plan grammar (step k assigns sk, only earlier sk or CTX or a string as arguments,
   per-action arity), with self-correction up to `--attempts` attempts (default: the settings'
   default, the paper's 8). Printed: share valid at attempt 1 and within the attempts, mean
   steps. `--compare-loose` also runs it with no grammar, in the same run.
2. Agent's own time: the whole `pearl` method with an instant scripted model, once the
   document is indexed: everything but waiting for the LLM.

Usage: python benchmarks/plan_validity.py [--limit N] [--attempts N] [--compare-loose [--loose-limit N]]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from _common import SHARED_DATA, questions, require

from pearl import Pearl, load_settings
from pearl.eval import counting_fake_llm
from pearl.llm import LLM, Completion, CompletionRequest, EmbeddedLLM


class _NoGrammar:
    """The embedded model with its grammar switched off (the loose baseline)."""

    def __init__(self, inner: EmbeddedLLM) -> None:
        self.inner = inner
        self.backend, self.model, self.context_window = inner.backend, inner.model, inner.context_window
        self.supports_grammar = self.supports_json_schema = False
        self.is_demo = True

    def complete(self, request: CompletionRequest) -> Completion:
        return self.inner.complete(request.model_copy(update={"grammar": None, "json_schema": None}))

    async def acomplete(self, request: CompletionRequest) -> Completion:
        return await self.inner.acomplete(request.model_copy(update={"grammar": None, "json_schema": None}))


def validity(llm: LLM, path: Path, limit: int | None, label: str, attempts: int) -> None:
    pearl = Pearl(llm=llm, settings=load_settings(cache=False, plan_attempts=attempts))
    first = within = total = 0
    steps: list[int] = []
    seconds: list[float] = []
    for document, question in questions(path, limit):
        started = time.perf_counter()
        result, _trace = pearl.plan(question, document)
        seconds.append(time.perf_counter() - started)
        total += 1
        print(
            f"  {total:3d} {'valid' if result.plan else 'invalid'} after {len(result.attempts)} attempt(s), "
            f"{seconds[-1]:.1f}s",
            file=sys.stderr,
            flush=True,
        )
        if result.plan is not None:
            within += 1
            first += result.attempts[0].error is None
            steps.append(len(result.plan.steps))
    print(
        f"{label:28} questions={total} valid_first={first / total:.3f} valid_within_{attempts}={within / total:.3f} "
        f"mean_steps={statistics.mean(steps) if steps else 0:.2f} seconds_per_plan={statistics.mean(seconds):.1f}"
    )


def own_time(path: Path, limit: int | None) -> None:
    pearl = Pearl(llm=counting_fake_llm(), settings=load_settings(cache=False))
    times = []
    for document, question in questions(path, limit):
        pearl.index(document)  # indexing is per document, not per question
        started = time.perf_counter()
        pearl.ask(document, question)
        times.append(time.perf_counter() - started)
    times.sort()
    print(
        f"{'agent own time (pearl)':28} questions={len(times)} mean_ms={statistics.mean(times) * 1000:.1f} "
        f"p95_ms={times[int(0.95 * (len(times) - 1))] * 1000:.1f} max_ms={times[-1] * 1000:.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=SHARED_DATA)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--attempts", type=int, default=None, help="plan attempts (default: the settings' default)")
    parser.add_argument("--compare-loose", action="store_true", help="also run without the grammar")
    parser.add_argument("--loose-limit", type=int, default=None, help="questions for the loose run (default: --limit)")
    args = parser.parse_args()
    path = require(args.data / "leval_quality.jsonl")
    attempts = args.attempts or load_settings().plan_attempts
    own_time(path, args.limit)
    embedded = EmbeddedLLM()
    embedded.check()
    validity(embedded, path, args.limit, "embedded + plan grammar", attempts)
    if args.compare_loose:
        loose_limit = args.loose_limit if args.loose_limit is not None else args.limit
        validity(_NoGrammar(embedded), path, loose_limit, "embedded, no grammar", attempts)


if __name__ == "__main__":
    main()
