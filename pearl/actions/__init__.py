"""The action library: the verbs plans are written in, the seed set, and JSON persistence.

Mining and merging live in `pearl.training`.
"""

from __future__ import annotations

from pearl.actions._library import default_library, load_library, save_library, seed_library
from pearl.actions._models import CTX, Action, ActionLibrary

__all__ = [
    "CTX",
    "Action",
    "ActionLibrary",
    "default_library",
    "load_library",
    "save_library",
    "seed_library",
]
