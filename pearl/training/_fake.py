"""A scripted model for mining: what a real one proposes, overlapping and sometimes malformed, instantly.

Used by the tests and `benchmarks/mine.py` to exercise normalisation and merging without a model.
"""

from __future__ import annotations

import hashlib
import re

from pearl.llm import CompletionRequest, FakeLLM

__all__ = ["mining_fake_llm", "mining_fake_reply"]


def mining_fake_reply(request: CompletionRequest) -> str:
    """Overlapping proposals keyed on the question (synonyms, articles, plurals, other arities; about one in
    eleven malformed), and merges that group actions by their last word."""
    text = request.messages[-1].content
    kind = (request.prompt or "").split(".")[0]
    if kind == "merge":
        names = re.findall(r"^([A-Z][A-Z0-9_]*)\(", text, re.MULTILINE)
        by_topic: dict[str, list[str]] = {}
        for name in names:
            by_topic.setdefault(name.split("_")[-1].rstrip("S"), []).append(name)
        lines = [f"MERGE: {', '.join(g)} -> {g[0]}" for g in by_topic.values() if 1 < len(g) <= 10]
        return "\n".join(lines) or "NONE"
    question = text.rsplit("Question:", 1)[1].split("\n")[0].strip()
    h = int(hashlib.sha256(question.encode()).hexdigest(), 16)
    if h % 11 == 0:
        return "I would use FIND_X and maybe something new."
    verbs = ["FIND", "IDENTIFY", "DETERMINE", "GET_THE"]
    topics = ["REASON", "MOTIVE", "CAUSE", "CHARACTER", "PLACE", "EVENT", "DETAIL", "ELEMENT", "FEELING", "CHANGE"]
    lines = ["USE: FIND_X, FIND_REASON" if question.lower().startswith("why") else "USE: FIND_X"]
    for k in range(3):
        verb, topic = verbs[(h >> k) % 4], topics[(h >> (k + 4)) % len(topics)]
        plural = "S" if (h >> (k + 9)) % 4 == 0 else ""
        params = "CTX, X" if (h >> (k + 12)) % 5 else "CTX, X, Y"
        lines.append(f"NEW: {verb}_{topic}{plural}({params}) : {verb.title()} the {topic.lower()} of X.")
    return "\n".join(lines)


def mining_fake_llm(*, supports_grammar: bool = False) -> FakeLLM:
    """A `FakeLLM` answering mining and merge prompts with `mining_fake_reply`."""
    return FakeLLM(default=mining_fake_reply, supports_grammar=supports_grammar)
