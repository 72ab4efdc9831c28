"""The action library: the verbs plans are written in, the seed set, JSON persistence, mining and merging."""

from __future__ import annotations

from pearl.actions._library import default_library, load_library, save_library, seed_library
from pearl.actions._merge import (
    MergeReplyError,
    MergeReport,
    MergeRound,
    merge_gbnf,
    merge_json_schema,
    normalize_name,
    parse_merge_reply,
)
from pearl.actions._mine import (
    DEFAULT_MAX_ACTIONS,
    MiningProgress,
    MiningResult,
    mine_actions,
    mine_document,
    progress_path,
    read_questions,
)
from pearl.actions._models import CTX, Action, ActionLibrary
from pearl.actions._proposals import (
    Proposal,
    ProposalError,
    ProposedAction,
    parse_proposal,
    parse_proposal_json,
    proposal_gbnf,
    proposal_json_schema,
)

__all__ = [
    "CTX",
    "DEFAULT_MAX_ACTIONS",
    "Action",
    "ActionLibrary",
    "MergeReplyError",
    "MergeReport",
    "MergeRound",
    "MiningProgress",
    "MiningResult",
    "Proposal",
    "ProposalError",
    "ProposedAction",
    "default_library",
    "load_library",
    "merge_gbnf",
    "merge_json_schema",
    "mine_actions",
    "mine_document",
    "normalize_name",
    "parse_merge_reply",
    "parse_proposal",
    "parse_proposal_json",
    "progress_path",
    "proposal_gbnf",
    "proposal_json_schema",
    "read_questions",
    "save_library",
    "seed_library",
]
