"""The action library: the verbs plans are written in, the seed set, and persistence (JSON or the paper's list).

Mining and merging live in `pearl.training`.
"""

from __future__ import annotations

from pearl.actions._library import (
    LibraryFormat,
    default_library,
    holds_demos,
    load_library,
    save_library,
    seed_library,
)
from pearl.actions._models import CTX, Action, ActionLibrary
from pearl.actions._paper import LOCAL_ACTIONS, parse_action_list, render_action_list

__all__ = [
    "CTX",
    "LOCAL_ACTIONS",
    "Action",
    "ActionLibrary",
    "LibraryFormat",
    "default_library",
    "holds_demos",
    "load_library",
    "parse_action_list",
    "render_action_list",
    "save_library",
    "seed_library",
]
