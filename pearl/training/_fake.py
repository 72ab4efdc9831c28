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
    eleven malformed), and merges that group actions by their last word: a group is kept as its first
    member, rewritten into a broader `LOOK_FOR_<TOPIC>` action, or given a rewrite that does not check out
    (a variadic signature), by turns, so every path of the merge is taken."""
    text = request.messages[-1].content
    kind = (request.prompt or "").split(".")[0]
    if kind == "merge":
        signatures = dict(re.findall(r"^([A-Z][A-Z0-9_]*)\(([^)]*)\)", text, re.MULTILINE))
        by_topic: dict[str, list[str]] = {}
        for name in signatures:
            by_topic.setdefault(name.split("_")[-1].rstrip("S"), []).append(name)
        lines = []
        for topic, group in by_topic.items():
            if not 1 < len(group) <= 10:
                continue
            members = ", ".join(group)
            turn = int(hashlib.sha256(topic.encode()).hexdigest(), 16) % 3
            params = max((signatures[n] for n in group), key=len)
            if turn == 0:
                lines.append(f"MERGE: {members} -> {group[0]}")
            elif turn == 1:
                definition = f"Find whatever the document says about the {topic.lower()} of X, however it is asked."
                lines.append(f"MERGE: {members} -> LOOK_FOR_{topic}({params}) : {definition}")
            else:
                lines.append(f"MERGE: {members} -> LOOK_FOR_{topic}({params}, ...) : Any {topic.lower()} at all.")
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
