"""What ``import lerendtransformeren`` loads, and that the lazy names still work.

The package facade and ``multilevel`` load their names on first use (PEP 562 module
``__getattr__``): importing the package loads no scipy, statsmodels or matplotlib; ``lt.fit``
loads scipy but not statsmodels; ``lt.scales`` loads neither. Each check runs in a fresh
interpreter, since this process has loaded everything already. Untimed: the time itself is
``benchmarks/bench_import.py``'s business.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

import lerendtransformeren as lt
from lerendtransformeren import multilevel

HEAVY = ("numpy", "pandas", "scipy", "statsmodels", "matplotlib", "seaborn", "docx", "jinja2",
         "formulaic", "openpyxl", "pyreadstat", "yaml", "pingouin", "joblib")


def fresh(code: str) -> dict:
    """Run ``code`` in a fresh interpreter; it sets ``out`` (a dict), to which the heavy
    libraries then in ``sys.modules`` are added as ``loaded``."""
    script = textwrap.dedent(code) + textwrap.dedent(f"""
        import json, sys
        out["loaded"] = [m for m in {HEAVY!r} if m in sys.modules]
        print(json.dumps(out))
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.splitlines()[-1])


def test_importing_the_package_loads_no_heavy_library_and_fit_still_works():
    out = fresh("""
        import sys
        import lerendtransformeren as lt
        out = {"after_import": [m for m in ("numpy", "pandas", "scipy", "statsmodels", "matplotlib")
                                if m in sys.modules]}
        from lerendtransformeren.synthetic import nested_example
        m = lt.fit("y ~ wave + (1 | org/team)", nested_example())
        out["estimate"] = m.fixed["estimate"].tolist()
        out["df"] = m.fixed["df"].tolist()
    """)
    assert out["after_import"] == []
    # a fit needs scipy (optimiser, t distribution) and formulaic, never statsmodels or the report layer
    assert {"scipy", "formulaic"} <= set(out["loaded"])
    assert not {"statsmodels", "matplotlib", "docx", "jinja2"} & set(out["loaded"])
    # the same numbers as the fit made in this process through the defining module
    from lerendtransformeren.multilevel.fitting import fit
    from lerendtransformeren.synthetic import nested_example

    here = fit("y ~ wave + (1 | org/team)", nested_example()).fixed
    assert out["estimate"] == pytest.approx(here["estimate"].tolist(), rel=1e-12)
    assert out["df"] == pytest.approx(here["df"].tolist(), rel=1e-9)


def test_scoring_loads_neither_scipy_nor_statsmodels():
    out = fresh("""
        import pandas as pd
        import lerendtransformeren as lt
        items = pd.DataFrame({f"mastery_{k:02d}": [1, 2, 3, 4] for k in range(1, 8)})
        out = {"score": lt.scales.score(items, "mastery")["mastery_total"].tolist()}
    """)
    import pandas as pd

    items = pd.DataFrame({f"mastery_{k:02d}": [1, 2, 3, 4] for k in range(1, 8)})
    assert out["score"] == lt.scales.score(items, "mastery")["mastery_total"].tolist()
    assert len(set(out["score"])) == 4
    assert "pandas" in out["loaded"]  # the check sees what is loaded
    assert not {"scipy", "statsmodels", "matplotlib", "formulaic"} & set(out["loaded"])


def test_gee_loads_statsmodels_on_first_use():
    out = fresh("import lerendtransformeren as lt\nlt.fit_gee\nout = {}\n")
    assert "statsmodels" in out["loaded"]


def test_the_command_line_help_loads_no_heavy_library():
    out = fresh("""
        import contextlib, io
        from lerendtransformeren.cli import main
        text = io.StringIO()
        with contextlib.redirect_stdout(text), contextlib.suppress(SystemExit):
            main(["--help"])
        out = {"help": text.getvalue()}
    """)
    assert "generate" in out["help"] and "report" in out["help"]
    assert out["loaded"] == []


@pytest.mark.parametrize("package", [lt, multilevel], ids=lambda p: p.__name__)
def test_every_public_name_resolves_to_the_object_of_its_module(package):
    names = [n for n in package.__all__ if n != "__version__"]
    assert set(package.__all__) <= set(dir(package))
    for name in names:
        value = getattr(package, name)
        assert value is not None
        namespace: dict = {}
        exec(f"from {package.__name__} import {name} as value", namespace)
        assert namespace["value"] is value, name
        home = getattr(value, "__module__", None)  # functions and classes: their defining module
        if isinstance(home, str) and home.startswith("lerendtransformeren."):
            assert getattr(sys.modules[home], name) is value, name


def test_the_facade_names_what_it_holds():
    from lerendtransformeren import design, io
    from lerendtransformeren.multilevel.fitting import fit

    assert lt.fit is fit and lt.multilevel.fit is fit
    assert lt.read_table is io.read_table and lt.GOALS is design.GOALS
    assert lt.multilevel.simulation.__name__ == "lerendtransformeren.multilevel.simulation"
    assert lt.multilevel.power.__name__ == "lerendtransformeren.multilevel.power"  # any submodule
    assert callable(lt.scales.reliability)  # the function, not the module of the same name
    assert isinstance(lt.__version__, str) and lt.__version__
    for package in (lt, multilevel):
        with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
            package.no_such_name  # noqa: B018
        with pytest.raises(ImportError):
            exec(f"from {package.__name__} import no_such_name", {})
