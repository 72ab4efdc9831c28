"""Which demonstrations the planner is shown, by kind of document, and what the planning prompt costs.

Usage:
    python benchmarks/demo_choice.py [--rev REV] [--limit N] [--without-document]

For each question of the shared contract (CUAD), paper (Qasper) and story (QuALITY) files, `Pearl.plan` runs with
the document and a scripted model (`FakeLLM`, whose one plan is valid: one planning call a question), and the
demonstrations in that call's prompt are read back. A demonstration's kind (story, legal, paper, manual) is the one
the checkout's bundled store gives its question (`pearl/planning/data/demos.v*.json`, newest), also when `--rev`
measures an older package. Printed per file:

    match     the mean number of shown demonstrations of the file's kind (legal, paper, story), of the 4 shown;
    by count  questions shown 0, 1, 2, 3, 4 of them;
    none      share of questions shown none of its kind;
    tokens    the mean cl100k tokens of the first planning prompt (system and user messages), the entity sheet
              and the action list included, at the fake model's 8,192-token window.

`--without-document` plans with the question alone, as `pearl plan QUESTION` does with no document (no entity
sheet; a kind can be told from the question's words only). `--rev REV` measures the package as of git revision REV
(exported with `git archive` to a temporary folder and run there): `--rev HEAD` before a change is committed,
`--rev COMMIT~` after, for the figures before it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from _shared import default_data_dir

ROOT = Path(__file__).resolve().parents[1]
FILES = {"leval_legal_contract_qa.jsonl": "legal", "leval_scientific_qa.jsonl": "paper", "leval_quality.jsonl": "story"}
PLAN = 's1 = FIND_X(CTX, "what the question asks")\ns2 = ANSWER_FROM(s1, "the question")'


def kinds() -> dict[str, str]:
    """The kind of each bundled demonstration's question, from the checkout's newest store."""
    stores = sorted((ROOT / "pearl" / "planning" / "data").glob("demos.v*.json"), key=lambda p: int(p.stem[7:]))
    labelled = {}
    for demo in json.loads(stores[-1].read_text(encoding="utf-8"))["demos"]:
        labelled[demo["question"]] = demo.get("kind") or "?"
    return labelled


def measure(data: Path, limit: int | None, with_document: bool) -> None:
    """Print the figures of each file (see the module), planning with the `pearl` package on the path."""
    from _common import questions, require  # here: `--rev` runs this file again with another package

    from pearl import Pearl, load_settings
    from pearl.llm import FakeLLM
    from pearl.tokens import count_tokens

    labelled = kinds()
    print(f"{'file':32} {'questions':>9} {'match':>6}  by count (0-4)       {'none':>5} {'tokens':>7}")
    for name, kind in FILES.items():
        fake = FakeLLM(default=PLAN)
        pearl = Pearl(llm=fake, settings=load_settings(cache=False))
        matched: list[int] = []
        tokens: list[int] = []
        unknown: Counter[str] = Counter()
        for document, question in questions(require(data / name), limit):
            fake.history.clear()
            pearl.plan(question, document if with_document else None)
            (request,) = [r for r in fake.history if (r.prompt or "").startswith("plan")]
            prompt = "\n".join(m.content for m in request.messages)
            shown = re.findall(r"^Question: (.*)\nPlan:$", prompt, flags=re.MULTILINE)
            unknown.update(q for q in shown if q not in labelled)
            matched.append(sum(labelled.get(q) == kind for q in shown))
            tokens.append(count_tokens(prompt))
        counts = Counter(matched)
        spread = " ".join(f"{counts[n]:3d}" for n in range(5))
        none = counts[0] / len(matched)
        print(
            f"{name:32} {len(matched):9d} {statistics.mean(matched):6.2f}  {spread}  "
            f"{none:5.2f} {statistics.mean(tokens):7.0f}"
        )
        if unknown:
            print(f"  shown but not in the checkout's store ({sum(unknown.values())}): {sorted(unknown)[:3]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=None, help="the L-Eval files (default: ../shared/data)")
    parser.add_argument("--limit", type=int, default=None, help="questions per file (default: all)")
    parser.add_argument("--rev", default=None, help="measure the package as of this git revision")
    parser.add_argument("--without-document", action="store_true", help="plan with the question alone")
    args = parser.parse_args()
    data = args.data or default_data_dir()
    if args.rev is None:
        measure(data, args.limit, not args.without_document)
        return
    with tempfile.TemporaryDirectory(prefix="pearl-rev-") as folder:
        archive = subprocess.run(["git", "archive", args.rev, "pearl", "prompts"], cwd=ROOT, capture_output=True)
        if archive.returncode != 0:
            sys.exit(f"git archive {args.rev} failed: {archive.stderr.decode(errors='replace').strip()}")
        subprocess.run(["tar", "-x", "-C", folder], input=archive.stdout, check=True)
        command = [sys.executable, __file__, "--data", str(data)]
        command += ["--limit", str(args.limit)] if args.limit is not None else []
        command += ["--without-document"] if args.without_document else []
        print(f"package as of {args.rev}:", flush=True)
        done = subprocess.run(command, env={**os.environ, "PYTHONPATH": folder}, cwd=folder, check=False)
        sys.exit(done.returncode)


if __name__ == "__main__":
    main()
