"""Count the group-by passes a fit makes over the rows of its data (a benchmark hook).

A *pass* is one call, over an array or frame with at least ``n_rows`` rows, of an
operation that hashes, sorts or segments every row:

* pandas: ``factorize`` (the function and the Series/Index/Categorical methods), the
  Categorical constructor, ``unique``, ``groupby`` (DataFrame and Series), ``drop_duplicates``,
  ``duplicated``, ``sort_values``, ``value_counts``;
* numpy: ``unique``, ``argsort``, ``lexsort``, ``sort``, ``bincount`` and the ``reduceat``
  of ``add``, ``maximum`` and ``minimum`` (as this package calls them: ``np.add.reduceat``).

:func:`count_passes` wraps these while its ``with`` block runs and restores them after;
only the outermost call counts (a pandas ``groupby`` that factorises inside is one pass).
A ``groupby`` is lazy: the call counts as a pass and so does the factorisation it runs
when it is aggregated (an upper bound; the package's fit makes no ``groupby``). Numpy calls
are seen where the package's modules make them, pandas calls wherever they are made.
Each pass is attributed to the innermost function of ``lerendtransformeren`` on the call
stack, so the benchmark can print the passes per step. Used by ``bench_engine.py`` (the
1,000,000-row fit) and by ``tests/multilevel/test_ml_passes.py`` (the same count on a small
frame, so that a change that adds passes fails a test rather than only a benchmark).
"""

from __future__ import annotations

import collections
import contextlib
import functools
import sys
import types

import numpy as np
import pandas as pd
import pandas.core.algorithms as _algos

__all__ = ["count_passes", "PassCount"]

_NUMPY_FUNCS = ("unique", "argsort", "lexsort", "sort", "bincount")
_UFUNCS = ("add", "maximum", "minimum")
_PANDAS_METHODS = [
    (pd.DataFrame, ("groupby", "drop_duplicates", "duplicated", "sort_values", "value_counts")),
    (pd.Series, ("groupby", "drop_duplicates", "duplicated", "sort_values", "value_counts", "unique", "factorize")),
    (pd.Index, ("unique", "factorize", "drop_duplicates", "duplicated", "sort_values", "value_counts")),
    (pd.Categorical, ("__init__",)),
]


class PassCount:
    """Passes seen: ``total`` and ``by_step`` ({(function, operation): count})."""

    def __init__(self, n_rows: int):
        self.n_rows = int(n_rows)
        self.by_step: collections.Counter = collections.Counter()
        self._depth = 0

    @property
    def total(self) -> int:
        return sum(self.by_step.values())

    def table(self) -> str:
        """One line per (function of the package, operation), most passes first."""
        width = max((len(f) for f, _ in self.by_step), default=10)
        return "\n".join(f"  {fn:<{width}}  {op:<28} {k:3d}" for (fn, op), k in self.by_step.most_common())

    def _rows(self, obj) -> int:
        if isinstance(obj, (pd.DataFrame, pd.Series, pd.Index, pd.Categorical)):
            return len(obj)
        if isinstance(obj, np.ndarray):
            return obj.shape[0] if obj.ndim else 0
        if isinstance(obj, (list, tuple)) and obj and isinstance(obj[0], np.ndarray):  # lexsort keys
            return obj[0].shape[-1]
        return 0

    def _record(self, op: str) -> None:
        frame = sys._getframe(2)
        where = "(outside the package)"
        while frame is not None:
            mod = frame.f_globals.get("__name__", "")
            if mod.startswith("lerendtransformeren"):
                where = f"{mod.rsplit('.', 1)[-1]}.{frame.f_code.co_name}"
                break
            frame = frame.f_back
        self.by_step[(where, op)] += 1

    def wrap(self, fn, op: str, first_arg: int = 0):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            outer = self._depth == 0
            if outer and len(args) > first_arg and self._rows(args[first_arg]) >= self.n_rows:
                self._record(op)
            self._depth += 1
            try:
                return fn(*args, **kwargs)
            finally:
                self._depth -= 1

        return wrapper


class _UfuncProxy:
    """A ufunc whose ``reduceat`` is counted; everything else is the ufunc's own."""

    def __init__(self, ufunc, counter: PassCount):
        self._ufunc = ufunc
        self.reduceat = counter.wrap(ufunc.reduceat, f"np.{ufunc.__name__}.reduceat")

    def __call__(self, *args, **kwargs):
        return self._ufunc(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._ufunc, name)


def _numpy_proxy(counter: PassCount) -> types.ModuleType:
    proxy = types.ModuleType("numpy")
    proxy.__dict__.update(np.__dict__)
    for name in _NUMPY_FUNCS:
        setattr(proxy, name, counter.wrap(getattr(np, name), f"np.{name}"))
    for name in _UFUNCS:
        setattr(proxy, name, _UfuncProxy(getattr(np, name), counter))
    return proxy


@contextlib.contextmanager
def count_passes(n_rows: int):
    """Count the passes over ``n_rows`` or more rows made inside the ``with`` block.

    Numpy calls are counted where the package's modules make them (their ``np`` is
    swapped for a counting proxy); pandas calls wherever they are made (the methods and
    ``factorize`` are wrapped in pandas itself). Everything is restored on exit.

    Examples
    --------
    >>> with count_passes(len(d)) as passes:  # doctest: +SKIP
    ...     fit("y ~ wave + (1 | org/team/person)", d).fixed
    >>> passes.total  # doctest: +SKIP
    """
    counter = PassCount(n_rows)
    proxy = _numpy_proxy(counter)
    restore: list[tuple[object, str, object]] = []
    absent = object()

    def swap(owner, name, value):
        restore.append((owner, name, owner.__dict__.get(name, absent)))
        setattr(owner, name, value)

    import lerendtransformeren  # noqa: F401 (the modules whose numpy is swapped)

    for mod in list(sys.modules.values()):
        if getattr(mod, "__name__", "").startswith("lerendtransformeren") and getattr(mod, "np", None) is np:
            swap(mod, "np", proxy)
    swap(pd, "factorize", counter.wrap(pd.factorize, "pd.factorize"))
    swap(_algos, "factorize", counter.wrap(_algos.factorize, "pd.factorize"))
    swap(_algos, "unique", counter.wrap(_algos.unique, "pd.unique"))
    for cls, names in _PANDAS_METHODS:
        for name in names:
            first = 0 if name != "__init__" else 1
            swap(cls, name, counter.wrap(cls.__dict__.get(name, getattr(cls, name)),
                                         f"{cls.__name__}.{name.strip('_') or name}", first))
    try:
        yield counter
    finally:
        for owner, name, value in reversed(restore):
            if value is absent:
                delattr(owner, name)  # an inherited method: the subclass had none of its own
            else:
                setattr(owner, name, value)
