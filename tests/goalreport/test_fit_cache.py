"""FitCache.fitting: worker processes fit while the caller goes on, with the same numbers."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from lerendtransformeren.goalreport import FitCache, LmmSpec, ReliabilitySpec, load_study
from lerendtransformeren.goalreport.fits import fit_spec, rows_for

FORMULA = "{} ~ C(wave) + C(goal) + C(goal):offer + (1 | organisation/team/professional)"


@pytest.fixture(scope="module")
def study():
    return load_study()


def _specs():
    return [
        LmmSpec("professional", "uwes9_total", FORMULA.format("uwes9_total")),
        LmmSpec("professional", "burden_mean", FORMULA.format("burden_mean")),
        ReliabilitySpec("professional", "collab", 4, 20261123),
    ]


def _same(a, b) -> None:
    assert a.error == b.error and a.singular == b.singular
    if isinstance(a.result, pd.DataFrame) or hasattr(a.result, "fixed"):
        left = a.result if isinstance(a.result, pd.DataFrame) else a.result.fixed
        right = b.result if isinstance(b.result, pd.DataFrame) else b.result.fixed
        pd.testing.assert_frame_equal(left, right, check_exact=True)
    else:  # reliability
        pd.testing.assert_frame_equal(a.result.scales, b.result.scales, check_exact=True)


def test_workers_give_the_numbers_of_a_fit_in_this_process(study):
    cache = FitCache(study)
    with cache.fitting(_specs(), jobs=2) as todo:
        assert todo == _specs() and set(cache.pending) == set(_specs())
        fitted = [cache.get(spec) for spec in reversed(todo)]  # any order
        assert not cache.pending
    serial = FitCache(study)
    for spec, result in zip(reversed(_specs()), fitted):
        assert result.error == ""
        _same(result, serial.get(spec))
        _same(result, fit_spec(spec, rows_for(study, spec)))


def test_leaving_early_stops_the_workers_and_a_spec_is_fitted_later(study):
    cache = FitCache(study)
    first, *rest = _specs()
    with cache.fitting(_specs(), jobs=2):
        cache.get(first)
    assert not cache.pending and set(cache.results) == {first}
    _same(cache.get(rest[0]), fit_spec(rest[0], rows_for(study, rest[0])))
    with pytest.raises(RuntimeError, match="boom"), cache.fitting(_specs(), jobs=2):
        raise RuntimeError("boom")
    assert not cache.pending


def test_cached_specs_are_not_fitted_again_and_one_job_starts_no_workers(study):
    cache = FitCache(study)
    spec = _specs()[0]
    cache.results[spec] = marker = object()
    with cache.fitting(_specs(), jobs=2) as todo:
        assert spec not in todo and cache.get(spec) is marker
    with cache.fitting(_specs(), jobs=1) as todo:
        assert todo == _specs()[1:] and not cache.pending  # fitted in this process on get()
    assert cache.prefit(_specs(), jobs=1) == 2 and set(cache.results) == set(_specs())


def test_the_main_job_starts_its_workers_before_the_report_layer_loads():
    code = ("import sys; from lerendtransformeren.goalreport import run_reports, FitCache; "
            "print(sorted(m for m in ('matplotlib', 'docx', 'jinja2') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    code = "from lerendtransformeren.goalreport import build_goal_report, OverviewResults; print('ok')"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "ok\n"
