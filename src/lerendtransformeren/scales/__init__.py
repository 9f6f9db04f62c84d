"""Measurement scales: instrument definitions, one scorer, reliability and change indices.

Instruments are data (``definitions/*.yaml``); see ``docs/instruments.md`` for the list,
their sources and licences, and for how to bring your own licensed key file.
"""

from __future__ import annotations

from lerendtransformeren.scales.bands import Classification, classify
from lerendtransformeren.scales.change import ClinicalCutoffs, clinical_cutoffs, gas_tscore, reliable_change
from lerendtransformeren.scales.instrument import Cutoff, Instrument, Score, TestVector, available, get
from lerendtransformeren.scales.keyfile import load
from lerendtransformeren.scales.reliability import ReliabilityResult, omega_total, reliability
from lerendtransformeren.scales.scoring import check_test_vectors, row_accounting, score

__all__ = [
    "Instrument",
    "Score",
    "Cutoff",
    "TestVector",
    "available",
    "get",
    "load",
    "score",
    "row_accounting",
    "check_test_vectors",
    "reliability",
    "ReliabilityResult",
    "omega_total",
    "reliable_change",
    "clinical_cutoffs",
    "ClinicalCutoffs",
    "gas_tscore",
    "classify",
    "Classification",
]
