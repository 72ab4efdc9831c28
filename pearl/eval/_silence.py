"""`Silence`: when a long run (an evaluation, mining, refinement) should stop because its model's server no
longer answers.

Once as many questions in a row as run at once (at least `UNANSWERED_STOP`) have got no answer after all
their retries (timeouts, refused or dropped connections, 5xx, 429, a web page instead of a completion:
`pearl.errors.unanswered`), every other
question would wait out the same retries (four minutes each with a hung server and the default settings;
a dead server cost mining 42 s for 20 questions, 25 minutes for the paper's 733), so the run stops with
`UnansweredError`, what it did kept. An evaluation counts results, a question's one per method, and says so: with
three methods, four in a row can be two questions.

An evaluation also says which document each result asked about. A server that answers the failures with an HTTP
status (a 500, a 429, a reply it could not use) is there: failures of one document alone are that document's (a
server that fails on its text), not a dead server's. Such a run stopped after four of them, and each run again added
four more errors, though the server answered every other document. So the results in a row count only once they
span two documents, or one of them got no reply at all (a timeout, a refused or dropped connection); one short of a
stop, the run asks another document's question next (`probe`), which tells the two apart.
"""

from __future__ import annotations

import logging

from pearl._text import counted
from pearl.errors import LLMConnectionError, LLMError, LLMResponseError, LLMTimeoutError, UnansweredError, unanswered

__all__ = ["UNANSWERED_STOP", "Silence"]

log = logging.getLogger("pearl.eval")

UNANSWERED_STOP = 4
"""A run stops once this many questions (an evaluation's results) in a row, or as many as run at once if more, got
no answer from the model's server."""


class Silence:
    """Questions in a row that got no answer from the model's server, for a run of `concurrency` at once; `counts`:
    what its message calls them (an evaluation counts its results, a question's one per method, not questions)."""

    def __init__(self, concurrency: int = 1, counts: str = "questions in a row") -> None:
        self.enough = max(UNANSWERED_STOP, concurrency)
        self.counts = counts
        self.count = 0
        self.last = ""
        self.documents: set[str | None] = set()  # the documents of the results in a row (None: not said)
        self.no_reply = False  # whether one of them got no reply at all (a timeout, a connection refused or dropped)
        self.answered: set[str] = set()  # documents the server answered a question of
        self.spared: set[str] = set()  # documents whose failures were found to be theirs alone (said once each)

    def heard(self, error: BaseException | None = None, document: str | None = None) -> None:
        """A question ended: answered (`error` None), or failed with `error`; `document`: what it asked about (an
        evaluation says; `None` counts every failure alike). An error the server gave
        (a 4xx) says it is there; one not about the server (a question that cannot be asked) says nothing either
        way. A reply it could not use (not JSON, no choices, no text) counts as no answer here: a server that
        answers every request off the format ran a whole evaluation, five requests a question. (Comparisons keep
        such rows as the method's failures: `unanswered` is False for them.)"""
        if error is not None and (unanswered(error) or isinstance(error, LLMResponseError)):
            self.silent(str(error), document, no_reply=isinstance(error, (LLMTimeoutError, LLMConnectionError)))
        elif error is None or isinstance(error, LLMError):
            if error is None and document is not None:
                self.answered.add(document)
                self._spare(document)
            self._reset()

    def silent(self, error: str, document: str | None = None, *, no_reply: bool = True) -> None:
        """A question got no answer from the server (`error`, after every retry); `no_reply`: none at all (not an
        HTTP error status, nor a reply it could not use)."""
        self.count += 1
        self.last = error
        self.documents.add(document)
        self.no_reply = self.no_reply or no_reply

    @property
    def probe(self) -> str | None:
        """The one document the results in a row are all of, where the next could stop the run and only another
        document's result can tell a dead server from one that fails on this document: the run asks about another
        document next (the stop is judged across two). None otherwise."""
        if self.count < self.enough - 1 or self.no_reply or len(self.documents) != 1:
            return None
        (document,) = self.documents
        return document

    def check(self, then: str, others: bool = False) -> None:
        """Raise `UnansweredError` once the silence has gone on; `then`: what the user can do; `others`: whether a
        question of a document other than `probe`'s is still to come (or on its way), which says whether the server
        is there. Failures of one document alone go on where it is, or where the server answered another before."""
        if self.count < self.enough:
            return
        alone = self.probe
        if alone is not None and (others or self.answered - {alone}):
            return
        raise UnansweredError(
            f"stopped: {self.count} {self.counts} got no answer from the model's server (the last: {self.last}); {then}"
        )

    def _spare(self, document: str) -> None:
        """Another document was answered while `probe`'s failed: say once that the run goes on past them."""
        alone = self.probe
        if alone is None or alone == document or alone in self.spared:
            return
        self.spared.add(alone)
        log.warning(
            "%s: %s of this document failed while the server answers others (the last: %s); the run goes on, "
            "keeping them as errors, which --retry-errors (retry_errors=True) asks again",
            alone,
            counted(self.count, "result"),
            self.last,
        )

    def _reset(self) -> None:
        self.count = 0
        self.documents = set()
        self.no_reply = False
