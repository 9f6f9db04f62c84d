"""Session-wide pytest hooks.

Loads a deterministic hypothesis profile, and records which notebooks the session collected, so that tests/test_notebooks.py can fail
when a notebook under notebooks/ is left out of the nbval run.
"""

from __future__ import annotations

import pytest
from hypothesis import settings

# Property tests draw their examples from a fixed seed, so a run gives the same verdict on
# every machine (determinism of the test suite itself); a new edge case is found by running
# them with --hypothesis-profile=default on demand.
settings.register_profile("deterministic", derandomize=True)
settings.load_profile("deterministic")

COLLECTED_NOTEBOOKS = pytest.StashKey[set]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[COLLECTED_NOTEBOOKS] = set()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # runs before -k/-m deselection, so it sees everything the command collected
    config.stash[COLLECTED_NOTEBOOKS].update(
        item.path.resolve() for item in items if item.path.suffix == ".ipynb"
    )


@pytest.fixture
def collected_notebooks(request: pytest.FixtureRequest) -> set:
    """The notebooks this session collected (resolved paths), before any deselection."""
    return request.config.stash[COLLECTED_NOTEBOOKS]
