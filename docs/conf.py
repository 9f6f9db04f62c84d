"""Sphinx configuration: the API reference from the numpydoc docstrings, and the Markdown
pages (README, architecture, instruments, own study, changelog, contributing) through
MyST. Build with ``make docs`` (warnings are errors); tests/test_docs.py builds it too."""

from __future__ import annotations

import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))
if (HERE.parent / "src" / "lerendtransformeren").is_dir():  # the source tree, installed or not
    sys.path.insert(0, str(HERE.parent / "src"))

project = "lerendtransformeren"
author = "lerendtransformeren contributors"
copyright = "lerendtransformeren contributors, BSD-3-Clause"
try:
    release = version("lerendtransformeren")
except PackageNotFoundError:  # building from a source tree without installation
    release = "0.0.0+unknown"
version = release
language = "en"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "myst_parser",
    "lt_api",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "_ext", ".gitignore"]
root_doc = "index"

# autodoc: members come from each module's __all__ (lt_api lists the modules); the
# signature keeps its type hints, the numpydoc sections say the rest.
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
autosummary_generate = False  # summary tables only: nothing is written into docs/
numpydoc_show_class_members = False  # autodoc documents the members itself
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True

myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]

html_theme = "furo"
html_title = f"lerendtransformeren {release}"
html_static_path: list[str] = []
html_show_sourcelink = False
