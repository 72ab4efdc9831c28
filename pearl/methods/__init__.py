"""Answering methods, by name. Each takes an `AskContext` and returns an `Answer`."""

from pearl.methods._base import AskContext, Method
from pearl.methods._direct import answer_direct
from pearl.methods._plan_execute import answer_pearl, answer_pearl_fulldoc
from pearl.methods._rag import answer_rag

__all__ = ["METHODS", "AskContext", "Method", "answer_direct", "answer_pearl", "answer_pearl_fulldoc", "answer_rag"]

METHODS: dict[str, Method] = {
    "pearl": answer_pearl,
    "direct": answer_direct,
    "rag": answer_rag,
    "pearl-fulldoc": answer_pearl_fulldoc,
}
