"""numpy's BLAS on one thread while a question's vector is made and compared (pearl.context._threads)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import numpy as np
import pytest

from pearl.context import attach_embeddings, compress, index_document
from pearl.context._threads import _controller, one_blas_thread

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _threads() -> int:
    return max((info["num_threads"] for info in _controller().select(user_api="blas").info()), default=0)


@pytest.fixture
def two_threads() -> Iterator[None]:
    """numpy's BLAS set to two threads for the test (whatever the machine's default), put back after."""
    if not _controller().select(user_api="blas").lib_controllers:
        pytest.skip("numpy's BLAS is not one threadpoolctl can set")
    limiter = _controller().limit(limits=2, user_api="blas")
    try:
        yield
    finally:
        limiter.restore_original_limits()


def test_one_thread_inside_and_the_setting_back_after(two_threads: None) -> None:
    with one_blas_thread():
        assert _threads() == 1
        with one_blas_thread():
            assert _threads() == 1
        assert _threads() == 1  # the inner use left the outer's limit in place
    assert _threads() == 2


def test_overlapping_uses_put_the_setting_back_once_all_have_left(two_threads: None) -> None:
    # Two uses that overlap without nesting, as two concurrent questions' do: the first to leave must not lift
    # the limit under the other.
    first, second = one_blas_thread(), one_blas_thread()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert _threads() == 1
    second.__exit__(None, None, None)
    assert _threads() == 2


def test_a_limit_taken_on_one_thread_and_last_left_on_another_is_lifted(two_threads: None) -> None:
    # threadpoolctl 3.8 lets only the thread that set OpenBLAS's limit set it again: the second thread's
    # restore was ignored, and numpy stayed on one thread for good.
    inside, leave = threading.Event(), threading.Event()
    seen: list[int] = []

    def other() -> None:
        with one_blas_thread():
            inside.set()
            leave.wait(5)
            seen.append(_threads())

    first = one_blas_thread()
    first.__enter__()
    worker = threading.Thread(target=other)
    worker.start()
    assert inside.wait(5)
    first.__exit__(None, None, None)
    leave.set()
    worker.join(5)
    assert seen == [1] and _threads() == 2
    with one_blas_thread():  # and this thread may take it again
        assert _threads() == 1
    assert _threads() == 2


class _Recording:
    """An embedder that notes how many BLAS threads numpy has while it encodes."""

    def __init__(self) -> None:
        self.threads: list[tuple[int, int]] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.threads.append((len(texts), _threads()))
        rows = [[float(len(text)), 1.0, float(text.count("e"))] for text in texts]
        vectors = np.asarray(rows, dtype=np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


STORY = (
    "The keeper climbed the tower every night. He trimmed the wick and filled the lamp with oil. "
    "One winter the oil ran short, and the keeper left the lamp to walk to the village."
)


def test_a_question_is_embedded_on_one_thread_and_a_document_on_numpys(two_threads: None) -> None:
    story_index = index_document(STORY, cache=False, ner=False)
    embedder = _Recording()
    attach_embeddings(story_index, embedder, cache=False)
    assert embedder.threads and all(threads == 2 for _, threads in embedder.threads)
    embedder.threads.clear()
    compress(story_index, "Why did the keeper leave the lamp?", 300)
    assert embedder.threads == [(1, 1)]
    assert _threads() == 2
