"""Action mining on the shared QuALITY questions: a scripted fake on all 43, and the embedded model on a few.

1. Scripted fake (instant): for each question it proposes three actions drawn from overlapping
   verbs and topics (FIND_/IDENTIFY_/DETERMINE_/GET_THE_ x REASON, MOTIVE, CAUSE, ...), with
   plurals and other arities, and about one reply in eleven off the format; asked to merge, it
   groups names by their last word and, by turns, keeps a member, rewrites the group into a
   broader LOOK_FOR_<TOPIC> action, or proposes a rewrite that does not check out. Printed:
   proposals, malformed, distinct new actions, merge rounds, groups rewritten into a broader
   action against groups merged deterministically (into a member: as the model said, after a
   refused rewrite, or by word overlap), final size against the cap, duplicate names.
2. `--embedded`: SmolLM2-135M under the proposal grammar on the first `--limit` questions,
   starting from `--start` (seed library, or "empty" so that every proposal is new and the
   merge prompt is exercised), capped at `--embedded-cap`. Printed: malformed count and time.
   Then the scripted proposals of part 1 merged by SmolLM2 instead of the fake (cap `--cap`):
   how many merge batches the model's reply decided and how many fell back to word overlap.

Usage: python benchmarks/mine.py [--cap 20] [--embedded] [--limit 10] [--start seed|empty] [--embedded-cap 4]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

from _common import SHARED_DATA, require

from pearl.actions import ActionLibrary, seed_library
from pearl.eval import read_questions
from pearl.llm import Completion, CompletionRequest, EmbeddedLLM
from pearl.training import MiningResult, mine_actions, mining_fake_llm


class ScriptedProposalsEmbeddedMerges:
    """Mining prompts answered by the scripted fake, merge prompts by SmolLM2 (under the merge grammar)."""

    def __init__(self, embedded: EmbeddedLLM) -> None:
        self.fake = mining_fake_llm()
        self.embedded = embedded
        self.backend, self.model, self.context_window = "hybrid", embedded.model, embedded.context_window
        self.supports_grammar, self.supports_json_schema, self.is_demo = True, False, True

    def check(self) -> None:
        self.embedded.check()

    def complete(self, request: CompletionRequest) -> Completion:
        inner = self.embedded if (request.prompt or "").startswith("merge.") else self.fake
        return inner.complete(request)

    async def acomplete(self, request: CompletionRequest) -> Completion:
        inner = self.embedded if (request.prompt or "").startswith("merge.") else self.fake
        return await inner.acomplete(request)


def report(label: str, result: MiningResult, cap: int, seconds: float) -> None:
    names = result.library.names
    merge = result.merge
    rounds = " ".join(f"{r.before}->{r.after}(llm {r.llm_batches}, overlap {r.fallback_batches})" for r in merge.rounds)
    print(
        f"{label:10} questions={result.questions} proposals={result.proposals} malformed={result.malformed} "
        f"failed={result.failed} proposed_new={result.proposed_new} distinct_new={result.distinct_new} "
        f"rounds=[{rounds}] groups_rewritten={merge.rewritten} groups_merged_deterministically={merge.kept} "
        f"cut={len(merge.cut)} final={len(names)} cap={cap} duplicates={len(names) - len(set(names))} "
        f"seconds={seconds:.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(SHARED_DATA / "leval_quality.jsonl"))
    parser.add_argument("--cap", type=int, default=20, help="--max-actions for the scripted run")
    parser.add_argument("--embedded", action="store_true", help="also run SmolLM2")
    parser.add_argument("--limit", type=int, default=10, help="questions for the embedded run")
    parser.add_argument("--start", choices=("seed", "empty"), default="empty")
    parser.add_argument(
        "--embedded-cap", type=int, default=4, help="mined actions the embedded run keeps beyond the starting library"
    )
    args = parser.parse_args()
    path = require(Path(args.data))
    questions = read_questions(path)
    started = time.perf_counter()
    result = asyncio.run(mine_actions(mining_fake_llm(), questions, max_actions=args.cap))
    report("scripted", result, args.cap, time.perf_counter() - started)
    if args.embedded:
        llm = EmbeddedLLM()
        llm.check()
        start = seed_library() if args.start == "seed" else ActionLibrary(name="empty")
        cap = len(start) + args.embedded_cap  # the starting library is kept whole
        started = time.perf_counter()
        result = asyncio.run(mine_actions(llm, questions[: args.limit], library=start, max_actions=cap, concurrency=1))
        report("embedded", result, cap, time.perf_counter() - started)
        for problem in [*result.problems, *result.merge.errors]:
            print(f"  note: {problem}")
        started = time.perf_counter()
        result = asyncio.run(mine_actions(ScriptedProposalsEmbeddedMerges(llm), questions, max_actions=args.cap))
        report("merge-emb", result, args.cap, time.perf_counter() - started)
        for problem in result.merge.errors:
            print(f"  note: {problem}")


if __name__ == "__main__":
    main()
