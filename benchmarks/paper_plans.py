"""How many of the paper's released plans pearl's plan language accepts, with the paper's action list loaded.

Reads `../shared/data/pearl_paper/actions_simplified.txt` (the paper's 81 actions, its own
`NAME(ARGS) # definition` format, through `load_library`) and every plan of
`train_plans.jsonl` (733 GPT-4 plans for QuALITY train questions, two runs). Each plan is
parsed and validated on its own: actions it declares under `New actions:` are valid for it
and for no other plan (the paper's parser let one question's declarations leak into later
ones). Printed: valid/total, the refusals counted by reason, and an example of each.

Usage: python benchmarks/paper_plans.py [--actions FILE] [--plans FILE] [--max-steps 8]
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from pathlib import Path

from _common import SHARED_DATA, require

from pearl.actions import load_library
from pearl.errors import PlanParseError
from pearl.planning import parse_plan

# The first words of each validator message, as the reason a plan was refused.
_REASONS = [
    (re.compile(r"^unknown action"), "undeclared action (neither in the list nor declared by the plan)"),
    (re.compile(r"takes .* but \d+ (?:was|were) given"), "wrong number of arguments"),
    (re.compile(r"is not defined yet"), "argument is not an earlier result"),
    (re.compile(r"is already assigned"), "variable assigned twice"),
    (re.compile(r"is used as its own input"), "output used as its own input"),
    (re.compile(r"calls are not allowed inside arguments"), "nested call"),
    (re.compile(r"must be CTX"), "text where the document goes"),
    (re.compile(r"more than \d+ steps"), "too many steps"),
    (re.compile(r"ANSWER"), "ANSWER misplaced"),
]


def reason_of(error: PlanParseError) -> str:
    """A short name for why a plan was refused."""
    return next((name for pattern, name in _REASONS if pattern.search(error.reason)), f"other: {error.reason[:60]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    folder = SHARED_DATA / "pearl_paper"
    parser.add_argument("--actions", type=Path, default=folder / "actions_simplified.txt")
    parser.add_argument("--plans", type=Path, default=folder / "train_plans.jsonl")
    parser.add_argument("--max-steps", type=int, default=8, help="the paper's plans have at most 8")
    args = parser.parse_args()
    library = load_library(require(args.actions))
    rows = [json.loads(line) for line in require(args.plans).read_text(encoding="utf-8").splitlines() if line.strip()]
    reasons: Counter[str] = Counter()
    examples: dict[str, str] = {}
    valid = 0
    for row in rows:
        try:
            parse_plan(row["plan"], library, max_steps=args.max_steps)
        except PlanParseError as exc:
            reason = reason_of(exc)
            reasons[reason] += 1
            examples.setdefault(reason, f"qid {row.get('qid')} ({row.get('run')}): {exc}")
            continue
        valid += 1
    print(
        f"paper plans: valid={valid}/{len(rows)} ({valid / max(1, len(rows)):.1%}) "
        f"library={library.name} ({len(library)} actions) max_steps={args.max_steps}"
    )
    for reason, count in reasons.most_common():
        print(f"  refused {count:4d}  {reason}")
        print(f"           e.g. {examples[reason][:200]}")


if __name__ == "__main__":
    main()
