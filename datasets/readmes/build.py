"""Build a held-out question set from the READMEs of seven Python packages, as their wheels install them.

Usage:
    python datasets/readmes/build.py OUT.jsonl

The packages: orjson, tqdm, regex, responses, threadpoolctl, python-dotenv and wcwidth (Markdown and
reStructuredText, 3,000 to 5,700 words, much of it code). A README is the long description a wheel carries in
its METADATA, as `importlib.metadata` gives it, unchanged. The questions and golds were written by a helper that
never saw pearl's code, 12 a README, as its reader would ask them, in other words: by the helper's count one of
84 shares more than a quarter of its gold's content words. Each gold is a span of the README's prose, spread
from its opening to its end. pearl was measured on the set once, as it stood, before anything was changed for it;
one change followed from reading one README (python-dotenv's list of links to its headings is a table of contents).

Each gold is written with single spaces; the README's own text is what is written out, found by a
whitespace-tolerant match. A package not installed, or a gold its README lacks (another release words it
otherwise), is left out and named. Measured with: orjson 3.8.3, tqdm 4.70.1, regex 2026.5.9, responses 0.26.0,
threadpoolctl 3.8.0, python-dotenv 1.2.2, wcwidth 0.7.0.
"""

from __future__ import annotations

import importlib.metadata
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _rows import build_rows, not_run, write_rows

SOURCE = "package-readme"

