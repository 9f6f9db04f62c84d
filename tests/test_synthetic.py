"""The synthetic study: structure, determinism, committed files, and recoverable truth."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from lerendtransformeren import scales, synthetic

DATA = Path(__file__).resolve().parents[1] / "data" / "synthetic"


@pytest.fixture(scope="module")
def study() -> synthetic.Study:
    return synthetic.generate(seed=synthetic.DEFAULT_SEED)


def test_committed_files_equal_what_generate_writes(study):
    made = study.file_bytes()
    assert sorted(made) == sorted(synthetic.FILES)
    for name, data in made.items():
        committed = (DATA / name).read_bytes()
        assert committed == data, f"data/synthetic/{name} differs from generate(); run `make data`"


def test_same_seed_same_bytes_other_seed_other_data():
    a = synthetic.generate(seed=11).file_bytes()
    b = synthetic.generate(seed=11).file_bytes()
    c = synthetic.generate(seed=12).file_bytes()
    assert a == b
    assert a["families.csv"] != c["families.csv"]


@pytest.mark.parametrize("bad", [-1, 1.5, "1", True])
def test_seed_must_be_a_non_negative_integer(bad):
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        synthetic.generate(seed=bad)


def test_design_sizes_and_stepped_wedge(study):
    orgs = study.organisations
    assert orgs.groupby("goal").size().tolist() == [3, 3, 3, 3, 3]
    for _, starts in orgs.groupby("goal")["start_wave"]:
        assert sorted(starts) == [1, 2, 3]
    base = study.professionals.query("wave == 0")
    teams_per_org = base.groupby("organisation")["team"].nunique()
    assert teams_per_org.between(3, 5).all()
    # every professional and family is observed at T0 (dropout only after baseline)
    pros_per_team = base.groupby("team")["professional"].nunique()
    assert pros_per_team.between(6, 12).all()
    fams = study.families.query("wave == 0")
    fams_per_pro = fams.groupby("professional")["family"].nunique()
    assert fams_per_pro.between(3, 8).all()
    assert fams_per_pro.index.isin(base["professional"]).all()
    assert set(study.families["wave"]) == {0, 1, 2, 3}


def test_offer_follows_the_start_wave(study):
    merged = study.families.merge(study.organisations[["organisation", "start_wave"]], on="organisation")
    assert (merged["offer"] == (merged["wave"] >= merged["start_wave"]).astype(int)).all()
    # dose is zero before the offer starts and positive on average after it
    act = study.activities.merge(study.organisations[["organisation", "start_wave"]], on="organisation")
    before = act["wave"] < act["start_wave"]
    assert (act.loc[before, ["sessions", "masterclasses", "workshops"]] == 0).all().all()
    assert act.loc[~before, "sessions"].mean() > 2


def test_one_row_per_respondent_per_wave_and_monotone_dropout(study):
    for frame, unit in ((study.families, "family"), (study.professionals, "professional")):
        assert not frame.duplicated([unit, "wave"]).any()
        waves = frame.groupby(unit)["wave"].agg(["min", "max", "count"])
        assert (waves["min"] == 0).all()
        # no gaps: once a respondent leaves, they do not come back
        assert (waves["max"] - waves["min"] + 1 == waves["count"]).all()
    n_per_wave = study.families.groupby("wave").size()
    assert n_per_wave.is_monotonic_decreasing and n_per_wave.iloc[-1] < n_per_wave.iloc[0]


def test_dropout_depends_on_baseline_difficulties(study):
    """Dropout depends on the baseline: families with more problems at T0 drop out more often."""
    fam = study.families
    difficulties = scales.score(fam, "sdq_parent")["sdq_parent_total_difficulties"]
    base = difficulties[fam["wave"] == 0].set_axis(fam.loc[fam["wave"] == 0, "family"]).dropna()
    last = fam.groupby("family")["wave"].max().reindex(base.index)
    stayed, left = base[last == 3], base[last < 3]
    assert left.mean() > stayed.mean() + 0.3


def test_instruments_follow_the_age_bands(study):
    fam = study.families
    sdq = fam.filter(regex=r"^sdq_")
    kid = fam.filter(regex=r"^kidscreen_")
    young = fam["age_band"].isin(["zwangerschap", "0-3", "18-23"])
    assert sdq[young].isna().all().all()
    assert sdq[~young].notna().mean().mean() > 0.9
    assert kid[~fam["age_band"].isin(["8-11", "12-17"])].isna().all().all()
    assert fam.loc[fam["wave"] == 0, ["gas_01", "gas_02", "gas_03"]].isna().all().all()


def test_every_column_is_in_the_codebook_and_within_range(study):
    cb = study.codebook
    for name in ("organisations", "professionals", "families", "activities"):
        frame = getattr(study, name)
        rows = cb[cb["file"] == f"{name}.csv"].set_index("variable")
        assert list(rows.index) == list(frame.columns), name
        for var, spec in rows.iterrows():
            col = frame[var].dropna()
            if pd.notna(spec["min"]):
                assert col.min() >= spec["min"], (name, var)
            if pd.notna(spec["max"]):
                assert col.max() <= spec["max"], (name, var)
            if spec["type"] == "categorical":
                codes = {pair.split("=", 1)[0] for pair in spec["values"].split(";")}
                assert set(col.astype(str)) <= codes, (name, var)


def test_generator_uses_the_shipped_scoring_keys(study):
    """Data and scorer share one key: the generator's reverse keys are the definitions'."""
    for prefix, spec in study.truth["item_models"].items():
        definition = scales.get(spec["instrument"])
        reversed_items = [f"{prefix}_{i:02d}" for i in spec["reverse_keyed"]]
        assert tuple(reversed_items) == definition.reverse, prefix


def test_scale_reliabilities_are_realistic(study):
    """Cronbach's alpha at baseline between 0.7 and 0.9 for every scored (sub)scale."""
    alphas = {}
    for spec in study.truth["item_models"].values():
        code = spec["instrument"]
        frame = study.professionals if code in ("uwes9", "burden", "impl", "collab") else study.families
        result = scales.reliability(frame[frame["wave"] == 0], code, n_boot=0)
        for row in result.scales.itertuples():
            if row.n_items > 1 and row.score not in ("total", "total_difficulties", "externalising", "internalising"):
                alphas[f"{code}.{row.score}"] = row.alpha
    assert len(alphas) >= 15
    outside = {k: round(v, 3) for k, v in alphas.items() if not 0.7 <= v <= 0.9}
    assert not outside, f"alpha outside 0.7-0.9: {outside}"


