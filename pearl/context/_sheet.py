"""The entity sheet: the document's main entities in a few lines, for a planning prompt."""

from __future__ import annotations

from pearl._text import one_line
from pearl.context._graph import relations
from pearl.context._models import DocumentIndex, Entity, check_index
from pearl.tokens import count_tokens

__all__ = ["entity_sheet", "rank_entities"]

# Labels in the order a planner cares about them: who and what before when and how much.
_LABEL_WEIGHT = {
    "PERSON": 1.0, "ORG": 1.0, "NAME": 0.9, "GPE": 0.8, "LOC": 0.8, "NORP": 0.7, "FAC": 0.7,
    "PRODUCT": 0.7, "EVENT": 0.8, "WORK_OF_ART": 0.7, "LAW": 0.8, "LANGUAGE": 0.5,
    "DATE": 0.4, "MONEY": 0.4, "PERCENT": 0.3, "TIME": 0.2, "QUANTITY": 0.2,
}  # fmt: skip


def rank_entities(index: DocumentIndex) -> list[Entity]:
    """Entities by importance: sentences they appear in, weighted by kind (named before values)."""
    return sorted(index.entities, key=lambda e: (-e.sentences * _LABEL_WEIGHT.get(e.label, 0.5), e.first_sentence))


def _aliases(entity: Entity, limit: int = 3) -> list[str]:
    seen = {entity.name.lower()}
    out: list[str] = []
    for alias in entity.aliases:
        shown = alias[4:] if alias.lower().startswith("the ") else alias
        if shown.lower() not in seen:
            seen.add(shown.lower())
            out.append(shown)
    return out[:limit]


def _line(index: DocumentIndex, entity: Entity, related: int) -> str:
    # Names are the document's words, shown outside any fence: one line each, with no tag, label or chat token.
    aliases = [one_line(alias) for alias in _aliases(entity)]
    parts = [f"- {one_line(entity.name)} ({entity.label}"]
    if aliases:
        parts.append("; aka " + ", ".join(aliases))
    parts.append(f"; {entity.mentions}x; from S{entity.first_sentence})")
    if related and not entity.is_value:
        partners = relations(index, entity.id, related)
        if partners:
            names = [one_line(index.entities[r.target].name) for r in partners]
            parts.append(" with " + ", ".join(f"{name} {r.weight:g}" for name, r in zip(names, partners, strict=True)))
    return "".join(parts)


def entity_sheet(index: DocumentIndex, budget_tokens: int = 300, related: int = 3) -> str:
    """The most important entities, one line each, within `budget_tokens` (cl100k) tokens.

    Each line gives the name, type, other spellings, mention count, first sentence and the
    entities it co-occurs with most (with co-occurrence weights). Lines are added in order of
    importance until the next one would not fit.

    Raises:
        TypeError: `index` is not a `DocumentIndex` (a file's path: index it first, `index_document(path)`).
    """
    check_index(index)
    ranked = rank_entities(index)
    header = f"Entities ({len(index.entities)} in {index.sentence_count} sentences):"
    if not ranked:
        header = "Entities: none found."
    if count_tokens(header) > budget_tokens:
        return ""
    lines = [header]
    used = count_tokens(header)
    for entity in ranked:
        # Importance order is kept: when a line does not fit, it is tried without its
        # relations, and if that does not fit either the sheet ends.
        line = _line(index, entity, related)
        cost = count_tokens(line) + 1  # the newline
        if used + cost > budget_tokens:
            line = _line(index, entity, 0)
            cost = count_tokens(line) + 1
            if used + cost > budget_tokens:
                break
        lines.append(line)
        used += cost
    text = "\n".join(lines)
    # The sum of line costs is an estimate; the whole text is what must fit.
    while len(lines) > 1 and count_tokens(text) > budget_tokens:
        lines.pop()
        text = "\n".join(lines)
    return text
