"""Scoring dictionaries (SAEs, decompositions) against networks whose mechanism is known."""

from .dictionary import Dictionary, as_dictionary
from .metrics import Chance, Score, chance, random_dictionary, score, truth_dictionary
from .truth import Truth, cis2_truth, network_truth

__all__ = [
    "Chance",
    "Dictionary",
    "Score",
    "Truth",
    "as_dictionary",
    "chance",
    "cis2_truth",
    "network_truth",
    "random_dictionary",
    "score",
    "truth_dictionary",
]
