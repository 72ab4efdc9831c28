"""Build the web-pages question set: eight pages of Python's HTML documentation, 96 questions, most in other words.

Usage:
    python datasets/pydocs/build.py OUT.jsonl [DOCS_DIR]
    python benchmarks/evidence_reach.py OUT.jsonl [--dense auto|on|off]
    python benchmarks/context_recall.py OUT.jsonl [--dense]

The pages are not in this repository: they are read, as saved, markup and all, from the HTML
documentation of Python 3.11 that Debian's python3.11-doc installs in DOCS_DIR
(/usr/share/doc/python3.11/html by default; `apt-get install -y python3.11-doc`): the sorting,
Unicode and logging HOWTOs, the tutorial's errors and classes chapters, the venv and dataclasses
library pages, and the programming FAQ (2k to 14k words as a browser shows them; Sphinx pages with
navigation bars, a sidebar, code in highlighted spans, links whose titles hold colons and full
stops). The questions and gold answers are below, 12 a page, written by a helper that never saw
pearl's code, as a reader of the page would ask; by the helper's count 93 of 96 share at most a
quarter of their content words with the answer, and the answers spread over each page, in its prose (no code, no heading). Each
gold was checked on Debian 12's python3.11-doc 3.11.2: found once in its page, in no tag and with
no character reference; another release words some of them otherwise, and a question whose gold
its page does not hold is left out, named, rather than the set refused.

Each gold is written with single spaces; the page's own text is what is written out, found by a
whitespace-tolerant match. pearl chose no setting with this set; one change to how markup is cut
into sentence units (lengths counted without tags) was made after reading one of these pages'
units, before any question was measured.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _rows import build_rows, not_run, read_page, write_rows

DOCS = Path("/usr/share/doc/python3.11/html")

# (question, gold written with single spaces), per page path under DOCS
DATA: dict[str, list[tuple[str, str]]] = {
    "howto/sorting.html": [
        (
            "Why might I prefer list.sort() over sorted() when I no longer need the unsorted data?",
            "if you don’t need the original list, it’s slightly more efficient",
        ),
        (
            "Why does passing a transformation callable keep sorting performance good?",
            "the key function is called exactly once for each input record",
        ),
        (
            "What do the itemgetter and attrgetter helpers offer when records must be ordered by several criteria at once?",
            "The operator module functions allow multiple levels of sorting.",
        ),
        (
            "What happens to the relative position of entries that tie on the sort key?",
            "That means that when multiple records have the same key, their original order is preserved",
        ),
        (
            "Why is running a sequence of sort passes cheap with Timsort?",
            "it can take advantage of any ordering already present in a dataset",
        ),
        (
            "In the DSU pattern, what happens in the opening stage?",
            "First, the initial list is decorated with new values that control the sort order.",
        ),
        (
            "How does Python decide the order of two decorated tuples?",
            "tuples are compared lexicographically; the first items are compared; if they are the same then the second items are compared",
        ),
        (
            "Who is the alternative name of the decorate-sort-undecorate technique credited to?",
            "after Randal L. Schwartz, who popularized it among Perl programmers",
        ),
        (
            "Instead of returning an absolute value, what does a cmp-style callable calculate?",
            "a comparison function computes the relative ordering for two inputs",
        ),
        (
            "How do I adapt an old-style two-argument cmp callable so sorted() accepts it?",
            "to wrap the comparison function to make it usable as a key function",
        ),
        (
            "Why does plain string ordering fail for users in different countries?",
            "“alphabetical” sort orderings can vary across cultures even if the underlying alphabet is the same",
        ),
        (
            "What else can a key function use besides the items being sorted?",
            "A key function can also access external resources.",
        ),
    ],
    "tutorial/errors.html": [
        (
            "What's another name for the kind of mistake the parser reports when code is malformed?",
            "Syntax errors, also known as parsing errors, are perhaps the most common kind of complaint",
        ),
        (
            "How does the interpreter indicate the location of a grammar mistake in a line of code?",
            "displays a little ‘arrow’ pointing at the earliest point in the line where the error was detected",
        ),
        (
            "When a handler matches, where does the program resume after running it?",
            "is executed, and then execution continues after the try/except block.",
        ),
        ("If a try has several except branches, how many of them can run?", "At most one handler will be executed."),
        (
            "What's the recommended approach regarding how broad my except clauses are?",
            "it is good practice to be as specific as possible with the types of exceptions that we intend to handle",
        ),
        (
            "When catching a general Exception, what is the usual thing to do with it?",
            "print or log the exception and then re-raise it",
        ),
        (
            "What's the benefit of putting follow-up code in an else block rather than inside the try block?",
            "it avoids accidentally catching an exception that wasn’t raised by the code being protected",
        ),
        (
            "What kinds of objects are acceptable as the operand of raise?",
            "This must be either an exception instance or an exception class",
        ),
        (
            "What happens when a new error occurs while another one is being dealt with?",
            "it will have the exception being handled attached to it and included in the error message",
        ),
        (
            "What suffix do custom error types conventionally get?",
            "Most exceptions are defined with names that end in “Error”, similar to the naming of the standard exceptions.",
        ),
        (
            "In practical applications, what is the finally block good for?",
            "useful for releasing external resources (such as files or network connections)",
        ),
        (
            "Where do annotations attached with add_note appear when the error is printed?",
            "The standard traceback rendering includes all notes, in the order they were added, after the exception.",
        ),
    ],
    "library/venv.html": [
        (
            "What does a venv depend on underneath?",
            "created on top of an existing Python installation, known as the virtual environment’s “base” Python",
        ),
        (
            "What happens when I run pip inside an activated environment?",
            "will install Python packages into a virtual environment without needing to be told to do so explicitly",
        ),
        (
            "What happens if I point venv at a directory that already exists?",
            "If an existing directory is specified, it will be re-used.",
        ),
        (
            "What goes wrong with linked interpreter binaries on Windows when launching python.exe from the file browser?",
            "in File Explorer will resolve the symlink eagerly and ignore the virtual environment",
        ),
        (
            "What must I change on Windows before the PowerShell activation script will run?",
            "script by setting the execution policy for the user",
        ),
        (
            "If I pass more than one directory to the venv command, what results?",
            "an identical virtual environment will be created, according to the given options, at each provided path",
        ),
        (
            "How can I use a venv's interpreter without activating it first?",
            "you can just specify the full path to that environment’s Python interpreter when invoking Python",
        ),
        (
            "How do scripts installed in a venv know which Python to run?",
            "have a “shebang” line which points to the environment’s Python interpreter",
        ),
        (
            "Why can't I rely on the VIRTUAL_ENV variable to detect a venv?",
            "Since explicitly activating a virtual environment is not required to use it,",
        ),
        (
            "What should I do if I need to move my virtual environment somewhere else?",
            "you should recreate it at the desired location and delete the one at the old location",
        ),
        (
            "What does the system_site_packages argument of EnvBuilder mean?",
            "a Boolean value indicating that the system Python site-packages should be available to the environment",
        ),
        (
            "What is the post_setup() hook of EnvBuilder meant for?",
            "can be overridden in third party implementations to pre-install packages in the virtual environment",
        ),
    ],
    "howto/unicode.html": [
        (
            "What is the goal of the Unicode standard?",
            "a specification that aims to list every character used by human languages and give each character its own unique code",
        ),
        (
            "How large can the integer identifying a character get?",
            "A code point value is an integer in the range 0 to 0x10FFFF",
        ),
        (
            "Whose job is it to draw a character's visual shape on screen?",
            "figuring out the correct glyph to display is generally the job of a GUI toolkit or a terminal’s font renderer",
        ),
        (
            "Which text encoding does Python usually pick by default?",
            "UTF-8 is one of the most commonly used encodings, and Python often defaults to using it.",
        ),
        (
            "What's one drawback of storing each code point as a four-byte integer?",
            "It’s not portable; different processors order the bytes differently.",
        ),
        (
            "How much space does typical text take in UTF-8?",
            "the majority of commonly used characters can be represented with one or two bytes",
        ),
        (
            "What does the 'ignore' error handler do when decoding bad bytes?",
            "just leave the character out of the Unicode result",
        ),
        (
            "How can I tell Python my .py module is written in Latin-1?",
            "including a special comment as either the first or second line of the source file",
        ),
        (
            "How does case-insensitive comparison treat the German sharp s?",
            "which becomes the pair of lowercase letters ‘ss’",
        ),
        (
            "What makes reading an encoded file in fixed-size blocks tricky?",
            "one Unicode character can be represented by several bytes",
        ),
        (
            "How can I read UTF-8 files that begin with a BOM?",
            "use the ‘utf-8-sig’ codec to automatically skip the mark if present",
        ),
        (
            "What's the key piece of advice for writing programs that handle text correctly?",
            "Software should only work with Unicode strings internally, decoding the input data as soon as possible and encoding the output only at the end.",
        ),
    ],
    "library/dataclasses.html": [
        (
            "What object do I get back after applying @dataclass?",
            "The decorator returns the same class that it is called on; no new class is created.",
        ),
        (
            "How is the sequence of parameters in the generated __init__ determined?",
            "The order of the fields in all of the generated methods is the order in which they appear in the class definition.",
        ),
        (
            "How does equality testing between two dataclass objects work?",
            "This method compares the class as if it were a tuple of its fields, in order.",
        ),
        (
            "What happens if I try to change an attribute of a frozen dataclass?",
            "assigning to fields will generate an exception",
        ),
        (
            "Why does my dataclass fail when a required attribute comes after one that has an initial value?",
            "will be raised if a field without a default value follows a field with a default value",
        ),
        (
            "What must default_factory be, e.g. to give each instance a fresh empty list?",
            "it must be a zero-argument callable that will be called when a default value is needed for this field",
        ),
        (
            "What is the metadata parameter of field() for?",
            "It is not used at all by Data Classes, and is provided as a third-party extension mechanism.",
        ),
        ("What happens to fields with init=False when I use replace()?", "They are not copied from the source object"),
        (
            "What is __post_init__ useful for?",
            "this allows for initializing field values that depend on one or more other fields",
        ),
        (
            "How are attributes annotated with ClassVar treated?",
            "it is excluded from consideration as a field and is ignored by the dataclass mechanisms",
        ),
        (
            "If a subclass redefines a field from its parent dataclass, which definition wins?",
            "Because the fields are in insertion order, derived classes override base classes.",
        ),
        (
            "How does the library decide whether a default value is likely to be shared and mutable?",
            "The assumption is that if a value is unhashable, it is mutable.",
        ),
    ],
    "tutorial/classes.html": [
        (
            "Which other languages inspired Python's OOP design?",
            "It is a mixture of the class mechanisms found in C++ and Modula-3.",
        ),
        (
            "Why doesn't handing a large list to a function cost much?",
            "passing an object is cheap since only a pointer is passed by the implementation",
        ),
        (
            "When does a function call's local name table go away?",
            "deleted when the function returns or raises an exception that is not handled within the function",
        ),
        (
            "Where does Python look for a name after checking local, enclosing and global scopes?",
            "the outermost scope (searched last) is the namespace containing built-in names",
        ),
        (
            "Why can I call obj.f() without passing anything even though f was defined with a parameter?",
            "the instance object is passed as the first argument of the function",
        ),
        (
            "What should I store per object versus on the type itself?",
            "instance variables are for data unique to each instance and class variables are for attributes and methods shared by all instances",
        ),
        (
            "What mechanism stops outside code from touching an object's internals?",
            "nothing in Python makes it possible to enforce data hiding — it is all based upon convention",
        ),
        (
            "How does attribute resolution work for subclasses?",
            "if a requested attribute is not found in the class, the search proceeds to look in the base class",
        ),
        (
            "In simple multiple inheritance, in what order are parent classes searched for an attribute?",
            "depth-first, left-to-right, not searching twice in the same class where there is an overlap in the hierarchy",
        ),
        (
            "Why does Python rewrite double-underscore names?",
            "Name mangling is helpful for letting subclasses override methods without breaking intraclass method calls.",
        ),
        (
            "What makes generators easier to write than iterator classes?",
            "the local variables and execution state are automatically saved between calls",
        ),
        (
            "How do generator expressions compare with list comprehensions and full generators?",
            "more compact but less versatile than full generator definitions and tend to be more memory friendly than equivalent list comprehensions",
        ),
    ],
    "howto/logging.html": [
        (
            "With default settings, which log messages actually get recorded?",
            "which means that only events of this level and above will be tracked",
        ),
        (
            "What's the easiest way to deal with recorded events?",
            "The simplest way of handling tracked events is to print them to the console.",
        ),
        (
            "What happens if basicConfig() is invoked more than once?",
            "only the first call will actually do anything: subsequent calls are effectively no-ops",
        ),
        (
            "What's the effect of opening the log in write mode instead of append?",
            "the log file is no longer appended to, so the messages from earlier runs are lost",
        ),
        (
            "Why does logging still use old percent-style string interpolation?",
            "This is for backwards compatibility: the logging package pre-dates newer formatting options",
        ),
        (
            "What does calling setLevel() on a Logger object decide?",
            "specifies the lowest-severity log message a logger will handle",
        ),
        ("How does Logger.exception() differ from Logger.error()?", "dumps a stack trace along with it"),
        (
            "What severity threshold applies to a logger that hasn't been given one?",
            "If a level is not explicitly set on a logger, the level of its parent is used instead as its effective level.",
        ),
        (
            "Why might someone prefer an external .conf file to set up their loggers over doing it programmatically?",
            "mainly separation of configuration and code and the ability of noncoders to easily modify the logging properties",
        ),
        (
            "Which way of setting up logging should new projects use?",
            "is the recommended configuration method for new applications and deployments",
        ),
        (
            "How can a library author stop its log messages from being printed when the app hasn't configured logging?",
            "attach a do-nothing handler to the top-level logger for your library",
        ),
        (
            "What happens if something goes wrong inside the logging machinery itself, e.g. a misconfigured handler?",
            "The logging package is designed to swallow exceptions which occur while logging in production.",
        ),
    ],
    "faq/programming.html": [
        (
            "What text-based debugging tool ships with Python?",
            "The pdb module is a simple but adequate console-mode debugger for Python.",
        ),
        (
            "Why do I get UnboundLocalError after adding an assignment inside a function?",
            "that variable becomes local to that scope and shadows any similarly named variable in the outer scope",
        ),
        (
            "Why does a function's list argument default keep growing across calls?",
            "Default values are created exactly once, when the function is defined.",
        ),
        (
            "How can code find out what variable an object is bound to?",
            "Generally speaking, it can’t, because objects don’t really have names.",
        ),
        ("Why does -22 // 10 give -3 rather than -2?", "then integer division has to return the floor"),
        (
            "Why shouldn't I use eval() to turn strings into numbers?",
            "will be significantly slower and it presents a security risk",
        ),
        (
            "What gives the biggest performance gains when optimizing Python code?",
            "Making your algorithms faster (or changing to faster ones) can yield much larger benefits than trying to sprinkle micro-optimization tricks all over your code.",
        ),
        (
            "Why is building a long string with repeated + slow?",
            "concatenating many strings together is inefficient as each concatenation creates a new object",
        ),
        (
            "What goes wrong when I build a 2D grid by multiplying a list of lists?",
            "Changes to one row will show in all rows, which is almost certainly not what you want.",
        ),
        (
            "How can I have multiple constructors with different signatures like in C++?",
            "In Python you have to write a single constructor that catches all cases using default arguments.",
        ),
        (
            "Why do two id() calls on temporary objects sometimes return the same number?",
            "after an object is deleted from memory, the next freshly created object is allocated at the same position in memory",
        ),
        (
            "Why don't my edits to a module appear when I import it again?",
            "Python only reads the module file on the first time a module is imported",
        ),
    ],
}


def build(docs: Path = DOCS) -> tuple[list[dict[str, object]], list[str]]:
    """One L-Eval row per page found, and what was left out (a page not installed, a gold its page lacks)."""
    return build_rows(DATA, lambda page: read_page(docs, page), "pydocs", "not read")


def main(argv: list[str]) -> int:
    if (code := not_run(argv, "python datasets/pydocs/build.py OUT.jsonl [DOCS_DIR]", __doc__, (1, 2))) is not None:
        return code
    docs = Path(argv[1]) if len(argv) == 2 else DOCS
    if not docs.is_dir():
        print(f"no {docs}: install python3.11-doc (apt-get install -y python3.11-doc)", file=sys.stderr)
        return 2
    return write_rows(argv[0], *build(docs), "pages")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
