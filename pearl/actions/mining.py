"""Action mining and merging: proposals per question, their strict format, normalisation, merging to a cap.

>>> result = await mine_actions(llm, read_questions("train.jsonl"), max_actions=80)
>>> save_library(result.library, "mined.json")
"""

from __future__ import annotations

from pearl.actions._fake import mining_fake_llm, mining_fake_reply
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
    "DEFAULT_MAX_ACTIONS",
    "MergeReplyError",
    "MergeReport",
    "MergeRound",
    "MiningProgress",
    "MiningResult",
    "Proposal",
    "ProposalError",
    "ProposedAction",
    "merge_gbnf",
    "merge_json_schema",
    "mine_actions",
    "mine_document",
    "mining_fake_llm",
    "mining_fake_reply",
    "normalize_name",
    "parse_merge_reply",
    "parse_proposal",
    "parse_proposal_json",
    "progress_path",
    "proposal_gbnf",
    "proposal_json_schema",
    "read_questions",
]