def test_goal_one_offer_effect_on_mastery_is_recovered(study):
    """A stepped-wedge mixed model on the files finds the generating effect of goal 1.

    Pearlin mastery is scored with the shipped key (five negatively worded items
    reversed) and divided by 7 to give the mean item score; the model has period effects, organisation fixed effects and
    a random intercept per family. The truth is the effect on the mean item score that the
    generating model implies (truth.json, implied_scale_effects).
    """
    fam = study.families[study.families["goal"] == 1]
    scored = scales.score(fam, "mastery")
    data = fam.assign(mastery=scored["mastery_total"] / 7).dropna(subset=["mastery"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = smf.mixedlm("mastery ~ C(wave) + offer + C(organisation)", data, groups=data["family"]).fit(reml=True)
    truth = study.truth["implied_scale_effects"]["mastery"]["offer_effect_by_goal"]["1"]
    estimate, se = fit.params["offer"], fit.bse["offer"]
    assert abs(estimate - truth) < 2 * se, (estimate, se, truth)
    # and the effect is there: the truth is far from zero relative to the SE
    assert truth > 3 * se


def test_truth_json_is_complete(study):
    truth = json.loads((DATA / "truth.json").read_text(encoding="utf-8"))
    assert truth["seed"] == synthetic.DEFAULT_SEED
    starts = truth["design"]["stepped_wedge_start_wave"]
    assert starts == dict(zip(study.organisations["organisation"], study.organisations["start_wave"], strict=True))
    for outcome in truth["family_outcomes"].values():
        assert sum(outcome["variance"].values()) == pytest.approx(1.0)
        assert set(outcome["offer_effect_by_goal"]) == {"1", "2", "3", "4", "5"}
    for outcome in truth["professional_outcomes"].values():
        assert sum(outcome["variance"].values()) == pytest.approx(1.0)
    assert {"family", "professional"} <= set(truth["dropout"])


def test_expected_item_score_matches_simulation():
    """The closed form behind the implied effects agrees with brute-force simulation."""
    rng = np.random.default_rng(3)
    mean = np.array([-0.5, 0.0, 0.8])
    model = synthetic._ITEM_MODELS["mastery"]
    x = model.loading * (mean[:, None] + rng.normal(size=(3, 200_000))) + np.sqrt(1 - model.loading**2) * rng.normal(
        size=(3, 200_000)
    )
    simulated = np.clip(np.rint(model.centre + model.spread * x), model.low, model.high).mean(axis=1)
    exact = synthetic.expected_item_score("mastery", 4, mean, model.loading)
    np.testing.assert_allclose(exact, simulated, atol=0.01)
