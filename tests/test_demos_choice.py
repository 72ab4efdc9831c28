"""The bundled demonstrations cover stories, legal texts, papers and manuals, and a document's kind is told from its
words."""

from __future__ import annotations

import pytest
from conftest import SAMPLE_DIR
from pydantic import ValidationError

from pearl.actions import default_library
from pearl.planning import Demo, builtin_demos, check_demos, document_kind, parse_plan
from pearl.planning._kinds import KINDS

CONTRACT = (
    'THIS SUPPLY AGREEMENT is made between Northwind Foods Ltd (the "Supplier") and Harbor Markets Inc (the "Buyer"), '
    "each a party and together the parties. 1. Term. This Agreement shall commence on the Effective Date and shall "
    "continue for three years unless terminated under Section 6. 2. Minimum Purchase. The Buyer shall order no fewer "
    "than 10,000 units in each calendar quarter. 3. Warranties. The Supplier warrants that the goods conform to the "
    "specifications; this warranty is the Buyer's sole remedy. 4. Liability. Neither party shall be liable for "
    "indirect damages arising hereunder. 5. Confidentiality. Each party shall keep confidential the terms hereof. "
    "6. Termination. Either party may terminate this Agreement on thirty days' notice if the other party commits a "
    "material breach of any provision hereof. 7. Governing Law. This Agreement is governed by the law of Delaware."
)
PAPER = (
    "Abstract. We propose a joint model for named entity recognition and relation extraction. Experiments on two "
    "benchmark datasets show that the proposed approach outperforms strong baselines in precision, recall and F1. "
    "1. Introduction. Earlier work treats the two tasks as a pipeline (Lee et al., 2019), so errors of the first "
    "task reach the second. Our approach shares one encoder between both tasks. 4. Experiments. Table 2 reports "
    "the results on each dataset; the annotated corpus has 12,000 sentences, and training takes two hours. "
    "Figure 3 shows the accuracy of each baseline as the training data grows."
)
MANUAL = (
    "Installation. Install the package with pip, then run the command `tool init` in the project directory. "
    "Configuration. Every option can be set in the configuration file or given as a flag on the command line; "
    "the default value of each setting is shown by `tool config --help`. Usage example: `tool run --port 8080`. "
    "Errors. If the server does not start, the error message names the file and the option to check. The API "
    "function load(path) returns the parsed settings and raises an error when the file is missing."
)
STORY = (SAMPLE_DIR / "the_keeper_of_tren_light.txt").read_text(encoding="utf-8")


def bundled(kind: str) -> list[Demo]:
    return [d for d in builtin_demos().demos if d.kind == kind]


def test_the_bundled_demonstrations_run_on_the_default_library_and_cover_every_kind() -> None:
    store = builtin_demos()
    kept, warnings = check_demos(store, default_library())
    assert warnings == [] and kept.demos == store.demos
    assert 16 <= len(store.demos) <= 20
    for demo in store.demos:
        assert 1 <= len(parse_plan(demo.plan, default_library()).steps) <= 4, demo.question
    assert {kind: len(bundled(kind)) >= 3 for kind in KINDS} == dict.fromkeys(KINDS, True)
    assert len({d.question for d in store.demos}) == len(store.demos)
    with pytest.raises(ValidationError):
        Demo(question="Why?", plan='a = FIND_X(CTX, "x")', kind="poem")  # type: ignore[arg-type]  # a typo is refused


def test_the_kind_of_a_document_is_told_from_its_words() -> None:
    assert [document_kind(text) for text in (CONTRACT, PAPER, MANUAL, STORY)] == ["legal", "paper", "manual", "story"]
    assert document_kind("") is None
    assert document_kind("The bridge opened in May and carries four lanes over the river.") is None
    assert document_kind("Which clause of the contract covers late payment?") == "legal"  # a question's own words
