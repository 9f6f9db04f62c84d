"""A study's data, read and scored once: the files of the data contract as frames.

:func:`load_study` reads a study folder (or makes the bundled synthetic study) and scores
every instrument the programme measures; :class:`StudyData` holds the result, the files
read and the scales that could not be scored. The layers above (the goal reports) keep
their fitted models in :attr:`StudyData.cache`, so one loaded study serves every report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from lerendtransformeren import scales
from lerendtransformeren.display import Grid, View, count, display_lang
from lerendtransformeren.exceptions import DataError
from lerendtransformeren.study.definition import StudyDefinition, definition_for_folder, read_definition
from lerendtransformeren.study.gate import read_study_files
from lerendtransformeren.study.programme import LERENDTRANSFORMEREN, Programme

__all__ = ["BUNDLED", "StudyData", "load_study", "as_study"]

#: The bundled synthetic study (absent in an installed package; then it is made in memory).
BUNDLED = Path(__file__).resolve().parents[3] / "data" / "synthetic"


@dataclass
class StudyData:
    """The data of a study, scored once.

    Attributes
    ----------
    organisations, families, professionals, activities : pandas.DataFrame
        The files of the data contract; ``families`` and ``professionals`` carry the
        scale scores as extra columns. Absent files are empty frames.
    inputs : list of Path
        The files read (for the provenance block); empty for a study made in memory.
    source : str
        Where the data came from, in words.
    synthetic : bool
        True for the bundled synthetic (fictitious) study.
    missing_scales : dict
        Instrument code -> reason it could not be scored (items absent).
    programme : Programme
        The programme whose measures were scored.
    cache : dict
        Results of the layers above (fitted models), keyed by what was computed.
    notes : tuple of str
        What the gate changed or noticed while reading (per file), for the data section.
    definition : StudyDefinition or None
        The study definition the data were read by (None for a study made in memory).
    """

    organisations: pd.DataFrame
    families: pd.DataFrame
    professionals: pd.DataFrame
    activities: pd.DataFrame
    inputs: list[Path] = field(default_factory=list)
    source: str = ""
    synthetic: bool = False
    missing_scales: dict[str, str] = field(default_factory=dict)
    programme: Programme = LERENDTRANSFORMEREN
    cache: dict = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    definition: StudyDefinition | None = None

    def __repr__(self) -> str:
        return self._view().text()

    def _repr_html_(self) -> str:
        return self._view().html()

    def _view(self) -> View:
        """The files with their sizes, the goals, what could not be scored and the gate's notes."""
        names = ("organisations", "professionals", "families", "activities")
        rows = [[name, count(len(getattr(self, name))), count(getattr(self, name).shape[1])] for name in names]
        facts = [("Programme", self.programme.name.pick(display_lang())),
                 ("Goals", ", ".join(map(str, self.goals())) or "none")]
        if self.missing_scales:
            facts.append(("Not scored", "; ".join(f"{k}: {v}" for k, v in self.missing_scales.items())))
        if self.synthetic:
            facts.append(("Synthetic", "yes: fictitious data with a known truth"))
        return View(f"StudyData: {self.source or 'made in memory'}",
                    facts=facts, grids=[Grid(["Table", "Rows", "Columns"], rows)], notes=list(self.notes),
                    hint="More: .families, .professionals, ... (scored data frames), .goals(), .of_goal(respondent, goal)")

    @property
    def identifiers(self) -> frozenset[str]:
        """Every value of every id column in the data (they may never be shown)."""
        if "identifiers" not in self.cache:
            values: set[str] = set()
            for frame in (self.organisations, self.families, self.professionals, self.activities):
                for col in self.programme.id_columns:
                    if col in frame.columns:
                        values.update(str(v) for v in frame[col].dropna().unique())
            self.cache["identifiers"] = frozenset(values)
        return self.cache["identifiers"]

    def goals(self) -> list[int]:
        """Goals with at least one organisation or respondent in the data."""
        found: set[int] = set()
        for frame in (self.organisations, self.families, self.professionals):
            if "goal" in frame.columns:
                found.update(int(g) for g in frame["goal"].dropna().unique())
        return sorted(found)

    def frame(self, respondent: str) -> pd.DataFrame:
        """The long file of a respondent kind (``"family"`` or ``"professional"``)."""
        return self.families if respondent == "family" else self.professionals

    def of_goal(self, respondent: str, goal: int) -> pd.DataFrame:
        """The rows of one goal in a respondent kind's file."""
        frame = self.frame(respondent)
        return frame.loc[frame["goal"] == goal] if not frame.empty else frame


def _score_frame(frame: pd.DataFrame, codes: Sequence[str], missing: dict[str, str]) -> pd.DataFrame:
    if frame.empty:
        return frame
    usable = []
    for code in codes:
        inst = scales.get(code)
        absent = [item for item in inst.items if item not in frame.columns]
        if absent:
            missing[code] = f"{len(absent)} of {len(inst.items)} items absent (e.g. {absent[0]})"
        else:
            usable.append(code)
    if not usable:
        return frame
    scored = scales.score(frame, usable)
    keep = [c for c in scored.columns if not c.endswith("_n_answered")]
    return pd.concat([frame, scored[keep]], axis=1)


