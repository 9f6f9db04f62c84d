"""requirements/floors.txt pins exactly the floors that pyproject.toml states.

``make test-floors`` installs the package with ``-c requirements/floors.txt`` and runs the
unit tests there, so a floor in pyproject.toml is only tested while the floors file pins
that same version. The check is generic: every run-time dependency, and every dependency
of an extra that users install for a feature (all extras except the tool extras below),
needs one ``>=`` floor, and the floors file holds exactly one ``==`` pin per such
dependency, equal to its floor, and nothing else.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
FLOORS = ROOT / "requirements" / "floors.txt"
TOOL_EXTRAS = frozenset({"test", "docs", "notebooks"})  # tools for developers, not pinned


def stated_floors(pyproject: str) -> dict[str, Version]:
    """Package -> floor from a pyproject.toml text; raises ValueError naming what is wrong."""
    project = tomllib.loads(pyproject)["project"]
    requirements = list(project.get("dependencies", []))
    for extra, listed in project.get("optional-dependencies", {}).items():
        if extra not in TOOL_EXTRAS:
            requirements += listed
    floors: dict[str, Version] = {}
    for text in requirements:
        req = Requirement(text)
        name = canonicalize_name(req.name)
        if name == canonicalize_name(project["name"]):
            continue  # one extra pulling in another
        lows = [Version(spec.version) for spec in req.specifier if spec.operator == ">="]
        if len(lows) != 1:
            raise ValueError(f"dependency {text!r} in pyproject.toml needs exactly one floor ('>='), has {len(lows)}")
        if name in floors and floors[name] != lows[0]:
            raise ValueError(f"{name} has two floors in pyproject.toml: {floors[name]} and {lows[0]}")
        floors[name] = lows[0]
    return floors


def pinned(floors_txt: str) -> dict[str, Version]:
    """Package -> pinned version from a floors file; raises ValueError on anything but ``==``."""
    pins: dict[str, Version] = {}
    for number, raw in enumerate(floors_txt.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        req = Requirement(line)
        specs = list(req.specifier)
        if len(specs) != 1 or specs[0].operator != "==" or req.extras or req.marker:
            raise ValueError(f"floors.txt line {number} ({raw.strip()!r}) must be one exact pin 'name==version'")
        name = canonicalize_name(req.name)
        if name in pins:
            raise ValueError(f"floors.txt pins {name} twice (line {number})")
        pins[name] = Version(specs[0].version)
    return pins


def test_floors_file_pins_exactly_the_floors_of_pyproject():
    stated = stated_floors((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    pins = pinned(FLOORS.read_text(encoding="utf-8"))
    missing = {name: str(v) for name, v in stated.items() if name not in pins}
    extra = sorted(set(pins) - set(stated))
    differ = {name: (str(pins[name]), str(v)) for name, v in stated.items() if name in pins and pins[name] != v}
    assert not (missing or extra or differ), (
        "requirements/floors.txt and the floors in pyproject.toml differ; make them equal and run "
        f"`make test-floors`. Not pinned: {missing}; pinned but not a dependency: {extra}; "
        f"pinned != floor: {differ}"
    )


def test_the_check_catches_drift():
    pyproject = """
[project]
name = "pkg"
dependencies = ["numpy>=2.3", "pandas>=2.2.2"]
[project.optional-dependencies]
test = ["pytest>=8", "pkg[docs]"]
docs = ["sphinx>=8.1"]
dask = ["dask[distributed]>=2024.1"]
"""
    stated = stated_floors(pyproject)
    assert stated == {"numpy": Version("2.3"), "pandas": Version("2.2.2"), "dask": Version("2024.1")}
    assert pinned("numpy==2.3.0  # floor\nPandas==2.2.2\ndask==2024.1.0\n") == stated
    assert pinned("numpy==2.3.0\npandas==2.2.2\n") != stated  # a dependency left out
    assert pinned("numpy==2.4\npandas==2.2.2\ndask==2024.1\n") != stated  # a floor moved


@pytest.mark.parametrize("text", ["numpy>=2.3", "numpy==2.3\nnumpy==2.3", "dask[distributed]==2024.1"])
def test_floors_file_takes_exact_pins_only(text):
    with pytest.raises(ValueError, match="floors.txt"):
        pinned(text)


def test_a_dependency_without_a_floor_is_an_error():
    with pytest.raises(ValueError, match="'numpy'.*floor"):
        stated_floors('[project]\nname = "pkg"\ndependencies = ["numpy"]\n')
