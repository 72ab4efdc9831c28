"""Answering methods, by name. Each takes an `AskContext` and returns an `Answer`."""

from pearl.methods._base import AskContext, Method
from pearl.methods._direct import answer_direct

__all__ = ["METHODS", "AskContext", "Method", "answer_direct"]

METHODS: dict[str, Method] = {
    "direct": answer_direct,
}
