"""Paired comparisons of two methods on the same questions: bootstrap interval and exact McNemar test."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["bootstrap_mean", "mcnemar_exact", "paired_bootstrap"]

_PICKS_PER_BLOCK = 1_000_000


def bootstrap_mean(
    values: Sequence[float], *, resamples: int = 2000, confidence: float = 0.95, seed: int = 0
) -> tuple[float, float, float]:
    """Mean of `values` and its percentile bootstrap interval, resampling them with replacement.

    Seeded, so a report is reproducible.

    Returns:
        (mean, low, high).

    Raises:
        ValueError: `values` is empty.
    """
    if not values:
        raise ValueError("bootstrap_mean needs at least one value")
    data = np.asarray(values, dtype=float)
    rng = np.random.default_rng(seed)
    # Resamples are drawn in blocks of about a million picks, so ten thousand questions need no 160 MB array.
    block = max(1, min(resamples, _PICKS_PER_BLOCK // len(data)))
    means = np.concatenate(
        [
            data[rng.integers(0, len(data), size=(min(block, resamples - done), len(data)))].mean(axis=1)
            for done in range(0, resamples, block)
        ]
    )
    tail = (1.0 - confidence) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(data.mean()), float(low), float(high)


def paired_bootstrap(
    a: Sequence[float], b: Sequence[float], *, resamples: int = 2000, confidence: float = 0.95, seed: int = 0
) -> tuple[float, float, float]:
    """Mean of `a - b` and its percentile bootstrap interval, resampling questions (pairs) with replacement.

    Seeded, so a report is reproducible.

    Returns:
        (mean difference, low, high).

    Raises:
        ValueError: the sequences differ in length or are empty.
    """
    if len(a) != len(b) or not a:
        raise ValueError("paired_bootstrap needs two non-empty sequences of the same length")
    diffs = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    return bootstrap_mean(diffs.tolist(), resamples=resamples, confidence=confidence, seed=seed)


def mcnemar_exact(a_only: int, b_only: int) -> float:
    """Two-sided exact McNemar p-value from the discordant pairs.

    Args:
        a_only: questions method a got right and b wrong.
        b_only: questions b got right and a wrong.
    """
    n = a_only + b_only
    if n == 0:
        return 1.0
    tail, term = 0, 1  # term = comb(n, k), each from the last: thousands of pairs stay fast
    for k in range(min(a_only, b_only) + 1):
        tail += term
        term = term * (n - k) // (k + 1)
    # Integer true division: exact, where float(2**n) overflows past 1,023 pairs.
    return min(1.0, 2 * tail / (1 << n))
