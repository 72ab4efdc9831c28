"""Plans: the plan language (parser and validator), its models, constrained output, generation, demonstrations."""

from __future__ import annotations

from pearl.planning._demos import (
    Demo,
    DemoStore,
    builtin_demos,
    check_demos,
    demos_fingerprint,
    load_demos,
    runnable_demos,
    save_demos,
    seed_demos,
    select_demos,
)
from pearl.planning._generate import (
    PlanAttempt,
    PlanResult,
    choose_actions,
    generate_plan,
    plan_constraints,
    plan_rules,
    plan_window_problem,
    read_plan_reply,
    rejected_text,
    render_demos,
    renumber,
)
from pearl.planning._grammar import plan_from_json, plan_gbnf, plan_json_schema, plan_to_json
from pearl.planning._kinds import DocumentKind, document_kind
from pearl.planning._models import Arg, ArgKind, Plan, Step
from pearl.planning._parser import DEFAULT_MAX_CHARS, DEFAULT_MAX_LINE_CHARS, parse_plan
from pearl.planning._validate import ANSWER, DEFAULT_MAX_STEPS, DEFAULT_MAX_STRING_CHARS, validate_plan

__all__ = [
    "ANSWER",
    "DEFAULT_MAX_CHARS",
    "DEFAULT_MAX_LINE_CHARS",
    "DEFAULT_MAX_STEPS",
    "DEFAULT_MAX_STRING_CHARS",
    "Arg",
    "ArgKind",
    "Demo",
    "DemoStore",
    "DocumentKind",
    "Plan",
    "PlanAttempt",
    "PlanResult",
    "Step",
    "builtin_demos",
    "check_demos",
    "choose_actions",
    "demos_fingerprint",
    "document_kind",
    "generate_plan",
    "load_demos",
    "parse_plan",
    "plan_constraints",
    "plan_from_json",
    "plan_gbnf",
    "plan_json_schema",
    "plan_rules",
    "plan_to_json",
    "plan_window_problem",
    "read_plan_reply",
    "rejected_text",
    "render_demos",
    "renumber",
    "runnable_demos",
    "save_demos",
    "seed_demos",
    "select_demos",
    "validate_plan",
]
