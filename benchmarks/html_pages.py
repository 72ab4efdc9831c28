"""How fast pearl's pages open in headless Chromium: answer pages of a 10k- and a 1M-word document, and the
report of a 1,000-row evaluation run; and how long an evaluation run takes to write its trace pages.

Usage:
    python benchmarks/html_pages.py [--sizes 10000,1000000] [--rows 1000] [--repeat 3] [--data ../shared/data]

Answer pages: a synthetic document of the given size (paragraphs of 3-8 sentences, no two
alike) is written to a file and asked about with `pearl.Pearl` and the counting fake model
(`pearl.eval.counting_fake_llm`: a real plan of two steps, real step prompts with their
`[S12]` excerpts), indexed without NER (the page needs sentences only; with NER a million
words take ~100 s to index, which is not what is measured here). The page comes from
`pearl trace html`'s path: `index_for_trace` then `render_trace_page`.

Each page is opened --repeat times in a fresh tab of one headless Chromium (the
distribution's, through Selenium; `apt-get install chromium chromium-driver`) and the median
is reported, in milliseconds from navigation start: the load event, the first sentence (or
the first rows) drawn, then clicking a citation of the last sentences of the document (until
it is marked), and jumping to the end of the document pane (until its last sentence is
drawn). For the report: filtering the rows by a method (until drawn) instead of the click, and
jumping to the last row of the table. "Longest task" is the longest main-thread task Chromium
reported (PerformanceObserver "longtask", which sees tasks over 50 ms) while the document pane
(or the table) was scrolled through 60 screens from the middle, a frame at a time: tasks over
~100 ms are what a reader feels as a freeze.

Eval pages: `pearl eval`'s runner with the counting fake over the shared QuALITY file (or the
bundled sample when ../shared/data is absent) with the four methods; reported are the run's
seconds and the seconds to write every trace page again (all pages deleted first).

Exits 0 with a message when no browser is installed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from headless import (  # noqa: E402  (the tests' browser helper, shared so both start Chromium alike)
    network_requests,
    open_page,
    page_timings,
    start_chromium,
    synthetic_index,
    synthetic_rows,
    why_not,
)

from pearl import Pearl, load_settings  # noqa: E402
from pearl.context import DocumentIndex  # noqa: E402
from pearl.eval import (  # noqa: E402
    counting_fake_llm,
    load_dataset,
    run_eval,
    select_questions,
    summarize,
    write_summary,
)
from pearl.html import index_for_page, index_for_trace, render_report_page, render_trace_page  # noqa: E402
from pearl.models import Document  # noqa: E402

METHODS = ("pearl", "direct", "rag", "pearl-fulldoc")

_SCROLL_END = """
const done = arguments[arguments.length - 1], last = arguments[0];
const pane = document.getElementById('docpane');
const started = performance.now();
pane.scrollTop = pane.scrollHeight;
const wait = () => document.getElementById('S' + last)
  ? done(performance.now() - started) : requestAnimationFrame(wait);
requestAnimationFrame(wait);
"""

_SCROLL_THROUGH = """
const done = arguments[arguments.length - 1], screens = arguments[0];
const pane = document.getElementById(arguments[1]);
let longest = 0, frames = 0, worstFrame = 0, before = performance.now();
const observer = new PerformanceObserver(list => {
  for (const e of list.getEntries()) longest = Math.max(longest, e.duration);
});
observer.observe({type: 'longtask'});
pane.scrollTop = pane.scrollHeight / 2;
const step = () => {
  const now = performance.now();
  worstFrame = Math.max(worstFrame, now - before);
  before = now;
  if (frames++ >= screens) { observer.disconnect(); done([longest, worstFrame]); return; }
  pane.scrollTop += pane.clientHeight;
  requestAnimationFrame(step);
};
requestAnimationFrame(() => { before = performance.now(); requestAnimationFrame(step); });
"""


class _SentencesOnly(Pearl):
    """pearl as it is, but indexing without NER: what is measured is the page, not spaCy."""

    def index(self, document: Document) -> DocumentIndex:
        return index_for_page(document)


def medians(samples: list[dict[str, float]]) -> dict[str, float]:
    """Each measure's median over the loads of a page."""
    return {key: statistics.median(sample[key] for sample in samples) for key in samples[0]}


def close_tab(driver: Any) -> None:
    driver.close()
    driver.switch_to.window(driver.window_handles[0])


def answer_page(words: int, folder: Path) -> tuple[Path, int, float, int]:
    """(page, the last cited sentence id, seconds to render the page, sentences) for a document of `words` words."""
    text = synthetic_index(words).text
    source = folder / f"doc{words}.txt"
    source.write_text(text, encoding="utf-8")
    pearl = _SentencesOnly(llm=counting_fake_llm(), settings=load_settings(cache=False))
    last_words = text[-400:].split(".")[-3].split()[-8:]  # a question about the last sentences
    answer = pearl.ask(source, f"What happens when {' '.join(last_words)}?")
    started = time.perf_counter()
    index = index_for_trace(answer.trace)
    page = render_trace_page(answer.trace, index)
    seconds = time.perf_counter() - started
    path = folder / f"answer{words}.html"
    path.write_text(page, encoding="utf-8")
    cited = max((c.sentence_id for c in answer.citations), default=index.sentence_count - 1)
    return path, cited, seconds, index.sentence_count


