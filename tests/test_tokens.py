"""pearl.tokens: counts are exact, and a text counted again (a question's calls share much) is not encoded again."""

from __future__ import annotations

import pytest

from pearl import tokens


@pytest.fixture
def encodings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts `pearl.tokens.encode` is asked to encode from here on, the remembered counts forgotten."""
    seen: list[str] = []
    real = tokens.encode

    def encode(text: str, encoding: str = tokens.DEFAULT_ENCODING) -> list[int]:
        seen.append(text)
        return real(text, encoding)

    tokens._counted.cache_clear()
    monkeypatch.setattr(tokens, "encode", encode)
    return seen


def test_a_text_counted_again_is_not_encoded_again(encodings: list[str]) -> None:
    text = "[S12] The Licensee shall pay the fee within thirty (30) days."
    assert tokens.count_tokens(text) == len(tokens.get_encoding(tokens.DEFAULT_ENCODING).encode(text))
    copy = "".join(list(text))  # equal, another object: found all the same
    assert copy is not text and tokens.count_tokens(text) == tokens.count_tokens(copy)
    assert encodings == [text]
    assert tokens.count_tokens(text, "o200k_base") >= 1 and len(encodings) == 2  # another encoding counts anew


def test_a_long_text_is_counted_each_time_not_kept(encodings: list[str]) -> None:
    edge = "w" * tokens._REMEMBERED_CHARS
    assert tokens.count_tokens(edge) == tokens.count_tokens(edge) and len(encodings) == 1  # up to the limit: kept
    encodings.clear()
    long = "word " * (tokens._REMEMBERED_CHARS // 5 + 1)
    assert (
        tokens.count_tokens(long)
        == tokens.count_tokens(long)
        == len(tokens.get_encoding(tokens.DEFAULT_ENCODING).encode(long))
    )
    assert len(encodings) == 2
    assert tokens.count_tokens("") == 0 and len(encodings) == 2
