"""Answering: retrieve passages, answer from them with citations, evaluate the answers."""
