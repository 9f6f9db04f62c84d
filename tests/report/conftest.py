"""Shared fixtures of the report tests: the bundled synthetic study, read once."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

DATA = Path(__file__).resolve().parents[2] / "data" / "synthetic"


@pytest.fixture(scope="session")
def families_path() -> Path:
    return DATA / "families.csv"


@pytest.fixture(scope="session")
def families(families_path) -> pd.DataFrame:
    """Families in long format with a simple mastery score (item mean, keys not applied).

    The report functions only need *a* score per row; scoring proper is tested in
    tests/scales.
    """
    frame = pd.read_csv(families_path)
    frame["mastery"] = frame.filter(regex=r"^mastery_\d\d$").mean(axis=1)
    return frame


@pytest.fixture(scope="session")
def identifiers(families) -> set[str]:
    """Every id value of the synthetic families file."""
    cols = ["organisation", "team", "professional", "family"]
    return set(pd.unique(families[cols].to_numpy().ravel()).astype(str))
