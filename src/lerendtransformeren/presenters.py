"""Presenters: how a statistics result reaches the words and figures that show it.

The statistics layer (:mod:`~lerendtransformeren.scales`, :mod:`~lerendtransformeren.multilevel`)
computes; the presentation layer (:mod:`~lerendtransformeren.report`) writes sentences,
formats numbers and draws figures. A result object offers ``result.report(...)`` or
``curve.plot()`` for convenience, but it must not import the presentation layer (that
would make the layers depend on each other both ways). It calls :func:`present` with a
*kind* instead, and the presentation layer registers a function for that kind with
:func:`register`::

    # in lerendtransformeren/report/text.py
    @register("multilevel.report")
    def model_report(result, lang="nl", *, labels=None): ...

    # in lerendtransformeren/multilevel/results.py
    def report(self, lang="nl", *, labels=None):
        return present("multilevel.report", self, lang=lang, labels=labels)

Plug-in point
-------------
When :func:`present` meets a kind that nobody has registered yet, it imports the module
named by :data:`PLUGIN`, ``"lerendtransformeren.report"``, once, and looks again. That
string is the package's one documented plug-in point: the only place where a lower layer
names a higher one, by name and at run time, never with an ``import`` statement. Importing
the report package registers every presenter the package ships. So fitting a model or
scoring a questionnaire does not load matplotlib, and ``import lerendtransformeren`` stays
light; the first ``result.report()`` loads the report layer.

A presenter registered later for the same kind replaces the earlier one (a reloaded module,
or a user who wants other words); :func:`registered` lists the kinds.

This module sits at the bottom of the package (with :mod:`~lerendtransformeren.exceptions`
and :mod:`~lerendtransformeren.lang`): it imports only those and the standard library.

Examples
--------
>>> from lerendtransformeren.presenters import present, register
>>> @register("example.shout")
... def shout(obj, *, times=1):
...     return str(obj).upper() + "!" * times
>>> present("example.shout", "hallo", times=2)
'HALLO!!'
>>> present("example.unknown", 1)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
lerendtransformeren.exceptions.SpecificationError: No presenter for 'example.unknown'...
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, TypeVar

from lerendtransformeren.exceptions import SpecificationError

__all__ = ["PLUGIN", "register", "present", "registered"]

#: The module :func:`present` imports, once, to find a presenter not registered yet.
PLUGIN = "lerendtransformeren.report"

_F = TypeVar("_F", bound=Callable[..., Any])
_PRESENTERS: dict[str, Callable[..., Any]] = {}
_plugin_loaded = False


def register(kind: str) -> Callable[[_F], _F]:
    """Decorator: make the function the presenter of ``kind``.

    Parameters
    ----------
    kind : str
        A dotted name such as ``"multilevel.report"``.

    Returns
    -------
    callable
        The decorator; it returns the function unchanged.

    Raises
    ------
    SpecificationError
        If ``kind`` is not a non-empty string.
    """
    if not isinstance(kind, str) or not kind:
        raise SpecificationError(f"A presenter kind is a non-empty string, got {kind!r}.")

    def decorator(func: _F) -> _F:
        _PRESENTERS[kind] = func
        return func

    return decorator


def present(kind: str, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
    """Show ``obj`` with the presenter registered for ``kind``: ``presenter(obj, *args, **kwargs)``.

    If no presenter is registered for ``kind``, the module :data:`PLUGIN` is imported (once)
    and the registry is searched again.

    Raises
    ------
    SpecificationError
        If no presenter is registered for ``kind``, also after loading :data:`PLUGIN`.
    """
    func = _PRESENTERS.get(kind)
    if func is None:
        _load_plugin()
        func = _PRESENTERS.get(kind)
    if func is None:
        known = ", ".join(sorted(_PRESENTERS)) or "none"
        raise SpecificationError(
            f"No presenter for {kind!r}; registered kinds: {known}. Register one with "
            f"@lerendtransformeren.presenters.register({kind!r})."
        )
    return func(obj, *args, **kwargs)


def registered() -> tuple[str, ...]:
    """The kinds with a presenter, sorted (without loading :data:`PLUGIN`)."""
    return tuple(sorted(_PRESENTERS))


def _load_plugin() -> None:
    global _plugin_loaded
    if not _plugin_loaded:
        importlib.import_module(PLUGIN)
        _plugin_loaded = True
