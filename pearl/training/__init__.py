"""Training: what pearl learns from data before it answers. It sits above `Pearl` and `pearl.eval`.

- Action mining and merging: proposals per question, their strict format, normalisation,
  merging to a cap, where a group may be rewritten into one broader action
  (`mine_actions`, `mine_document`).
- Self-refinement: run the pipeline on training questions and keep the plans that reached
  the gold answer as demonstrations, revising wrong ones without showing the gold answer
  (`refine_demos`, `compare_planning`).

>>> result = await mine_actions(llm, read_questions("train.jsonl"), max_actions=80)
>>> save_library(result.library, "mined.json")
"""

from __future__ import annotations

from pearl.training._fake import mining_fake_llm, mining_fake_reply
from pearl.training._merge import (
    MergeGroup,
    MergeReport,
    MergeRound,
    merge_gbnf,
    merge_json_schema,
    normalize_name,
    parse_merge_reply,
)
from pearl.training._mine import (
    DEFAULT_MAX_ACTIONS,
    MiningResult,
    mine_actions,
    mine_document,
)
from pearl.training._progress import progress_path
from pearl.training._proposals import (
    Proposal,
    ProposedAction,
    parse_proposal,
    parse_proposal_json,
    proposal_gbnf,
    proposal_json_schema,
)
from pearl.training._refine import (
    PlanningStats,
    RefineRecord,
    RefineResult,
    compare_planning,
    gold_in_arguments,
    refine_demos,
    split_holdout,
)

__all__ = [
    "DEFAULT_MAX_ACTIONS",
    "MergeGroup",
    "MergeReport",
    "MergeRound",
    "MiningResult",
    "PlanningStats",
    "Proposal",
    "ProposedAction",
    "RefineRecord",
    "RefineResult",
    "compare_planning",
    "gold_in_arguments",
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
    "refine_demos",
    "split_holdout",
]
