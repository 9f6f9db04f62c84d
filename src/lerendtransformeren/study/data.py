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
from lerendtransformeren.exceptions import DataError
from lerendtransformeren.study.programme import LERENDTRANSFORMEREN, Programme

__all__ = ["BUNDLED", "StudyData", "load_study", "as_study"]

_FILES = ("organisations.csv", "families.csv", "professionals.csv", "activities.csv")

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


def load_study(data_dir: str | Path | None = None, *, programme: Programme = LERENDTRANSFORMEREN) -> StudyData:
    """Read a study folder (the files of the data contract) and score its scales.

    Parameters
    ----------
    data_dir : path, optional
        Folder with ``families.csv`` and/or ``professionals.csv`` (and optionally
        ``organisations.csv`` and ``activities.csv``). Default: the bundled synthetic
        study in ``data/synthetic``; when that folder is absent (an installed package),
        the same study is made in memory by ``synthetic.generate()``.
    programme : Programme
        Whose measures to score (default: Lerend Transformeren).

    Returns
    -------
    StudyData

    Raises
    ------
    DataError
        The folder does not exist, or holds neither families nor professionals.
    """
    if data_dir is None:
        if (BUNDLED / "families.csv").exists():
            data_dir = BUNDLED
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
    folder = Path(data_dir)
    if not folder.is_dir():
        raise DataError(f"The data folder {str(folder)!r} does not exist; give --data a folder.")
    frames = {}
    inputs = []
    for name in _FILES:
        path = folder / name
        if path.exists():
            try:
                frames[name.removesuffix(".csv")] = pd.read_csv(path, low_memory=False)
            except (ValueError, pd.errors.ParserError) as exc:
                raise DataError(f"{path.name}: cannot be read as CSV ({exc}).") from exc
            inputs.append(path)
    if "families" not in frames and "professionals" not in frames:
        raise DataError(
            f"The folder {str(folder)!r} holds neither families.csv nor professionals.csv; "
            "point --data at a study folder (see data/synthetic for the layout)."
        )
    synthetic_ = folder.resolve() == BUNDLED.resolve()
    return _study_from_frames(frames, inputs, str(folder), synthetic=synthetic_, programme=programme)


def as_study(study_or_dir) -> StudyData:
    """A loaded study, or load one from a folder (None: the bundled synthetic study)."""
    if isinstance(study_or_dir, StudyData):
        return study_or_dir
    return load_study(study_or_dir)
