"""Plan execution: steps as a DAG, run concurrently, each over the context chosen for it."""

from pearl.execution._contexts import CompressedStepContext, FullDocumentContext
from pearl.execution._executor import StepOutcome, cited_ids, execute_plan

__all__ = [
    "CompressedStepContext",
    "FullDocumentContext",
    "StepOutcome",
    "cited_ids",
    "execute_plan",
]
