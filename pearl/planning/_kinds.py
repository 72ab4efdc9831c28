"""What kind of document a text is (a story, a legal text, a paper, a manual), told from its words alone.

The planner is shown demonstrations chosen by word similarity to the question, and a question about a contract
or a paper often shares no word with the demonstrations written for one ("What are the specific tasks being
unified?"), so a light signal of the document's kind chooses among them first (see `select_demos`).

Each kind has cue words its documents use far more often than the others do: a contract's "shall", "party",
"hereunder"; a paper's "dataset", "baseline", "et al."; a manual's "install", "option", "returns"; a story's
"said", "looked", "she". The kind is the one whose cue words are the most frequent in the text's first
100,000 characters, when they make up at least 1 word in 100 and are a fifth more frequent than the next kind's;
otherwise the text has no kind (a short question with no cue word, a text whose cues are few or split). A news
report or a biography, which tells of people with "said" and "she", reads as a story. Measured on the shared contracts,
papers and stories, and on licences, man pages, pydoc pages and READMEs, every document got its kind.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Literal, get_args

__all__ = ["DocumentKind", "document_kind", "kind_asked_about"]

DocumentKind = Literal["story", "legal", "paper", "manual"]
"""A kind of document: fiction and narratives; contracts, licences, policies; research papers; manuals, API
references, READMEs and how-to pages."""

KINDS: tuple[DocumentKind, ...] = get_args(DocumentKind)

_CUES: dict[DocumentKind, frozenset[str]] = {
    "story": frozenset(
        "said asked replied looked eyes felt knew thought door room face smiled laughed voice hand hands head "
        "himself herself he she his her him me my story tale novel narrator character characters".split()
    ),
    "legal": frozenset(
        "agreement agreements party parties shall hereby herein hereunder thereof thereto licensee licensor "
        "license licence licensed copyright warranty warranties indemnify indemnification liability liable "
        "termination terminate clause provision provisions pursuant notwithstanding obligations breach governing "
        "jurisdiction confidential contract covenant damages law terms rights grant granted permitted".split()
    ),
    "paper": frozenset(
        "abstract dataset datasets baseline baselines experiment experiments experimental evaluation evaluate "
        "accuracy results table figure fig proposed approach performance training trained corpus annotated "
        "annotation annotators et al precision recall neural outperforms benchmark state art task tasks "
        "hypothesis participants empirical proceedings paper authors".split()
    ),
    "manual": frozenset(
        "install installation installed installing configure configuration command commands option options "
        "default usage example examples parameter parameters argument arguments returns function functions api "
        "server client version versions error errors setting settings click button menu enable enabled disable "
        "url http directory file files flag flags syntax variable variables module package script documentation "
        "manual readme".split()
    ),
}
_READ = 100_000  # characters: a document's opening says what it is; reading 30 MB would say it no better
_FLOOR = 0.01  # cue words per word at least: one cue in a long text is no kind
_LEAD = 1.2  # times the next kind's share: a close call is no call
_WORD = re.compile(r"[a-z]+")


def document_kind(text: str) -> DocumentKind | None:
    """The kind of document `text` is, from its cue words (see the module), or None when no kind clearly leads.

    A question's own words may tell one too ("... of this contract ...", "Which baseline ..."), for a question asked
    with no document, or about one whose words tell none.
    """
    words = Counter(_WORD.findall(text[:_READ].lower()))
    total = sum(words.values())
    if not total:
        return None
    shares = sorted(((sum(words[w] for w in cues) / total, kind) for kind, cues in _CUES.items()), reverse=True)
    (best, kind), (second, _) = shares[0], shares[1]
    if best < _FLOOR or best < _LEAD * second:
        return None
    return kind


def kind_asked_about(document: str, asked: str) -> DocumentKind | None:
    """The kind of document a question (`asked`: its text and options) is about, as demonstrations are chosen by it
    (`select_demos`) and labelled when kept (`refine_demos`): the document's, else the question's own words' (an
    empty document, or one whose words tell none)."""
    return document_kind(document) or document_kind(asked)
