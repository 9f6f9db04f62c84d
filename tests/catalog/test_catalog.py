"""Every file of the catalog (tests/catalog/cases.py) gives its clear error or documented handling.

No case may pass silently: read without an error and without a note that says what was
found or done.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("_lt_catalog_cases", Path(__file__).with_name("cases.py"))
catalog = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = catalog  # dataclasses look their module up there
_spec.loader.exec_module(catalog)


@pytest.mark.parametrize("case", catalog.CASES, ids=[c.name for c in catalog.CASES])
def test_case(case, tmp_path):
    result = catalog.run(case, tmp_path)
    assert result.outcome == case.outcome, (result.outcome, result.message, result.notes)
    if case.outcome == "error":
        message = result.message
        file_name = case.build(tmp_path).name
        assert file_name in message, message
        assert "\nFix: " in message, message
        assert re.search(case.expect, message, re.S), message
        if case.column is not None:
            assert case.column in message, message
        for row in case.rows:
            assert re.search(rf"\b(rows?|lines?) ([\d, ]*\b)?{row}\b", message), (row, message)
    else:
        assert any(re.search(case.expect, note) for note in result.notes), result.notes
        if case.data is not None:
            assert case.data(result.data), result.data


def test_no_case_passes_silently(tmp_path):
    counts = catalog.summarise(tmp_path)
    expected = {outcome: sum(c.outcome == outcome for c in catalog.CASES) for outcome in catalog.OUTCOMES}
    assert counts["silent"] == 0
    assert {k: counts[k] for k in catalog.OUTCOMES} == expected
    assert sum(counts.values()) == len(catalog.CASES) >= 50