DATA: dict[str, list[tuple[str, str]]] = {
    "orjson": [
        (
            "Can I just swap it in wherever my code calls the stdlib json functions and expect the same return type?",
            "serializes to `bytes` rather than `str`, i.e., is not a drop-in replacement",
        ),
        (
            "Would a release that starts encoding an extra Python class automatically be treated as incompatible?",
            "serializing a new object type without an opt-in flag is considered a breaking change",
        ),
        ("Can I pretty-print with four spaces instead of two?", "other levels of indentation are not supported"),
        (
            "What goes wrong if my fallback hook forgets to raise for something it doesn't know how to handle?",
            "Python otherwise implicitly returns `None`, which appears to the caller like a legitimate value and is serialized",
        ),
        (
            'Could mixing the integer 1 and the string "1" as mapping entries cause trouble in the output?',
            "This option has the risk of creating duplicate keys.",
        ),
        (
            "Should I always turn on alphabetical ordering of object members?",
            "It has a substantial performance penalty and is not recommended in general.",
        ),
        (
            "Should I decode my bytes to text myself before parsing them?",
            "it is recommended to pass these directly rather than creating an unnecessary `str` object",
        ),
        (
            "Does the parser remember repeated dictionary key names to save RAM, and with what limits?",
            "The keys must be at most 64 bytes to be cached and 1024 entries are stored.",
        ),
        (
            "Which time zone implementation gives the best speed when encoding aware timestamps?",
            "It is fastest to use the standard library's `zoneinfo.ZoneInfo` for timezones.",
        ),
        (
            "Why would anyone want to restrict whole numbers to 53 bits?",
            "there are implementations that only support 53-bits for integers, e.g., web browsers",
        ),
        (
            "Why does simply importing it use more RAM than the alternatives?",
            "higher baseline memory usage than other libraries due to a persistent buffer used for parsing",
        ),
        ("What does it need at run time besides itself?", "There are no runtime dependencies other than libc."),
    ],
    "tqdm": [
        ("How much slowdown does wrapping my loop add?", "Overhead is low -- about 60ns per iteration"),
        (
            "If I get it from the Ubuntu app store package, can I use it from my Python code?",
            "binaries are purely for CLI use",
        ),
        (
            "What problems do people most often report?",
            "The most common issues relate to excessive output on multiple lines, instead of a neat one-line progress bar.",
        ),
        (
            "Why do Windows terminals sometimes show broken or misaligned bar characters?",
            'either normal-width unicode characters being incorrectly displayed as "wide", or some unicode characters not rendering',
        ),
        (
            "My bar lost its total when I wrapped enumerate around a list; why?",
            "Generator wrapper functions tend to hide the length of iterables.",
        ),
        (
            "My loop has some very quick steps and some that stall on downloads; which display setting should I change?",
            "If your progress is erratic with both fast and slow iterations (network, skipping items, etc) you should set miniters=1.",
        ),
        (
            "How do I make the rate estimate reflect only the latest speed rather than the overall mean?",
            "Ranges from 0 (average speed) to 1 (current/instantaneous speed)",
        ),
        (
            "If I bail out early from an async loop, how do I make sure the bar gets tidied up?",
            "either call ``pbar.close()`` manually or use the context manager syntax",
        ),
        (
            "In Jupyter, what does it mean when the widget turns red?",
            "blue: normal, green: completed, red: error/interrupt, light blue: no ETA",
        ),
        (
            "Why doesn't the notebook widget close itself when my cell raises an error?",
            "the notebook version (unlike the CLI version) does not automatically call ``close()`` upon ``Exception``",
        ),
        (
            "Is it ok to dump debug output with the normal builtin while the meter is on screen?",
            "you should not write any message in the terminal using ``print()`` while a progress bar is open",
        ),
        (
            "How often is the display guaranteed to refresh even if iterations become very slow?",
            "guarantees updates at least every 10 seconds by default",
        ),
    ],
    "regex": [
        (
            "Can I use it on an alternative interpreter that isn't CPython?",
            "it won't behave properly with PyPy outside U+0000..U+007F because PyPy stores strings as UTF-8",
        ),
        (
            "Is it safe to let other threads run while searching a buffer that might be mutated?",
            "The behaviour is undefined if the string changes during matching",
        ),
        (
            "Can I enable a modifier for just one piece of my expression and switch it back off later?",
            "Scoped flags can apply to only part of a pattern and can be turned on or off",
        ),
        (
            "If two capturing parentheses share a label, which value do I get back?",
            "with later captures 'overwriting' earlier captures",
        ),
        (
            "Is there a speed cost to asking for the longest alternative instead of the first one found?",
            "it won't return that immediately, but will keep looking to see if there's another longer match there",
        ),
        (
            "Is relying on the system's language settings for matching a good idea in new code?",
            "is intended for legacy code and has limited support. You're still recommended to use Unicode instead.",
        ),
        (
            "How can I tell whether text a user is still typing could become valid once finished?",
            "A partial match is one that matches up to the end of string, but that string has been truncated",
        ),
        (
            "A match result keeps a huge input text alive; how can I free it?",
            "making it available for garbage collection, which might save valuable memory if that string is very large",
        ),
        (
            "Is it possible to give just a floor for the number of allowed typos, with no ceiling?",
            "You cannot specify only a minimum.",
        ),
        (
            "Why not just join a big list of words with the alternation bar into one pattern?",
            "if the list is large, parsing the resulting regex can take considerable time",
        ),
        (
            "If I scan from the end of the text, do I just get the same hits in the opposite order?",
            "the result of a reverse search is not necessarily the reverse of a forward search",
        ),
        (
            "If I cap how long a substitution may run, is that limit per replacement callback or for the whole call?",
            "The timeout (in seconds) applies to the entire operation",
        ),
    ],
    "responses": [
        (
            "What's the minimum interpreter and HTTP client version supported?",
            "Responses requires Python 3.8 or newer, and requests >= 2.30.0",
        ),
        (
            "What error does my test see when it hits an endpoint I never set up a fake for?",
            "If you attempt to fetch a url which doesn't hit a match, ``responses`` will raise a ``ConnectionError``",
        ),
        (
            "How do I simulate a network failure for a call?",
            "You can pass an ``Exception`` as the body to trigger an error on the request",
        ),
        (
            "Does the query-string check fail if my code sends an additional argument I didn't list?",
            "By default, matcher will validate that all parameters match strictly.",
        ),
        (
            "The HTTP library sends things like User-Agent automatically; will that break my Accept check?",
            "request headers that are additional to the ones passed to the matcher are ignored by default",
        ),
        (
            "If two fakes fit the same outgoing call, which one is used?",
            "if multiple matches are found for the same request, then first match is returned and removed from registry",
        ),
        (
            "How can I make successive identical calls return different statuses in sequence?",
            "force all ``Response`` objects to be dependent on the insertion order and invocation index",
        ),
        (
            "If one of my fakes is never used during the with-block, does anything complain?",
            "raise an assertion error if a url was registered but not accessed",
        ),
        (
            "How can I verify calls made from several threads when they arrive in unpredictable order?",
            "This can be useful when the order of requests is not guaranteed, but you need to check their correctness",
        ),
        (
            "If several fakes share the same method and address, how many get swapped when I change one?",
            "Only the first matched ``response`` is replaced.",
        ),
        (
            "Can multiple threads use the mock at the same moment?",
            "locks threading on ``RequestMock`` object allowing only single thread to access it",
        ),
        (
            "What's the quickest route to checking my contribution passes everything before I open a pull request?",
            "The easiest way to validate your code is to run tests via ``tox``.",
        ),
    ],
    "threadpoolctl": [
        (
            "Why would I want to cap the native worker count of numerical libraries?",
            "can be useful in workloads that involve nested parallelism so as to mitigate oversubscription issues",
        ),
        (
            "What happens in the command-line inspection if one of the modules I name isn't installed?",
            "If some of the packages are missing, a warning message is displayed on STDERR.",
        ),
        (
            "What can the cached helper object fail to notice?",
            "might miss new libraries loaded by compiled extensions directly using mechanisms like `dlopen()` on Linux",
        ),
        (
            "I'm fanning work out over a pool of Python workers; is setting the cap once in the main program enough?",
            "each Python worker thread must also call a method to limit controlled libraries in that thread.",
        ),
        (
            "Why share one controller object across workers instead of calling the limiting function in each?",
            "which needs to do some work (inspecting and getting access to third-party shared libraries) that can take some time",
        ),
        (
            "If a non-owning worker tries to change the shared OpenBLAS pool size, does it raise an error?",
            "For other thread, calls will be silently ignored.",
        ),
        (
            "Should I just trust the two recommended settings for speed without measuring?",
            "Benchmarking is important because empirically, these limits do not always maximize performance.",
        ),
        (
            "Is the backend-switching feature for FlexiBLAS stable?",
            "this part of the API is experimental and subject to change without deprecation",
        ),
        (
            "After switching the BLAS backend, is the old library unloaded?",
            "the previously linked OpenBLAS shared object stays loaded by the Python program indefinitely",
        ),
        (
            "I have a gcc-compiled parallel loop calling into clang-compiled parallel code; will the cap on the inner workers hold?",
            "can fail to limit the number of inner threads when nesting parallel loops managed by distinct OpenMP runtime implementations",
        ),
        (
            "With Intel's math library and ten Python workers on ten cores, how many native workers appear?",
            "you will get 10×10 = 100 MKL threads!",
        ),
        (
            "Will it pin my process to certain CPUs or shrink my multiprocessing pool?",
            "threadpoolctl only interacts with native libraries via their public runtime APIs.",
        ),
    ],
    "python-dotenv": [
        (
            "How do I make the file's values take precedence over what's already exported in my shell?",
            "Pass `override=True` to override existing variables.",
        ),
        (
            "I referenced another setting with just a dollar sign and no braces, and it came through literally; why?",
            "bare variables such as `$DOMAIN` are not expanded",
        ),
        (
            "Is it safe to check my local settings file into version control?",
            "You will probably want to add `.env` to your `.gitignore`, especially if it contains secrets like a password.",
        ),
        (
            "Can I get the parsed settings back as a mapping while leaving the process environment alone?",
            "it doesn't touch the environment, it just returns a `dict` with the values parsed from the `.env` file",
        ),
        (
            "Is a file on disk the only place settings can be read from?",
            "It is thus possible to load the variables from sources other than the filesystem",
        ),
        (
            "If I reuse a shell script with 'export' at the front of each assignment, will that confuse the parser?",
            "Lines can start with the `export` directive, which does not affect their interpretation.",
        ),
        (
            "If a line has a key followed by an equals sign and nothing after it, what value results?",
            "in which case the variable is associated with the empty string",
        ),
        (
            "After upgrading, editing a key no longer writes through my linked file; how do I get the old behaviour back?",
            "For that behavior to be restored in all cases, `follow_symlinks=True` should be used.",
        ),
        (
            "Will writing a value with the CLI reset my file's chmod permissions?",
            "The original mode of the file is now preserved.",
        ),
        (
            "When the tool writes a value into the file, what quoting style does it apply?",
            "Use single quotes instead of double quotes.",
        ),
        (
            "When my app is frozen into a single executable, where does it look for the settings file?",
            "Use current working directory to find `.env` when bundled by PyInstaller",
        ),
        (
            "If a value contains a hash sign right after other characters, does it get cut off?",
            "Interpret `#` as start of comment only if preceded by whitespace.",
        ),
    ],
    "wcwidth": [
        (
            "What kind of software is this package meant for?",
            "This library is mainly for CLI/TUI programs that carefully produce output for Terminals.",
        ),
        (
            "Why do the built-in padding methods misalign my Japanese text in columns?",
            "measure the displayed width of a string as equal to the number of their codepoints",
        ),
        (
            "What do the POSIX-style measuring calls give back if the text has escape or bell characters?",
            "These functions return -1 when C0 and C1 control codes are present.",
        ),
        (
            "What terminal capability does the library assume is switched on?",
            "presume the terminal is enabled for DEC Private Mode 2027",
        ),
        (
            "Is there a faster setting if my strings are known to be plain text?",
            "when the input is known not to contain any control characters or terminal sequences for slightly improved performance",
        ),
        (
            "What if my text contains a home-and-wipe-the-display escape and I ask for the strict behaviour?",
            "Any sequence that cannot be accurately parsed, such as clearing the screen, vertical, or absolute cursor movement will raise ``ValueError``",
        ),
        (
            "Circled digits show as two columns on my Chinese terminal; what does the library assume by default?",
            "By default, wcwidth treats ambiguous characters as narrow (width 1).",
        ),
        (
            "How can a program find out at runtime whether the user's emulator renders those characters double?",
            "display an ambiguous character surrounded by a pair of Cursor Position Report (CPR) queries",
        ),
        (
            "What could go wrong with that probing when my program runs in a build pipeline?",
            'be careful of possible timeout, slow network, or non-response when working with "dumb terminals" like a CI build',
        ),
        (
            "Can I still pick an older standard release, say 9.0, for the width tables?",
            "Only the latest Unicode version (17.0.0) is now shipped.",
        ),
        (
            "Some older releases reported the invisible hyphen as taking no room; which ones?",
            "U+00AD SOFT HYPHEN should measure as 1, versions 0.2.9 through 0.2.13 measured as 0.",
        ),
        (
            "Is this a port of something else, and if so what?",
            "This code was originally derived directly from C code of the same name",
        ),
    ],
}


def read(dist: str) -> tuple[str | None, str]:
    """The README of installed package `dist` (its METADATA's body), or None and why not."""
    try:
        metadata = importlib.metadata.metadata(dist)
    except importlib.metadata.PackageNotFoundError:
        return None, f"{dist} is not installed"
    text = metadata.get_payload()  # type: ignore[attr-defined]
    if not isinstance(text, str) or not text.strip():
        return None, f"{dist} {metadata['Version']} carries no README"
    return text, ""


def build() -> tuple[list[dict[str, object]], list[str]]:
    """One L-Eval row per README found, and what was left out (a package not installed, a gold it lacks)."""
    return build_rows(DATA, read, SOURCE, "not read")


def main(argv: list[str]) -> int:
    if (code := not_run(argv, "python datasets/readmes/build.py OUT.jsonl", __doc__)) is not None:
        return code
    return write_rows(argv[0], *build(), "READMEs")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