def measure_answer(driver: Any, path: Path, cited: int, sentences: int, repeat: int) -> dict[str, float]:
    samples: list[dict[str, float]] = []
    for _ in range(repeat):
        url = open_page(driver, path, new_tab=True)
        timings = page_timings(driver)
        if "pearl-first-sentence" not in timings:
            sys.exit(f"{path}: the page drew no sentence ({timings}); the browser said: {driver.get_log('browser')}")
        started = time.perf_counter()
        driver.execute_script(f"document.querySelector(\"a.cite[data-sid='{cited}']\").click()")
        marked = driver.execute_script("return document.querySelector('.marked').id")
        click_ms = (time.perf_counter() - started) * 1000
        assert marked == f"S{cited}", marked
        end_ms = driver.execute_async_script(_SCROLL_END, sentences - 1)
        longest, worst_frame = driver.execute_async_script(_SCROLL_THROUGH, 60, "docpane")
        assert network_requests(driver, url) == []
        samples.append(
            {
                "load": timings["load"],
                "first": timings["pearl-first-sentence"],
                "click": click_ms,
                "end": end_ms,
                "longtask": longest,
                "frame": worst_frame,
            }
        )
        close_tab(driver)
    return medians(samples)


def measure_report(driver: Any, count: int, folder: Path, repeat: int) -> tuple[dict[str, float], float, int]:
    rows = synthetic_rows(count)
    summary = summarize(rows)
    started = time.perf_counter()
    page = render_report_page(summary, rows, pages={(r.id, r.method): f"traces/{r.id}.html" for r in rows})
    render_s = time.perf_counter() - started
    path = folder / f"report{count}.html"
    path.write_text(page, encoding="utf-8")
    samples: list[dict[str, float]] = []
    for _ in range(repeat):
        url = open_page(driver, path, new_tab=True)
        timings = page_timings(driver)
        to_end = driver.execute_async_script(
            """
            const done = arguments[arguments.length - 1], wrap = document.getElementById('rows-wrap');
            const last = 'q' + arguments[0];
            const started = performance.now();
            const drawn = () => Array.from(document.querySelectorAll('#rows-body tr:not(.spacer) td:first-child'),
                                           td => td.textContent).includes(last);
            wrap.scrollTop = wrap.scrollHeight;
            const wait = () => drawn() ? done(performance.now() - started) : requestAnimationFrame(wait);
            requestAnimationFrame(wait);
            """,
            (count - 1) // 4,
        )
        longest, _ = driver.execute_async_script(_SCROLL_THROUGH, 60, "rows-wrap")
        filter_ms = driver.execute_async_script(
            """
            const done = arguments[arguments.length - 1];
            const started = performance.now();
            const s = document.getElementById('f-method'); s.value = 'rag'; s.dispatchEvent(new Event('input'));
            requestAnimationFrame(() => done(performance.now() - started));
            """
        )
        assert network_requests(driver, url) == []
        samples.append(
            {
                "load": timings["load"],
                "first": timings["pearl-first-rows"],
                "end": to_end,
                "longtask": longest,
                "filter": filter_ms,
            }
        )
        close_tab(driver)
    return medians(samples), render_s, len(page)


def measure_eval_pages(data: Path, folder: Path) -> tuple[str, int, float, float]:
    dataset = load_dataset(data)
    out = folder / "run"
    pearl = _SentencesOnly(llm=counting_fake_llm(), settings=load_settings(cache=False))
    started = time.perf_counter()
    run_eval(pearl, dataset, list(METHODS), out)
    run_s = time.perf_counter() - started
    pages = list((out / "traces").glob("*.html"))
    for page in pages:
        page.unlink()
    documents = {d.id: Document.from_text(d.text, name=d.title or d.id) for d in dataset.documents}
    started = time.perf_counter()
    write_summary(out, select_questions(dataset), list(METHODS), None, documents=documents)
    return data.name, len(pages), run_s, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,1000000", help="document sizes in words")
    parser.add_argument("--rows", type=int, default=1000, help="rows of the report")
    parser.add_argument("--repeat", type=int, default=3, help="loads per page (the median is reported)")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    reason = why_not()
    if reason is not None:
        print(f"skipped: {reason}")
        return
    folder = Path(tempfile.mkdtemp(prefix="pearl-html-bench-"))
    os.environ["PEARL_HOME"] = str(folder / "home")  # indexes cached there, not in the user's cache
    driver = start_chromium(folder / "profile")
    try:
        print("| page | size | render s | load ms | first drawn ms | citation click ms | to end ms | longest task ms |")
        print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for words in (int(w) for w in args.sizes.split(",")):
            path, cited, render_s, sentences = answer_page(words, folder)
            m = measure_answer(driver, path, cited, sentences, args.repeat)
            size = f"{words:,} words, {path.stat().st_size / 1e6:.1f} MB"
            print(
                f"| answer | {size} | {render_s:.2f} | {m['load']:.0f} | {m['first']:.0f} | {m['click']:.0f} | "
                f"{m['end']:.0f} | {m['longtask']:.0f} |",
                flush=True,
            )
        r, render_s, size = measure_report(driver, args.rows, folder, args.repeat)
        print(
            f"| report | {args.rows:,} rows, {size / 1e6:.1f} MB | {render_s:.2f} | {r['load']:.0f} | "
            f"{r['first']:.0f} | filter: {r['filter']:.0f} | {r['end']:.0f} | {r['longtask']:.0f} |"
        )
    finally:
        driver.quit()
    quality = args.data / "leval_quality.jsonl"
    data = quality if quality.is_file() else ROOT / "datasets" / "sample" / "quality_sample.jsonl"
    name, pages, run_s, pages_s = measure_eval_pages(data, folder)
    print(
        f"\neval run ({name}, {', '.join(METHODS)}): {run_s:.1f} s in all; its {pages} trace pages rewritten in "
        f"{pages_s:.1f} s ({1000 * pages_s / max(1, pages):.0f} ms per page)"
    )
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