def _derive_organisations(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """organisations.csv from the long files: goal and start wave (first wave with offer)."""
    parts = [f[["goal", "organisation", "wave", "offer"]] for f in frames
             if {"goal", "organisation", "wave", "offer"} <= set(f.columns)]
    if not parts:
        return pd.DataFrame(columns=["goal", "organisation", "start_wave"])
    long = pd.concat(parts)
    start = long.loc[long["offer"] == 1].groupby("organisation")["wave"].min()
    orgs = long.groupby("organisation")["goal"].first().to_frame()
    orgs["start_wave"] = start.reindex(orgs.index)
    return orgs.reset_index()


def _study_from_frames(frames: dict[str, pd.DataFrame], inputs, source, *, synthetic: bool,
                       programme: Programme) -> StudyData:
    missing: dict[str, str] = {}
    fam = frames.get("families", pd.DataFrame())
    pro = frames.get("professionals", pd.DataFrame())
    for name, frame in (("families", fam), ("professionals", pro)):
        if not frame.empty:
            need = [c for c in ("goal", "organisation", "team", "wave", "offer") if c not in frame.columns]
            if need:
                raise DataError(
                    f"{name}: column(s) {need} are missing; a report needs goal, organisation, "
                    "team, wave and offer (see docs/architecture.md, the data contract)."
                )
    fam = _score_frame(fam, programme.instruments("family"), missing)
    pro = _score_frame(pro, programme.instruments("professional"), missing)
    orgs = frames.get("organisations")
    if orgs is None or orgs.empty or "start_wave" not in orgs.columns:
        orgs = _derive_organisations([fam, pro])
    if fam.empty and pro.empty:
        raise DataError(
            f"{source}: neither families.csv nor professionals.csv holds data; a report needs "
            "at least one of them."
        )
    return StudyData(
        organisations=orgs,
        families=fam,
        professionals=pro,
        activities=frames.get("activities", pd.DataFrame()),
        inputs=list(inputs),
        source=source,
        synthetic=synthetic,
        missing_scales=missing,
        programme=programme,
    )


def load_study(source: str | Path | StudyDefinition | None = None, *,
               programme: Programme = LERENDTRANSFORMEREN) -> StudyData:
    """Read a study through the gate (read -> map -> validate) and score its scales.

    Parameters
    ----------
    source : path or StudyDefinition, optional
        A study definition (``study.yaml``), a folder (its ``study.yaml``, or else the
        files of the data contract: ``families.csv``, ``professionals.csv``,
        ``organisations.csv``, ``activities.csv``), or a definition already read. Default:
        the bundled synthetic study in ``data/synthetic`` (read through its own
        ``study.yaml``); when that folder is absent (an installed package), the same study
        is made in memory by ``synthetic.generate()``.
    programme : Programme
        Whose measures to score (default: Lerend Transformeren).

    Returns
    -------
    StudyData
        With ``notes``: everything the gate changed or noticed, per file.

    Raises
    ------
    DataError
        A file, column or value the gate refuses (the message names file, column, rows and
        the fix), or a study with neither families nor professionals.
    """
    if source is None:
        if (BUNDLED / "families.csv").exists():
            source = BUNDLED
        else:
            from lerendtransformeren import synthetic

            study = synthetic.generate()
            frames = {
                "organisations": study.organisations,
                "families": study.families,
                "professionals": study.professionals,
                "activities": study.activities,
            }
            return _study_from_frames(frames, [], f"synthetic.generate(seed={study.seed}) (in memory)",
                                      synthetic=True, programme=programme)
    if isinstance(source, StudyDefinition):
        definition = source
    else:
        path = Path(source)
        definition = read_definition(path) if path.is_file() else definition_for_folder(path)
    if not definition.files:
        raise DataError(
            f"{definition.where}: no data files: neither families.csv nor professionals.csv (in "
            "the contract layout), nor a study.yaml that lists the study's files.\n"
            "Fix: write a study definition with 'lerendtransformeren init FOLDER'."
        )
    read = read_study_files(definition)
    # rows keep their number in the file as the user sees it (Excel's row), so that a later
    # message (scoring, say) names the same rows as validate does
    frames = {role: r.data.set_axis(r.data.index + (r.read.source.get("first_row") or 2)).rename_axis("row")
              for role, r in read.items()}
    notes = tuple(f"{r.path.name}: {note}" for r in read.values() for note in r.notes)
    synthetic_ = definition.synthetic or (definition.path is None and all(
        r.path.parent.resolve() == BUNDLED.resolve() for r in read.values()))
    study = _study_from_frames(frames, [r.path for r in read.values()], definition.name,
                               synthetic=synthetic_, programme=programme)
    study.notes = notes
    study.definition = definition
    return study


def as_study(study_or_dir) -> StudyData:
    """A loaded study, or load one from a folder (None: the bundled synthetic study)."""
    if isinstance(study_or_dir, StudyData):
        return study_or_dir
    return load_study(study_or_dir)
