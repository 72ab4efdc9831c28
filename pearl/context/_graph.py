"""The entity graph, built on demand from the index's plain data.

Nodes are entities (`"e:12"`), sentences (`"s:40"`) and paragraphs (`"p:3"`); an entity is
linked to each sentence that mentions it, a sentence to its paragraph, and two entities to
each other with a co-occurrence weight: 1 per sentence they share, 0.25 per paragraph they
share without sharing a sentence. The weights alone (`cooccurrence`) are enough for the
entity sheet and for compression, so those never pay for building the networkx graph.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import combinations
from typing import TYPE_CHECKING

from pearl.context._models import DocumentIndex, Relation

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["PARAGRAPH_WEIGHT", "cooccurrence", "entity_graph", "relations"]

PARAGRAPH_WEIGHT = 0.25
# Paragraphs naming more entities than this (lists, tables, definitions) would add a quadratic
# number of weak pairs; their sentence-level pairs still count.
_MAX_PARAGRAPH_ENTITIES = 40


def cooccurrence(index: DocumentIndex) -> dict[int, dict[int, tuple[float, int]]]:
    """For each entity, its co-occurring entities -> (weight, shared sentences); both directions."""
    return index.memo("cooccurrence", lambda: _cooccurrence(index))


def _cooccurrence(index: DocumentIndex) -> dict[int, dict[int, tuple[float, int]]]:
    by_sentence: dict[int, set[int]] = defaultdict(set)
    for entity, sid in zip(index.mention_entity, index.mention_sentence, strict=True):
        by_sentence[sid].add(entity)
    by_paragraph: dict[int, set[int]] = defaultdict(set)
    sentence_pairs: dict[tuple[int, int], int] = defaultdict(int)
    for sid, entities in by_sentence.items():
        by_paragraph[index.sent_para[sid]].update(entities)
        for pair in combinations(sorted(entities), 2):
            sentence_pairs[pair] += 1
    weights: dict[tuple[int, int], float] = {pair: float(n) for pair, n in sentence_pairs.items()}
    for entities in by_paragraph.values():
        if len(entities) > _MAX_PARAGRAPH_ENTITIES:
            continue
        for pair in combinations(sorted(entities), 2):
            if pair not in sentence_pairs:
                weights[pair] = weights.get(pair, 0.0) + PARAGRAPH_WEIGHT
    table: dict[int, dict[int, tuple[float, int]]] = defaultdict(dict)
    for (a, b), weight in weights.items():
        shared = sentence_pairs.get((a, b), 0)
        table[a][b] = (weight, shared)
        table[b][a] = (weight, shared)
    return dict(table)


def relations(index: DocumentIndex, entity: int, limit: int = 5, named_only: bool = True) -> list[Relation]:
    """The strongest co-occurrence partners of `entity`, heaviest first."""
    partners = cooccurrence(index).get(entity, {})
    ranked = sorted(partners.items(), key=lambda item: (-item[1][0], item[0]))
    out: list[Relation] = []
    for other, (weight, shared) in ranked:
        if named_only and index.entities[other].is_value:
            continue
        out.append(Relation(source=entity, target=other, weight=weight, sentences=shared))
        if len(out) >= limit:
            break
    return out


def entity_graph(index: DocumentIndex) -> nx.Graph:
    """The entity-sentence-paragraph graph of `index`, built once per index object."""
    return index.memo("graph", lambda: _build_graph(index))


def _build_graph(index: DocumentIndex) -> nx.Graph:
    import networkx as nx  # loaded on first use: it costs 150 ms at import

    graph = nx.Graph()
    for pid, (start, end) in enumerate(zip(index.para_starts, index.para_ends, strict=True)):
        graph.add_node(f"p:{pid}", kind="paragraph", start=start, end=end)
    for sid in range(index.sentence_count):
        start, end = index.sent_starts[sid], index.sent_ends[sid]
        graph.add_node(f"s:{sid}", kind="sentence", start=start, end=end, tokens=index.sent_tokens[sid])
        graph.add_edge(f"s:{sid}", f"p:{index.sent_para[sid]}", kind="in", weight=1.0)
    for entity in index.entities:
        graph.add_node(f"e:{entity.id}", kind="entity", name=entity.name, label=entity.label, mentions=entity.mentions)
    for eid, sid in zip(index.mention_entity, index.mention_sentence, strict=True):
        edge = graph.get_edge_data(f"e:{eid}", f"s:{sid}")
        if edge is None:
            graph.add_edge(f"e:{eid}", f"s:{sid}", kind="mention", weight=1.0)
        else:
            edge["weight"] += 1.0
    for a, partners in cooccurrence(index).items():
        for b, (weight, shared) in partners.items():
            if a < b:
                graph.add_edge(f"e:{a}", f"e:{b}", kind="cooccurs", weight=weight, sentences=shared)
    return graph
