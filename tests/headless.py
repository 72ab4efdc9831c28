"""Headless Chromium for tests and benchmarks that open pearl's pages: the distribution's browser and driver
(`apt-get install chromium chromium-driver`), driven by Selenium; nothing is downloaded at run time.

    driver = start_chromium()            # None, with `why_not()` saying what is missing
    url = open_page(driver, path); assert network_requests(driver, url) == []
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = [
    "drain_log",
    "network_requests",
    "open_page",
    "page_timings",
    "start_chromium",
    "synthetic_index",
    "synthetic_rows",
    "why_not",
]

_BROWSERS = ("chromium", "chromium-browser", "google-chrome")
# Without these Chromium reaches out to Google on start (and gets refused offline).
_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--window-size=1400,1000",
)


def _binaries() -> tuple[str | None, str | None]:
    browser = next((path for name in _BROWSERS if (path := shutil.which(name))), None)
    return browser, shutil.which("chromedriver")


def why_not() -> str | None:
    """Why no headless browser can run here, or None when one can."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install selenium, or the [test] extra)"
    browser, driver = _binaries()
    if browser is None or driver is None:
        return "no Chromium with its driver on PATH (Debian/Ubuntu: apt-get install -y chromium chromium-driver)"
    return None


def start_chromium(profile: Path | None = None) -> Any:
    """A fresh headless Chromium (its own profile folder) with the performance log on, or None if none can run."""
    if why_not() is not None:
        return None
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver = _binaries()
    options = webdriver.ChromeOptions()
    options.binary_location = str(browser)
    for flag in _FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile or tempfile.mkdtemp(prefix='pearl-chromium-')}")
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    return webdriver.Chrome(service=Service(str(driver)), options=options)


def drain_log(driver: Any) -> None:
    """Forget what the browser logged so far."""
    driver.get_log("performance")


def open_page(driver: Any, path: Path, *, new_tab: bool = False) -> str:
    """Load the page at `path` (in a new tab if asked) with the log drained first; its file:// URL.

    Returns once the page itself answers scripts, loaded: right after a navigation Chromium
    may still run a script in the document before it, or report an empty timeline.
    """
    url = path.resolve().as_uri()
    if new_tab:
        driver.switch_to.new_window("tab")
    drain_log(driver)
    driver.get(url)
    deadline = time.monotonic() + 10
    probe = (
        "const nav = performance.getEntriesByType('navigation')[0];"
        "return document.URL === arguments[0] && document.readyState === 'complete' && !!nav && nav.loadEventEnd > 0"
    )
    while not driver.execute_script(probe, url) and time.monotonic() < deadline:
        time.sleep(0.05)
    return url


def network_requests(driver: Any, page: str) -> list[str]:
    """URLs that the document loaded from `page` asked for since the last call, other than itself.

    Only requests made on behalf of that document count: Chromium's own start page fetches
    its resources in the same log.
    """
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] != "Network.requestWillBeSent":
            continue
        params = message["params"]
        url = params["request"]["url"]
        if params.get("documentURL") == page and url != page:
            urls.append(url)
    return urls


def page_timings(driver: Any) -> dict[str, float]:
    """Milliseconds from navigation start: DOM ready, load event end, and each `performance.mark` the page set."""
    timings: dict[str, float] = driver.execute_script(
        """
        const nav = performance.getEntriesByType('navigation')[0];
        const out = {dom_ready: nav.domContentLoadedEventEnd, load: nav.loadEventEnd};
        for (const m of performance.getEntriesByType('mark')) if (!(m.name in out)) out[m.name] = m.startTime;
        return out;
        """
    )
    return timings


_WORDS = (
    "lamp keeper water oil tower storm ship light night rock sea wind letter aunt girl stairs lens clock harbour "
    "boat rope bell fog log board inspector winter autumn reef channel gull tide kettle window glass brass"
).split()
_NAMES = ("Dorota", "Varga", "Teodor", "Quarrie", "Brannoch", "Ilse")


def synthetic_index(words: int, *, seed: int = 0, name: str = "synthetic.txt") -> Any:
    """A document of about `words` words and its `DocumentIndex`, built directly from the sentences it is made of.

    Paragraphs of 3-8 sentences of 8-22 words, each sentence ending with its number so no two
    repeat. Indexing a million words takes seconds even without NER; a page only needs the
    sentences, paragraphs and offsets, which are known here as the text is written.
    """
    import random

    from pearl.context import DocumentIndex
    from pearl.models import Document, DocumentPart

    rng = random.Random(seed)
    chunks: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    paragraph_of: list[int] = []
    para_starts: list[int] = []
    para_ends: list[int] = []
    offset = count = 0
    while count < words:
        if chunks:
            chunks.append("\n\n")
            offset += 2
        para_starts.append(offset)
        for k in range(rng.randint(3, 8)):
            if k:
                chunks.append(" ")
                offset += 1
            body = [rng.choice(_WORDS) for _ in range(rng.randint(8, 22))]
            sentence = f"{rng.choice(_NAMES)} saw the {' '.join(body)} {len(starts)}."
            starts.append(offset)
            ends.append(offset + len(sentence))
            paragraph_of.append(len(para_starts) - 1)
            chunks.append(sentence)
            offset += len(sentence)
            count += len(body) + 4
        para_ends.append(offset)
    text = "".join(chunks)
    document = Document(text=text, name=name, parts=[DocumentPart(name=name, start=0, end=len(text))])
    return DocumentIndex(
        version=0,
        content_hash=document.content_hash,
        name=name,
        parts=list(document.parts),
        text=text,
        words=count,
        para_starts=para_starts,
        para_ends=para_ends,
        sent_starts=starts,
        sent_ends=ends,
        sent_tokens=[0] * len(starts),
        sent_para=paragraph_of,
        sent_heading=[-1] * len(starts),
        sent_section=[-1] * len(starts),
        sent_flags=[0] * len(starts),
    )


METHODS = ("pearl", "direct", "rag", "pearl-fulldoc")


def synthetic_rows(count: int) -> list[Any]:
    """`count` evaluation rows (`pearl.eval.ResultRow`) over the four methods: right, wrong, failed, fallbacks,
    answers of a sentence or two holding markup (which a page must show as text)."""
    from pearl.eval import ResultRow

    rows = []
    for i in range(count):
        method = METHODS[i % len(METHODS)]
        right = (i * 7) % 3 != 0
        rows.append(
            ResultRow(
                id=f"q{i // len(METHODS)}",
                method=method,
                kind="choice",
                qtype=("why", "who", "what", "how", "other")[i % 5],
                answer=f"The answer to question {i}, <b>in bold</b>, as a model would write it [S{i % 300}].",
                gold="B",
                correct=right,
                score=float(right),
                prompt_tokens=1500 + 37 * (i % 200),
                calls=4 if method.startswith("pearl") else 1,
                seconds=0.5,
                fallback=method == "pearl" and i % 40 == 0,
                error="timed out" if i % 97 == 0 else None,
            )
        )
    return rows
