"""Metrics with known values, question types, and the paired statistics."""

from __future__ import annotations

import pytest

from pearl.eval import (
    best_over,
    exact_match,
    mcnemar_exact,
    normalize_answer,
    paired_bootstrap,
    question_type,
    rouge_l,
    strip_citations,
    token_f1,
)


def test_normalize_answer_is_squad_style() -> None:
    assert normalize_answer("The  Cat's hat!") == "cats hat"
    assert normalize_answer("An apple, a pear; the end.") == "apple pear end"
    assert normalize_answer("") == ""


def test_exact_match() -> None:
    assert exact_match("The Ostrava Belle.", "ostrava belle") == 1.0
    assert exact_match("Ostrava", "ostrava belle") == 0.0


def test_token_f1_known_values() -> None:
    assert token_f1("the cat sat", "a cat sat down") == pytest.approx(0.8)  # P 1, R 2/3
    assert token_f1("cat cat", "cat") == pytest.approx(2 / 3)  # counts are a multiset: P 1/2, R 1
    assert token_f1("dog", "cat") == 0.0
    assert token_f1("", "") == 1.0 and token_f1("the", "cat") == 0.0  # "the" normalises to nothing


def test_rouge_l_known_values() -> None:
    # Lin (2004): reference "police killed the gunman"
    assert rouge_l("police kill the gunman", "police killed the gunman") == pytest.approx(0.75)
    assert rouge_l("the gunman kill police", "police killed the gunman") == pytest.approx(0.5)
    assert rouge_l("A B C", "a b c") == 1.0
    assert rouge_l("x y", "") == 0.0
    # No letter or digit on either side shares nothing (as rouge-score scores it): it was 1.0.
    assert rouge_l("Я не знаю", "Москва") == 0.0 and rouge_l("我不知道", "北京") == 0.0 and rouge_l("", "—") == 0.0


def test_best_over_several_golds() -> None:
    golds = ["ninety-six", "96 people"]
    assert best_over(token_f1, "96", golds) == pytest.approx(2 / 3)
    assert best_over(exact_match, "96 People", golds) == 1.0
    assert best_over(token_f1, "x", []) == 0.0


def test_strip_citations() -> None:
    assert strip_citations("Twice every thirty seconds [S12].") == "Twice every thirty seconds."
    assert strip_citations("[S1] Yes [S2, S3]") == "Yes"
    assert strip_citations("Yes [S2; S3], then no [s4-S6] [S7 and 9].") == "Yes, then no."
    assert strip_citations("See [Section 2] and [S12, above].") == "See [Section 2] and [S12, above]."
    # Round brackets and a page after the labels, as references are cited: they counted as words not in the gold.
    assert strip_citations("Yes (S2, S3), then no [S4, p. 7] (S5; lines 2-3).") == "Yes, then no."
    assert strip_citations("See (S1 Table) and (Sect. 2).") == "See (S1 Table) and (Sect. 2)."


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Why did Dorota put water in the lamp oil?", "why"),
        ("What was the reason the ship sank?", "why"),
        ("What is the most likely reason Dennis was sympathetic toward Randall?", "why"),  # QuALITY's; was "other"
        ("What is a reasonable guess about the ending?", "other"),
        ("Who did Varga suspect?", "who"),
        ("Whose letter arrived first?", "who"),
        ("Each of the following happened on the night of the storm EXCEPT:", "not-except"),
        ("Which of these is NOT true of Varga?", "not-except"),
        ("Which of the following was not a reason for the trip?", "not-except"),
        ("Why is it NOT possible to leave?", "not-except"),
        ("How many years passed between the wreck and the storm?", "numeric"),
        ("How much did the ticket cost?", "numeric"),
        ("What is Agnete Varga's relation to Dorota?", "other"),
        ("Where is International Police headquarters located?", "other"),
    ],
)
def test_question_type(question: str, kind: str) -> None:
    assert question_type(question) == kind


def test_mcnemar_exact_known_values() -> None:
    assert mcnemar_exact(700, 600) == pytest.approx(0.00601579386)  # over 1,023 pairs: 2**n is no float
    assert mcnemar_exact(2500, 2500) == 1.0
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(10, 0) == pytest.approx(2 / 1024)
    assert mcnemar_exact(3, 5) == pytest.approx(2 * (1 + 8 + 28 + 56) / 256)
    assert mcnemar_exact(5, 3) == mcnemar_exact(3, 5)
    assert mcnemar_exact(4, 4) == 1.0


def test_paired_bootstrap() -> None:
    assert paired_bootstrap([1, 0, 1], [1, 0, 1]) == (0.0, 0.0, 0.0)
    assert paired_bootstrap([1.0] * 5, [0.0] * 5) == (1.0, 1.0, 1.0)
    a = [1, 1, 1, 0, 1, 0, 1, 1, 0, 1] * 3
    b = [0, 1, 0, 0, 1, 0, 0, 1, 0, 1] * 3
    diff, low, high = paired_bootstrap(a, b)
    assert diff == pytest.approx(0.3) and low < diff < high and low > 0
    assert paired_bootstrap(a, b) == (diff, low, high)  # seeded: reproducible
    with pytest.raises(ValueError):
        paired_bootstrap([1], [1, 0])


def test_typographic_and_straight_punctuation_score_alike() -> None:
    # '"Party"' against '“Party”' scored 0, "Tr'en Light" against "Tr’en Light" 0.5, "2010-2012" against "2010–2012"
    # 0: Unicode's punctuation counted as letters of a word (helper-183).
    assert exact_match('"Party"', "\u201cParty\u201d") == 1.0
    assert token_f1("Tr'en Light", "Tr\u2019en Light") == 1.0
    assert token_f1("2010-2012", "2010\u20132012") == 1.0
    assert token_f1("café", "cafe") == 0.0  # letters stay what they are
