"""Given plans for an evaluation set: JSON Lines of `{"qid": ..., "plan": "..."}`, the paper's released layout.

`pearl eval --plans FILE` runs these plans instead of writing new ones, so executors can be
compared on the same plans (the paper's own, say). A row's `qid` is matched to a question:

1. a question whose id is the qid (pearl's ids: QuALITY's `question_unique_id`, or
   `<document id>:<n>`, or the `id` given in pearl's JSONL);
2. else, for a QuALITY file, a qid that is a whole number N matches the question at
   position N (from 0) of the file, counting every question of every line in file order:
   the numbering the paper's scripts gave the official QuALITY release
   (`QuALITY.v1.0.1.htmlstripped.train` / `.dev`), so the paper's plans match that file.

Rows whose qid matches no question are counted and listed; when a qid comes again (the
paper's file holds two runs), the first row is used and the others counted. Plans are kept
as text: each is parsed when its question runs, and one that does not parse is recorded on
its row as an error.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from pydantic import BaseModel, Field

from pearl._text import counted
from pearl.actions import ActionLibrary
from pearl.errors import DatasetError, PlanParseError
from pearl.eval._loaders import _lines
from pearl.eval._models import Dataset
from pearl.planning import parse_plan

__all__ = ["PlanSet", "match_plans", "read_plans"]

_SHOWN_UNMATCHED = 20

# The validator's message for an action that neither the library nor the plan declares.
_UNKNOWN = re.compile(r"unknown action (\w+)")


class PlanSet(BaseModel):
    """Plans matched to an evaluation set's questions."""

    path: str
    rows: int = Field(description="rows read")
    plans: dict[str, str] = Field(default_factory=dict, description="question id -> plan text")
    by_position: int = Field(default=0, description="plans matched by the paper's numbering (position in the file)")
    duplicates: int = Field(
        default=0, description="rows whose question an earlier row named, by its qid or by position (the first is used)"
    )
    unmatched: int = Field(default=0, description="rows whose qid matches no question")
    unmatched_ids: list[str] = Field(default_factory=list, description=f"the first {_SHOWN_UNMATCHED} of them")

    def summary(self) -> str:
        """One line for the user: what matched, what did not."""
        position = f" ({self.by_position} by position in the QuALITY file)" if self.by_position else ""
        text = f"{len(self.plans)} of {counted(self.rows, 'given plan')} match a question{position}"
        if self.duplicates:
            one = self.duplicates == 1
            again = "names a question an earlier row names" if one else "name questions earlier rows name"
            text += f"; {self.duplicates} {again} (the first is used)"
        if self.unmatched:
            shown = ", ".join(self.unmatched_ids[:5]) + (", ..." if self.unmatched > 5 else "")
            text += f"; {self.unmatched} match no question (qid {shown})"
        return text

    def missing_actions(self, library: ActionLibrary) -> tuple[int, list[str]]:
        """How many of the matched plans call an action neither `library` has nor the plan declares,
        and those actions' names (most frequent first): such a plan is its question's error when run."""
        failing = 0
        names: Counter[str] = Counter()
        for text in self.plans.values():
            try:
                parse_plan(text, library, max_steps=1000)  # its actions are asked about here, not its length
            except PlanParseError as exc:
                unknown = _UNKNOWN.match(exc.reason)
                if unknown:
                    failing += 1
                    names[unknown.group(1)] += 1
        return failing, [name for name, _ in names.most_common()]


def read_plans(path: str | Path) -> list[tuple[str, str]]:
    """(qid, plan text) for each line of a plans file, in file order.

    Raises:
        DatasetError: unreadable, not JSON Lines, or a line without a string `plan` and a `qid`
            (or `id`); the message names the line.
    """
    file = Path(path)
    rows: list[tuple[str, str]] = []
    for line, obj in _lines(file):
        qid = obj.get("qid", obj.get("id"))
        if isinstance(qid, bool) or not isinstance(qid, (str, int)) or not str(qid).strip():
            line.fail("qid", "missing; each line needs the question's qid (or id)")
        plan = line.get(obj, "plan", str, "plan")
        rows.append((str(qid).strip(), plan))
    if not rows:
        raise DatasetError(f"{file}: holds no plans")
    return rows


def match_plans(dataset: Dataset, path: str | Path) -> PlanSet:
    """Read a plans file and match its qids to `dataset`'s questions (see the module docstring).

    Raises:
        DatasetError: the file cannot be read (see `read_plans`).
    """
    rows = read_plans(path)
    ids = {question.id for question in dataset.questions}
    result = PlanSet(path=str(path), rows=len(rows))
    for qid, plan in rows:
        numbered = qid.isascii() and qid.isdigit() and int(qid) < len(dataset.questions)
        positional = dataset.format == "quality" and numbered  # the paper's numbering of QuALITY's questions
        target = qid if qid in ids else dataset.questions[int(qid)].id if positional else None
        if target is None:
            result.unmatched += 1
            if len(result.unmatched_ids) < _SHOWN_UNMATCHED:
                result.unmatched_ids.append(qid)
        elif target in result.plans:  # the same qid again, or one question named both by id and by position
            result.duplicates += 1
        else:
            result.plans[target] = plan
            result.by_position += target != qid
    return result
