"""`Silence`: when a long run (an evaluation, mining, refinement) should stop because its model's server no
longer answers.

Once as many questions in a row as run at once (at least `UNANSWERED_STOP`) have got no answer after all
their retries (timeouts, refused or dropped connections, 5xx, 429, a web page instead of a completion:
`pearl.errors.unanswered`), every other
question would wait out the same retries (four minutes each with a hung server and the default settings;
a dead server cost mining 42 s for 20 questions, 25 minutes for the paper's 733), so the run stops with
`UnansweredError`, what it did kept. An evaluation counts results, a question's one per method, and says so: with
three methods, four in a row can be two questions.
"""

from __future__ import annotations

from pearl.errors import LLMError, LLMResponseError, UnansweredError, unanswered

__all__ = ["UNANSWERED_STOP", "Silence"]

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

    def heard(self, error: BaseException | None = None) -> None:
        """A question ended: answered (`error` None), or failed with `error`. An error the server gave
        (a 4xx) says it is there; one not about the server (a question that cannot be asked) says nothing either
        way. A reply it could not use (not JSON, no choices, no text) counts as no answer here: a server that
        answers every request off the format ran a whole evaluation, five requests a question. (Comparisons keep
        such rows as the method's failures: `unanswered` is False for them.)"""
        if error is not None and (unanswered(error) or isinstance(error, LLMResponseError)):
            self.silent(str(error))
        elif error is None or isinstance(error, LLMError):
            self.count = 0

    def silent(self, error: str) -> None:
        """A question got no answer from the server (`error`, after every retry)."""
        self.count += 1
        self.last = error

    def check(self, then: str) -> None:
        """Raise `UnansweredError` once the silence has gone on; `then`: what the user can do."""
        if self.count >= self.enough:
            raise UnansweredError(
                f"stopped: {self.count} {self.counts} got no answer from the model's server "
                f"(the last: {self.last}); {then}"
            )
