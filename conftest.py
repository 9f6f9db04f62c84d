"""Session-wide pytest hooks.

Records which notebooks the session collected, so that tests/test_notebooks.py can fail
when a notebook under notebooks/ is left out of the nbval run.
"""

from __future__ import annotations

import pytest

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
