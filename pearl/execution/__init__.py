"""Plan execution: steps as a DAG, run concurrently, each over the evidence chosen for it."""

from pearl.execution._contexts import (
    ANSWER_SHARE,
    AUTO_SHARE,
    MIN_CALL_TOKENS,
    NOTE_TOKENS,
    OPENING_SHARE,
    SHARED_SHARE,
    CompressedStepContext,
    EvidenceBudget,
    FullDocumentContext,
    evidence_budget,
)
from pearl.execution._executor import (
    IN_PLACE,
    INPUT_TOKENS,
    STEP_SHARES,
    StepOutcome,
    StepStyle,
    cited_ids,
    execute_plan,
)

__all__ = [
    "ANSWER_SHARE",
    "AUTO_SHARE",
    "INPUT_TOKENS",
    "IN_PLACE",
    "MIN_CALL_TOKENS",
    "NOTE_TOKENS",
    "OPENING_SHARE",
    "SHARED_SHARE",
    "STEP_SHARES",
    "CompressedStepContext",
    "EvidenceBudget",
    "FullDocumentContext",
    "StepOutcome",
    "StepStyle",
    "cited_ids",
    "evidence_budget",
    "execute_plan",
]
