"""cis2-readout-scaling: the 1/D check at fixed load T·d²/D² and its reversed-widths null."""

import pytest

from superpose.experiments import RunContext, get_experiment, run_experiment
from superpose.experiments.base import with_null
from superpose.experiments.cis2_readout_scaling import (
    REVERSED,
    Cis2ReadoutScalingConfig,
    inverse_width_claim,
    propagation_floor_claim,
)


def rows(errors):
    return [{"D": D, "e": e} for D, e in zip([800, 1600, 3200], errors, strict=True)]


def test_the_claim_holds_on_inverse_width_and_not_on_flat_or_reversed():
    inverse = rows([0.04, 0.02, 0.01])
    claim = with_null(inverse_width_claim, inverse, rows([0.01, 0.02, 0.04]), REVERSED, "e", "e")
    assert claim.passed and not claim.null.passed
    assert claim.measured["exponent"] == pytest.approx(1.0)
    assert not inverse_width_claim(rows([0.05, 0.04, 0.05]), "e", "e").passed  # flat
    assert not inverse_width_claim(rows([0.16, 0.04, 0.01]), "e", "e").passed  # 1/D²


def test_the_floor_claim_holds_on_a_constant_plus_overlap_and_not_on_inverse_width():
    floor = [{**r, "T": 1, "active": r["e"]} for r in rows([0.05, 0.045, 0.0425])]  # a/D + c
    falling = [{**r, "T": 1, "active": r["e"]} for r in rows([0.04, 0.02, 0.01])]
    claim = with_null(propagation_floor_claim, floor, falling, "fixed T", 2)
    assert claim.passed and not claim.null.passed


def test_load_sets_the_circuits_at_each_width():
    cfg = Cis2ReadoutScalingConfig(load=0.01)
    assert [cfg.circuits_at(D) for D in cfg.widths] == [400, 1600, 6400]  # T = load·D²/d², d=4
    with pytest.raises(ValueError):
        Cis2ReadoutScalingConfig(widths=[800, 802, 1600])  # not multiples of d


def test_a_small_run_measures_every_readout(tmp_path):
    exp = get_experiment("cis2-readout-scaling")
    cfg = exp.quick.replace(widths=[400, 800, 1200], batch=16)
    rec = run_experiment(exp, RunContext(tmp_path, progress=False), cfg)
    assert rec["status"] == "ok", rec.get("traceback")
    assert len(rec["claims"]) == 4 and all(c["null"] for c in rec["claims"])
    assert [r["T"] for r in rec["data"]["rows"]] == [200, 800, 1800]
    for r in rec["data"]["rows"]:  # the post's Case 1 measured at the last layer
        assert 0 <= r["case1_on"] <= 1 and r["inactive_case1"] >= 0 and r["overlap_layer1"] > 0
    assert [r["T"] for r in rec["data"]["rows_fixed_T"]] == [200, 200, 200]
