"""How long one `Pearl.aask` keeps the event loop it runs on from doing anything else: what an app serving other
requests on that loop waits.

Usage:
    python benchmarks/loop_stall.py [FILE.jsonl] [--questions N] [--dense auto|on|off] [--server]

With no file it reads the contracts (`leval_legal_contract_qa.jsonl`) from `../shared/data`. The first
document is indexed beforehand (indexing runs in a worker thread and is not measured here). Then, on one
event loop with a ticker task that wakes every millisecond, each method (`pearl`, `rag`, `pearl-fulldoc`, `direct`)
answers the document's first N questions (default 3) with a fake model that answers at once (a two-step plan
for the planned methods), in turn. One line per method and question:

    stall   the longest the ticker waited past its millisecond while the question ran (ms): the
            longest stretch the loop ran nothing else
    busy    the sum of the ticker's waits over 5 ms (ms)
    total   the question's wall time (ms)

The first question of the run also pays one-time costs (the tokenizer's and the prompts' first load).

With `--server` the fake model is a fake OpenAI-compatible server on 127.0.0.1 (`tests/fakeserver.py`, in a
thread of this process), reached through pearl's HTTP client as a real server would be: what making the calls'
clients and connections costs the loop is counted too.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from pathlib import Path
from typing import Any

from _common import SHARED_DATA, require
from _shared import read_leval

from pearl import Document, FakeLLM, Pearl, Settings
from pearl.llm import CompletionRequest

METHODS = ("pearl", "rag", "pearl-fulldoc", "direct")
PLAN = 's1 = FIND_X(CTX, "term and termination")\ns2 = ANSWER(CTX, "When does the agreement end?")'


def reply(request: CompletionRequest) -> str:
    return PLAN if (request.prompt or "").startswith("plan") else "It says so [S1]."


def served_reply(request: dict[str, Any]) -> str:
    """`reply`, for the fake server: a planning prompt is the one that ends asking for the plan."""
    last = str(request["messages"][-1].get("content", ""))
    return PLAN if last.rstrip().endswith("Plan:") else "It says so [S1]."


async def measure(pearl: Pearl, document: Document, questions: list[str]) -> None:
    waits: list[float] = []
    running = True

    async def tick() -> None:
        last = time.perf_counter()
        while running:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            waits.append(now - last - 0.001)
            last = now

    ticker = asyncio.create_task(tick())
    await asyncio.sleep(0.05)  # the ticker is running before the first question
    for method in METHODS:
        for n, question in enumerate(questions, 1):
            waits.clear()
            started = time.perf_counter()
            await pearl.aask(document, question, method=method)
            total = time.perf_counter() - started
            await asyncio.sleep(0.01)  # the ticker's wait across the question's end is counted
            stall = max(waits, default=0.0)
            busy = sum(w for w in waits if w > 0.005)
            print(
                f"{method:<14} q{n} stall={stall * 1000:.0f}ms busy={busy * 1000:.0f}ms total={total * 1000:.0f}ms",
                flush=True,
            )
    running = False
    await ticker


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, default=SHARED_DATA / "leval_legal_contract_qa.jsonl")
    parser.add_argument("--questions", type=int, default=3, help="questions per method (default 3)")
    parser.add_argument("--dense", choices=("auto", "on", "off"), default="auto", help="Settings.dense")
    parser.add_argument("--server", action="store_true", help="call a fake OpenAI-compatible server over HTTP")
    args = parser.parse_args(argv)
    first = read_leval(require(args.path), limit=1)[0]
    dense = {"on": True, "off": False}.get(args.dense, "auto")
    with contextlib.ExitStack() as stack:
        if args.server:
            sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
            from fakeserver import FakeOpenAIServer

            server = stack.enter_context(FakeOpenAIServer())
            server.set_default(served_reply)
            settings = Settings(cache=False, dense=dense, base_url=server.base_url, model="fake", api_key="none")
            pearl = Pearl(settings=settings)
        else:
            pearl = Pearl(llm=FakeLLM(default=reply), settings=Settings(cache=False, dense=dense))
        document = Document.from_text(first.text, name=args.path.stem)
        pearl.index(document)
        model = "a fake server over HTTP" if args.server else "FakeLLM"
        print(f"# {args.path.name}: document 0, {len(first.text):,} characters; dense {args.dense}; model {model}")
        asyncio.run(measure(pearl, document, first.questions[: args.questions]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
