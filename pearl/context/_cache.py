"""On-disk cache of indexes, keyed by content hash, NER mode and pipeline version.

One JSON file per index under `data_dir() / "index"`. Writes go to a temporary file in the
same folder and are renamed into place, so a reader never sees half a file and two
processes indexing the same document at once both succeed. A file that cannot be read or
parsed is treated as absent: the index is rebuilt and the file replaced.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import re
from pathlib import Path

from pydantic import ValidationError

from pearl._files import atomic_write_bytes
from pearl._paths import data_dir, in_read_only_home
from pearl.context._models import DocumentIndex

__all__ = ["PIPELINE_VERSION", "cache_path", "load_cached", "save_cached"]

# Bump when segmentation, entity extraction or the index layout changes: old files are ignored.
PIPELINE_VERSION = 74  # 74: an initialism, "p.m." or "Feb." ends its sentence before a word that opens one ("the
# U.S. He"), "sat", "sun" or "no" before any capital ("He sat. Birds sang."); an initialism
# is a name though its letters spell a stop word ("U.S."); "St." stays in a name ("St. Louis" was "Louis"); in a
# transcript, a speaker's name heads the turn ("Tom Becker: Sure." was a title); a list item's first word opens its
# sentence ("1. Add the rice", no name), and "Fig." is no name; no name read across the short lines of a signature
# 73: an info manual's line of links is page furniture, and an answer's "Yes." under its
# FAQ question is no title; a Markdown list of links to the headings is a table of contents (72: a first version)
# 71: a FAQ's numbered question or a term on a line of its own heads the paragraphs it
# leads, and a common word opening a line after a label is no part of a name ("Force Wget")
# 70: a Markdown heading line only after a finished sentence or a heading; a table row only
# beside another, and it ends its unit
# 69: "ext." and "tel." end no sentence ("Call ext. 204")
# 68: a line opening with "+ " is a list item, as "- " is (Markdown's third mark)
# 67: a Markdown heading line is a paragraph of its own; a table row's cells end no sentence
# 66: the run of named labels knows every part's name the labels do ("Title 2.", "§ 3.")
# 65: a run of named labels is one where no line of it goes on from the line before it
# ("Installation\nStep 1. ..." is one; "as provided in\nSection 5." is none)
# 64: a run of named labels ("Step 1. ...\nStep 2. ...") is one only after a line that ended,
# each line a unit; "- 1." opens an item (HTML's ordered lists)
# 63: a list item's number stays with it in wrapped text; CJK stops after a line of English;
# links, addresses and backquotes are in no name; a no-break space joins a name; numbered items in a row no headings;
# a closing quote set apart ends a sentence ("over . '' The"); a saved page's navigation is page furniture
# 62: 61's rules narrowed (helper-185): before a sentence's opening word only, a label that
# stands once, only a page's number set aside, "Jan" a name outside a date
# 61: "Schedule A." and "etc. The" end sentences; a manual page's section labels are units; "Confidential - Page 3" is
# page furniture; code blocks name no entities
# 60: a page's text is never read as markup; 59: each file of several is read alone
# 56: Korean sentences end at ". "; 55: a passage copied three times is no page furniture
# 54: a symbol alone is also its name
# 53: "2.1 Data collection" is a heading
# 52: a two-column list's entry is headed by its label
# 51, 50: a chat log's messages and a subtitle's cues are units; 49: "am 31. Dezember" ends none

_log = logging.getLogger("pearl.context")


def cache_path(content_hash: str, mode: str) -> Path:
    """Where the index of a text with `content_hash`, built in `mode` ("ner" or "rules"), lives."""
    return data_dir() / "index" / f"{content_hash}.{mode}.v{PIPELINE_VERSION}.json"


def load_cached(content_hash: str, mode: str) -> DocumentIndex | None:
    """The cached index, or None if there is none or it is unreadable (it will be rebuilt)."""
    path = cache_path(content_hash, mode)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        _log.warning("ignoring unreadable index cache %s: %s", path, exc)
        return None
    try:
        index = DocumentIndex.model_validate_json(data)
    except (ValidationError, ValueError) as exc:
        _log.warning("ignoring corrupt index cache %s (%s); rebuilding it", path, exc.__class__.__name__)
        return None
    if index.content_hash != content_hash or index.version != PIPELINE_VERSION:
        return None
    problem = _inconsistent(index)
    if problem:  # it parses, but its parts do not fit together (a file edited, or half-written by another tool)
        _log.warning("ignoring corrupt index cache %s (%s); rebuilding it", path, problem)
        return None
    index.from_cache = True
    with contextlib.suppress(OSError):  # used now: the last file the cache gives up past its size (`_prune`)
        os.utime(path)
    return index


def _inconsistent(index: DocumentIndex) -> str | None:
    """What does not fit together in an index read from disk, if anything: per-sentence and per-mention lists of
    other lengths, ids and offsets out of range (a cache cut short gave a traceback far from the cause)."""
    sentences, mentions = len(index.sent_starts), len(index.mention_entity)
    per_sentence = ("sent_ends", "sent_tokens", "sent_para", "sent_heading", "sent_section", "sent_flags")
    lengths = {name: sentences for name in per_sentence}
    lengths |= {"mention_sentence": mentions, "mention_start": mentions, "mention_end": mentions}
    lengths["para_ends"] = len(index.para_starts)
    for name, wanted in lengths.items():
        if len(getattr(index, name)) != wanted:
            return f"{name} has {len(getattr(index, name)):,} entries, not {wanted:,}"
    size = len(index.text)
    ranges = {
        "sent_starts": (0, size),
        "sent_ends": (0, size),
        "para_starts": (0, size),
        "para_ends": (0, size),
        "mention_start": (0, size),
        "mention_end": (0, size),
        "sent_para": (0, len(index.para_starts) - 1),
        "sent_heading": (-1, sentences - 1),
        "sent_section": (-1, sentences - 1),
        "mention_sentence": (0, sentences - 1),
        "mention_entity": (0, len(index.entities) - 1),
    }
    for name, (low, high) in ranges.items():
        values = getattr(index, name)
        if values and not low <= min(values) <= max(values) <= high:
            return f"{name} out of range"
    if any(not 0 <= entity.first_sentence < max(sentences, 1) for entity in index.entities):
        return "an entity's first sentence out of range"
    return None


def save_cached(index: DocumentIndex, mode: str) -> Path | None:
    """Write `index` atomically; returns the path, or None if the cache folder is not writable. Then keep the folder
    within bounds (`_prune`)."""
    path = cache_path(index.content_hash, mode)
    try:
        atomic_write_bytes(path, index.model_dump_json().encode("utf-8"), sync=False)
    except OSError as exc:
        # A cache that cannot be written costs time, not correctness.
        (_log.debug if in_read_only_home(path) else _log.warning)("could not write index cache %s: %s", path, exc)
        return None
    if next(_WRITES) % _PRUNE_EVERY == 0:  # the first write, then every so many: a look costs a scan
        _prune(path.parent, keep=path)
    return path


_WRITES = itertools.count()
_PRUNE_EVERY = 50
"""The index cache's folder is pruned at a process's first write, then at every 50th: it is read whole to prune, a
fifth of a second with 20,000 files, and an evaluation of many documents scanned it at each (helper-218)."""


MAX_CACHE_BYTES = 2 * 1024**3
"""The most the index cache keeps (its files of this pipeline version), the least recently used going first."""
_VERSIONED = re.compile(r"\.(?:ner|rules)\.v(\d+)\.json$")


def _prune(folder: Path, keep: Path, limit: int = MAX_CACHE_BYTES) -> None:
    """Remove the index files no version from this one on reads (an older pipeline version's), then, past `limit`
    bytes, the least recently used of the rest (`keep`, just written, stays). The folder grew for ever: every version
    left its files behind, and every edit of a growing document a whole copy (helper-216: 401 MB in one session).
    A file another process is using, or one that cannot be removed, is left; nothing here fails a call."""
    current: list[tuple[float, int, Path]] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        found = _VERSIONED.search(entry.name)
        if found is None:
            continue
        try:
            if int(found.group(1)) < PIPELINE_VERSION:
                os.remove(entry.path)
            elif int(found.group(1)) == PIPELINE_VERSION and entry.path != str(keep):
                stat = entry.stat()
                current.append((stat.st_mtime, stat.st_size, Path(entry.path)))
        except OSError:
            continue
    total = sum(size for _, size, _ in current) + (keep.stat().st_size if keep.exists() else 0)
    for _, size, path in sorted(current):  # least recently used first (`load_cached` marks a file used)
        if total <= limit:
            break
        with contextlib.suppress(OSError):
            path.unlink()
            total -= size
