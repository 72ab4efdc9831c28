"""Ingestion and context compression: sentences, entities, entity graph, token-budgeted context.

>>> index = index_document("contract.txt")          # cached on disk by content hash
>>> print(entity_sheet(index, budget_tokens=300))   # the main entities, for a planning prompt
>>> ctx = compress(index, "When does the term expire?", budget_tokens=1500)
>>> ctx.text                                        # "[S12] The term ... [S13] ..."
"""

from __future__ import annotations

from pearl.context._cache import PIPELINE_VERSION
from pearl.context._compress import (
    FILE_LINE,
    Weights,
    compress,
    rank_sentences,
    render_sentences,
    sentence_cost,
    sentence_span,
    skim,
    whole_document,
)
from pearl.context._dense import (
    AUTO_CHARS,
    DENSE_INSTALL,
    Embedder,
    MiniLM,
    attach_embeddings,
    dense_available,
    dense_wanted,
    has_vectors,
)
from pearl.context._entities import entity_named, entity_sentences, find_entities
from pearl.context._graph import entity_graph, relations
from pearl.context._index import build_index, count_words, index_document
from pearl.context._markup import cite, code_sentences, shown_document
from pearl.context._models import (
    CompressedContext,
    DocumentIndex,
    Entity,
    Mention,
    Relation,
    Sentence,
    SentenceFlag,
)
from pearl.context._query import query_terms
from pearl.context._sheet import entity_sheet, rank_entities

__all__ = [
    "AUTO_CHARS",
    "DENSE_INSTALL",
    "FILE_LINE",
    "PIPELINE_VERSION",
    "CompressedContext",
    "DocumentIndex",
    "Embedder",
    "Entity",
    "Mention",
    "MiniLM",
    "Relation",
    "Sentence",
    "SentenceFlag",
    "Weights",
    "attach_embeddings",
    "build_index",
    "cite",
    "code_sentences",
    "compress",
    "count_words",
    "dense_available",
    "dense_wanted",
    "entity_graph",
    "entity_named",
    "entity_sentences",
    "entity_sheet",
    "find_entities",
    "has_vectors",
    "index_document",
    "query_terms",
    "rank_entities",
    "rank_sentences",
    "relations",
    "render_sentences",
    "sentence_cost",
    "sentence_span",
    "shown_document",
    "skim",
    "whole_document",
]
