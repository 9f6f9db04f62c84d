"""A user's own key file: read it and check it by scoring its test vectors.

:func:`load` sits above both :mod:`~lerendtransformeren.scales.instrument` (the YAML schema
and the registry) and :mod:`~lerendtransformeren.scales.scoring` (which scores the test
vectors), so that neither of those imports the other both ways.
"""

from __future__ import annotations

from pathlib import Path

from lerendtransformeren.exceptions import SpecificationError
from lerendtransformeren.scales.instrument import Instrument, _read_yaml
from lerendtransformeren.scales.scoring import check_test_vectors

__all__ = ["load"]


def load(path: str | Path) -> Instrument:
    """Read a user's own key file (same YAML schema) and check its test vectors.

    The returned :class:`Instrument` is not added to the shipped registry; pass it to
    :func:`~lerendtransformeren.scales.score` directly. Its test vectors are scored on
    loading, so a wrong reverse key or item list is caught before any data are scored.

    Parameters
    ----------
    path : str or pathlib.Path
        Path of the YAML key file.

    Returns
    -------
    Instrument

    Raises
    ------
    SpecificationError
        The file is missing, malformed, or its test vectors do not reproduce.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from lerendtransformeren import scales
    >>> key = '''
    ... code: my_scale
    ... name: {nl: mijn schaal, en: my scale}
    ... construct: example
    ... items: {prefix: my, n: 3}
    ... response: {min: 1, max: 5}
    ... reverse: [3]
    ... scores: {total: {items: all, aggregation: mean, min_answered: 2}}
    ... citation: own design
    ... licence: own
    ... verified: {status: true, source: own design}
    ... goals: [1]
    ... test_vectors: [{items: [5, 4, 1], expected: {total: 4.6666666667}}]
    ... '''
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "my_key.yaml"
    >>> _ = path.write_text(key)
    >>> inst = scales.load(path)
    >>> inst.reverse
    ('my_03',)
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecificationError(f"{path}: cannot read the key file ({exc}). Check the path.") from exc
    inst = _read_yaml(text, str(path))
    failures = check_test_vectors(inst)
    if failures:
        raise SpecificationError(f"{path}: field 'test_vectors': " + "; ".join(failures) + ". Fix the key or the vector.")
    return inst
