"""Self-refinement with the embedded model, and what the refined store does for planning, in one run.

1. `pearl refine` as a library call: SmolLM2-135M runs the whole `pearl` method on the first
   `--limit` questions of the shared QuALITY file; plans that lead to the gold option are kept,
   wrong ones get `--rounds` feedback rounds. Printed: first plans valid, right at once, right
   after revision, demos kept.
2. The next `--holdout` questions (not used for training) are planned twice, as the pipeline
   plans them (entity sheet, grammar, self-correction), once with the bundled demos ("without
   the store") and once with the refined store (topped up from the bundled demos when small):
   plan validity and mean plan length, one line per condition.

No response cache: every figure is a fresh model call. SmolLM2 answers at chance level, so how
many demos are kept says little about the method; the run shows the loop works end to end.

Usage: python benchmarks/refine.py [--limit 6] [--holdout 6] [--rounds 1]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

from _common import SHARED_DATA, require

from pearl import Pearl, load_settings
from pearl.eval import load_dataset, select_questions
from pearl.llm import EmbeddedLLM
from pearl.planning import load_demos, save_demos
from pearl.training import compare_planning, refine_demos, split_holdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=SHARED_DATA / "leval_quality.jsonl")
    parser.add_argument("--limit", type=int, default=6, help="training questions")
    parser.add_argument("--holdout", type=int, default=6, help="questions planned with and without the store")
    parser.add_argument("--rounds", type=int, default=1, help="feedback rounds for a wrong plan")
    args = parser.parse_args()
    dataset = load_dataset(require(args.data))
    chosen = select_questions(dataset)
    train, held = split_holdout(chosen, args.limit, args.holdout)
    llm = EmbeddedLLM()
    llm.check()
    pearl = Pearl(llm=llm, settings=load_settings(cache=False))

    def progress(done: int, total: int, status: str = "") -> None:
        print(f"  refined {done}/{total}, {status}", file=sys.stderr, flush=True)

    started = time.perf_counter()
    result = asyncio.run(refine_demos(pearl, dataset, train, rounds=args.rounds, concurrency=1, on_progress=progress))
    refine_seconds = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as folder:
        # Through the file and back, as `pearl ask --demos` would read it (with the library check).
        store = load_demos(save_demos(result.store, Path(folder) / "demos.jsonl"), pearl.library)
    print(
        f"{'refine':30} train={len(train)} first_plans_valid={result.first_valid}/{len(train)} "
        f"right_at_once={result.first_correct} right_after_revision={result.revised} demos_kept={result.kept} "
        f"refused_gold_in_arguments={result.refused} "
        f"prompt_tokens={result.usage.prompt_tokens} seconds={refine_seconds:.0f}"
    )
    started = time.perf_counter()
    stats = asyncio.run(
        compare_planning(pearl, dataset, held, {"without the store": pearl.demos, "with the store": store})
    )
    for line in stats:
        steps = f"{line.mean_steps:.2f}" if line.mean_steps is not None else "-"
        print(
            f"{'planning ' + line.label:30} questions={line.questions} valid={line.valid / max(1, line.questions):.3f} "
            f"valid_first={line.valid_first / max(1, line.questions):.3f} mean_steps={steps} "
            f"prompt_tokens={line.usage.prompt_tokens}"
        )
    print(f"{'':30} planning seconds={time.perf_counter() - started:.0f}", file=sys.stderr)


if __name__ == "__main__":
    main()
