"""Build a held-out question set from six GNU info manuals (/usr/share/info/NAME.info.gz).

Usage:
    python datasets/infomanuals/build.py OUT.jsonl

The manuals: grep, gzip, bc, ed, wget, rluserman. The questions and golds were written by a helper that never
saw pearl's code, before pearl was measured on them; a question shares about a tenth of its gold's words. The
text is the info file as `info` reads it: decompressed, its node separators (0x1f) removed and its closing tag
table cut, node header lines ("File: grep.info, Node: Usage, Next: ...") kept. (Pearl's rule that a question
or a term on a line of its own heads what it leads was written after this set showed its misses: the set is
held out from every rule before it.)

Each gold is written with single spaces; the document's own text is what is written out, found by a
whitespace-tolerant match, so every gold is verbatim in its document. A manual not installed, or a gold its
text lacks (another release may word it otherwise), is left out and named. The output layout is the one the
other sets' builders write (one L-Eval row a document; `datasets/_rows.py`).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _rows import build_rows, not_run, read_installed, write_rows

SOURCE = "info-manual"

DATA: dict[str, list[tuple[str, str]]] = {
    "/usr/share/info/grep.info.gz": [
        (
            "When grep stops early after a fixed number of hits while reading a regular file on stdin, where is the "
            "read position left?",
            "ensures that the standard input is positioned just after the last selected line before exiting",
        ),
        (
            "If I ask for file names, line numbers and byte positions together, in what order do those prefixes "
            "appear?",
            "the order is always file name, line number, and byte offset",
        ),
        (
            "How can I make the list of matching file names safe to feed to xargs even when names contain newlines?",
            "Output a zero byte (the ASCII NUL character) instead of the character that normally follows a file name",
        ),
        (
            "What happens if I ask for surrounding lines while also printing only the matched parts?",
            "these options have no effect and a warning is given upon their use",
        ),
        (
            "What return codes should my script expect for found, not found, and failure?",
            "the exit status is 0 if a line is selected, 1 if no lines were selected, and 2 if an error occurred",
        ),
        (
            "Why do people wrap one letter in square brackets when filtering the process list for a daemon?",
            "also the ‘ps’ output line for ‘grep’",
        ),
        (
            "My shell script with errexit turned on dies whenever a search finds nothing. Why?",
            "an exit status of 1 is not an error",
        ),
        (
            "Do the old extended and fixed-string command names still work in current GNU releases?",
            "‘egrep’ and ‘fgrep’ issue a warning and then act like their modern counterparts",
        ),
        (
            "Which algorithm is used when searching for a list of several literal strings?",
            "the Aho–Corasick algorithm is used to match multiple fixed patterns",
        ),
        (
            "Which locale setting makes searches fastest?",
            "Setting ‘LC_ALL='C'’ can be particularly efficient, as ‘grep’ is tuned for that locale",
        ),
        (
            "Can I find a pattern that spans a line break?",
            "Standard grep cannot do this, as it is fundamentally line-based.",
        ),
        (
            "If a recursive search runs into a FIFO or a device node, does it read it?",
            "are skipped if they are encountered recursively and the ‘-r’ (‘--recursive’) option is used",
        ),
    ],
    "/usr/share/info/gzip.info.gz": [
        (
            "How much does compression typically shrink English text or program source?",
            "text such as source code or English is reduced by 60–70%",
        ),
        (
            "What is the earliest and latest modification time that can be recorded in a compressed file?",
            "within the range 1970-01-01 00:00:01 through 2106-02-07 06:28:15 UTC",
        ),
        (
            "Can I use gunzip on a zip archive I downloaded?",
            "only if they have a single member compressed with the “deflation” method",
        ),
        (
            "If the data does not compress at all, how much bigger can the output get?",
            "plus 5 bytes per 32 KiB block, or an expansion ratio of 0.015% for large files",
        ),
        (
            "What is the size penalty of making archives friendly to rsync?",
            "the compressed output is usually about one percent larger",
        ),
        ("Why was the old lowercase z suffix replaced?", "This was changed to avoid a conflict with ‘pack’."),
        ("Which speed/ratio level is used if I don't pick one?", "The default compression level is ‘-6’"),
        (
            "When a .gz file holds several concatenated pieces, what do the size and checksum in the listing describe?",
            "the uncompressed size and CRC reported by the ‘--list’ option applies to the last member only",
        ),
        (
            "Can I keep putting my default flags in an environment variable for the long term?",
            "This feature will be removed in a future release",
        ),
        (
            "Why does setting SOURCE_DATE_EPOCH turn off the hardware compression on IBM Z?",
            "because its output may not be reproducible",
        ),
        (
            "Why might I get a warning when decompressing data read back from a tape drive?",
            "detects that there is extra trailing garbage after the compressed data",
        ),
        (
            "Besides the version number, what should a bug report include?",
            "the hardware and operating system, the compiler used to compile ‘gzip’",
        ),
    ],
    "/usr/share/info/bc.info.gz": [
        (
            "Out of the box, how many digits after the decimal point does the calculator keep?",
            "The default value of SCALE is 0.",
        ),
        (
            "What happens if I try to set the input radix to something like 50?",
            "Assigning a value outside this range to IBASE will result in a value of 2 or 36.",
        ),
        (
            "If I write an assignment whose right-hand side is an unparenthesised comparison, what gets stored?",
            'assign the value 3 to the variable "a" and then compare 3 to 5',
        ),
        (
            "Does the quit command take effect even inside an if whose condition is false?",
            "the 'bc' processor is terminated, regardless of where the 'quit' statement is found",
        ),
        (
            "Can a function called from another function see the caller's local variables?",
            "B may access function A's auto variables by just using the same name",
        ),
        (
            "How many decimal places do I get by default when loading the math library?",
            "a math library is preloaded and the default SCALE is set to 20",
        ),
        ("How can a shell script store pi to ten decimals in a variable?", 'pi=$(echo "scale=10; 4*a(1)" | bc -l)'),
        (
            "How many previously typed lines does the line-editing build remember by default?",
            "A value of -1 means that an unlimited number of history lines are retained.",
        ),
        (
            "Other implementations read '1 3' as 13. Does this one?",
            "The same statement would cause a syntax error in this version of 'bc'.",
        ),
        ("What is the largest radix numbers can be printed in?", "The maximum output base is currently set at 999."),
        (
            "How can I have my own function definitions loaded every time I start the calculator?",
            "would typically contain function definitions for functions the user wants defined every time 'bc' is run",
        ),
        (
            "What does Ctrl-C do when the calculator is running a script rather than an interactive session?",
            "During a non-interactive session, the SIGINT signal will terminate the entire run of 'bc'.",
        ),
    ],
    "/usr/share/info/ed.info.gz": [
        (
            "What earlier editor did ed evolve from?",
            "the refinement of its more complex, programmable predecessor, 'QED'",
        ),
        (
            "When prompting is on, what symbol is shown, and why was that one picked?",
            "uses asterisk ('*') as command prompt to avoid confusion with the shell command prompt",
        ),
        (
            "Which option stops a substitution that matches nothing from making the editor return an error code, say "
            "when editing crontabs?",
            'Don\'t exit with bad status if a command happens to "fail"',
        ),
        (
            "If I strip carriage returns from a Windows file on load, are they put back when I save?",
            "The CRs are not restored when saving the buffer to a file.",
        ),
        (
            "Can I step back through several edits with undo?",
            "'u' is its own inverse; it can undo only the last command.",
        ),
        (
            "If my terminal session drops while I'm editing, is my unsaved work lost?",
            "attempts to write the buffer to the file 'ed.hup'",
        ),
        (
            "What makes the editor treat a file as binary?",
            "A binary file is one containing at least one ASCII NUL character.",
        ),
        (
            "I tried to exit with unsaved edits and got an error; what happens if I just repeat the quit?",
            "If the command is entered a second time, it succeeds, but any changes to the buffer are lost.",
        ),
        (
            "What can't the restricted variant do?",
            "can only edit files in the current directory and cannot execute shell commands",
        ),
        (
            "Which publication's algorithm is the GNU implementation built on?",
            "based on the editor algorithm described in Brian W. Kernighan and P. J. Plauger's book",
        ),
        (
            "How many lines does the scroll command show per page if I don't say?",
            "Window size defaults to screen size minus two lines, or to 22 if screen size can't be determined.",
        ),
        (
            "When running an editing script from a file, what happens if one command errors?",
            "if 'ed''s input is from a regular file or here document, then it exits",
        ),
    ],
    "/usr/share/info/wget.info.gz": [
        (
            "If a download keeps failing, how many attempts are made before giving up?",
            "The default is to retry 20 times",
        ),
        (
            "How much jitter is added between requests when I ask it to randomise the pause?",
            "vary between 0.5 and 1.5 * WAIT seconds",
        ),
        (
            "If I set a download cap smaller than the one file I'm fetching, will it stop part-way?",
            "quota will never affect downloading a single file",
        ),
        (
            "Why isn't the server-suggested filename header honoured unless I ask for it?",
            "is known to suffer from a few bugs, which is why it is not currently enabled by default",
        ),
        (
            "Which individual flags does the site-copying shortcut switch on?",
            "It is currently equivalent to ‘-r -N -l inf --no-remove-listing’.",
        ),
        (
            "When several kinds of error happen in one run, which exit code is reported?",
            "the lower-numbered exit codes take precedence over higher-numbered ones",
        ),
        (
            "Why doesn't a recursive download follow links to other servers by default?",
            "without it, every retrieval would have the potential to turn your Wget into a small version of google",
        ),
        (
            "If I start a download in the background and then send it a hangup, where does its output go?",
            "it will be redirected to a file named ‘wget-log’",
        ),
        (
            "How do I make it ignore a site's crawler exclusion rules?",
            "set the ‘robots’ variable to ‘off’ in your ‘.wgetrc’",
        ),
        (
            "Since what release has certificate checking been on out of the box?",
            "As of Wget 1.10, the default is to verify the server’s certificate",
        ),
        (
            "If my personal config file and the global one disagree, which wins?",
            "user’s wgetrc _overrides_ the system-wide wgetrc",
        ),
        (
            "Why does bandwidth throttling seem ineffective on tiny downloads?",
            "it may take some time for this balance to be achieved",
        ),
    ],
    "/usr/share/info/rluserman.info.gz": [
        (
            "My keyboard has no Alt or Meta key. How do I enter Meta shortcuts?",
            "the identical keystroke can be generated by typing <ESC> _first_, and then typing <k>",
        ),
        (
            "Must I move to the end of the line before pressing Enter?",
            "the entire line is accepted regardless of the location of the cursor within the line",
        ),
        (
            "Can text I cut on one command line be pasted while typing a later command?",
            "The kill ring is not line specific",
        ),
        ("How do I tell the delete-character command to remove ten characters at once?", "you could type 'M-1 0 C-d'"),
        (
            "I started a reverse history search but want my original line back. Which key?",
            "'C-g' will abort an incremental search and restore the original line",
        ),
        (
            "If I have no personal key-binding file, where does the library fall back to?",
            "the ultimate default is '/etc/inputrc'",
        ),
        (
            "After editing my key-binding file, how do I apply the changes without restarting the program?",
            "the 'C-x C-r' command re-reads this init file",
        ),
        (
            "How many possible completions must there be before it asks whether I want to see them all?",
            "The default limit is '100'.",
        ),
        (
            "Why would pasting text at the prompt not trigger my key bindings?",
            "it prevents Readline from executing any editing commands bound to key sequences appearing in the pasted "
            "text",
        ),
        (
            "What happens if I give the history length setting a value that isn't a number?",
            "the maximum number of history entries will be set to 500",
        ),
        (
            "Is there a single key to discard every change I've made to the line I'm editing?",
            "Undo all changes made to this line.",
        ),
        (
            "When I start typing a line with vi bindings, am I in command mode or insert mode?",
            "you are already placed in 'insertion' mode, as if you had typed an 'i'",
        ),
    ],
}


def read(path: str) -> tuple[str | None, str]:
    """The manual as `info` reads it (decompressed, node separators out, tag table cut), or None and why not."""
    text, why = read_installed(path)
    if text is None:
        return None, why
    text = text.replace("\x1f", "")
    cut = text.find("\nTag Table:\n")
    return (text[: cut + 1] if cut >= 0 else text), ""


def build() -> tuple[list[dict[str, object]], list[str]]:
    """One L-Eval row per manual found, and what was left out (a manual not installed, a gold it lacks)."""
    return build_rows(DATA, read, SOURCE, "not read")


def main(argv: list[str]) -> int:
    if (code := not_run(argv, "python datasets/infomanuals/build.py OUT.jsonl", __doc__)) is not None:
        return code
    return write_rows(argv[0], *build(), "documents")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
