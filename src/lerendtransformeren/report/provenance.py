"""How a report was made: package version, git commit, input checksums, seed, versions.

Every report carries a :class:`Provenance` block so that a reader can reproduce it. The
date is an argument, never read from the clock here, so that a report can be made
byte-for-byte again (tests pass a fixed date; the command line passes today's).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import platform
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from lerendtransformeren.lang import Label
from lerendtransformeren.report.display import provenance_view

__all__ = ["KEY_LIBRARIES", "Provenance", "collect_provenance", "sha256_file", "git_commit"]

#: Distributions whose versions every report lists (distribution names, as pip knows them).
KEY_LIBRARIES: tuple[str, ...] = (
    "numpy",
    "pandas",
    "scipy",
    "statsmodels",
    "pingouin",
    "matplotlib",
    "seaborn",
    "jinja2",
    "python-docx",
)

_PACKAGE_FILE = Path(__file__).resolve().parents[1] / "__init__.py"


def sha256_file(path: str | Path) -> str:
    """SHA-256 of a file's bytes, as 64 hex digits.

    Parameters
    ----------
    path : path

    Returns
    -------
    str

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.NamedTemporaryFile(delete=False) as f:
    ...     _ = f.write(b"abc")
    >>> sha256_file(f.name)[:16]
    'ba7816bf8f01cfea'
    >>> os.remove(f.name)
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _git(args: Sequence[str], cwd: Path) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def git_commit(path: str | Path = _PACKAGE_FILE) -> str | None:
    """The commit of the git checkout that holds ``path`` (default: this package).

    Parameters
    ----------
    path : path, optional
        A file tracked in the checkout; default the package's ``__init__.py``.

    Returns
    -------
    str or None
        The commit hash, with ``-dirty`` appended when tracked files have uncommitted
        changes. None when git is missing, ``path`` is not in a git checkout, or the file
        is not tracked there (an installed package inside someone else's repository).
    """
    path = Path(path).resolve()
    folder = path if path.is_dir() else path.parent
    if _git(["ls-files", "--error-unmatch", str(path)], folder) is None:
        return None
    commit = _git(["rev-parse", "HEAD"], folder)
    if commit is None:
        return None
    status = _git(["status", "--porcelain", "--untracked-files=no"], folder)
    return commit + ("-dirty" if status else "")


def _version(dist: str) -> str | None:
    try:
        return version(dist)
    except PackageNotFoundError:
        return None


@dataclass(frozen=True)
class Provenance:
    """The provenance block of a report.

    Attributes
    ----------
    package_version : str
    git_commit : str or None
        None when not run from a git checkout.
    inputs : tuple of (name, sha256)
        Every input file by name (not full path, which may reveal a user's folders) and
        checksum.
    seed : int or None
    date : datetime.date
    python : str
    libraries : tuple of (name, version)
    """

    package_version: str
    git_commit: str | None
    inputs: tuple[tuple[str, str], ...]
    seed: int | None
    date: _dt.date
    python: str
    libraries: tuple[tuple[str, str], ...]

    def __repr__(self) -> str:
        return provenance_view(self).text()

    def _repr_html_(self) -> str:
        return provenance_view(self).html()

    def items(self, lang: str) -> list[tuple[str, str]]:
        """The block as (label, value) pairs in ``lang``, for any output format."""
        rows = [("lerendtransformeren", self.package_version)]
        if self.git_commit:
            rows.append((Label("Git-commit", "Git commit").pick(lang), self.git_commit))
        for name, digest in self.inputs:
            rows.append((f"SHA-256 {name}", digest))
        if self.seed is not None:
            rows.append(("Seed", str(self.seed)))
        rows.append((Label("Datum", "Date").pick(lang), self.date.isoformat()))
        rows.append(("Python", self.python))
        rows += [(name, ver) for name, ver in self.libraries]
        return rows


def collect_provenance(
    *,
    date: _dt.date | str,
    inputs: Iterable[str | Path] = (),
    seed: int | None = None,
    libraries: Iterable[str] = KEY_LIBRARIES,
) -> Provenance:
    """Collect the provenance of a report made now, from these inputs.

    Parameters
    ----------
    date : datetime.date or str
        Date of the report (ISO ``YYYY-MM-DD`` if a string). Passed in, not read from the
        clock, so that reports can be reproduced exactly.
    inputs : iterable of path
        Input files; each is listed by file name with its SHA-256.
    seed : int, optional
        Seed of any randomness in the analysis.
    libraries : iterable of str
        Distributions to list with their versions (absent ones are left out).

    Returns
    -------
    Provenance

    Examples
    --------
    >>> p = collect_provenance(date="2026-11-23", seed=20261123)
    >>> dict(p.items("en"))["Date"], dict(p.items("nl"))["Seed"]
    ('2026-11-23', '20261123')
    """
    if isinstance(date, str):
        date = _dt.date.fromisoformat(date)
    elif isinstance(date, _dt.datetime):
        date = date.date()
    files = [Path(p) for p in inputs]
    return Provenance(
        package_version=_version("lerendtransformeren") or "0.0.0+unknown",
        git_commit=git_commit(),
        inputs=tuple((f.name, sha256_file(f)) for f in files),
        seed=seed,
        date=date,
        python=platform.python_version(),
        libraries=tuple((lib, v) for lib in libraries if (v := _version(lib)) is not None),
    )
