"""cis2-readout-scaling: the 1/D checks at fixed load T·d²/D², the switch-on and regime-criterion
checks outside the regime, and their nulls."""

import pytest

from superpose.experiments import RunContext, get_experiment, run_experiment
from superpose.experiments.base import with_null
from superpose.experiments.cis2_readout_scaling import (
    REVERSED,
    Cis2ReadoutScalingConfig,
    criterion_outside_claim,
    inverse_width_claim,
    propagation_floor_claim,
    switch_on_constant_claim,
)


def rows(errors):
    return [{"D": D, "T": D, "e": e} for D, e in zip([800, 1600, 3200], errors, strict=True)]


def test_the_claim_holds_on_inverse_width_and_not_on_flat_or_reversed():
    inverse = rows([0.04, 0.02, 0.01])
    claim = with_null(inverse_width_claim, inverse, rows([0.01, 0.02, 0.04]), REVERSED, "e", "e")
    assert claim.passed and not claim.null.passed
    assert claim.measured["exponent"] == pytest.approx(1.0)
    assert not inverse_width_claim(rows([0.05, 0.04, 0.05]), "e", "e").passed  # flat
    assert not inverse_width_claim(rows([0.16, 0.04, 0.01]), "e", "e").passed  # 1/D²


def test_the_floor_claim_holds_on_a_constant_plus_overlap_and_not_on_inverse_width():
    floor = [{**r, "active": r["e"]} for r in rows([0.05, 0.045, 0.0425])]  # a/D + c
    falling = [{**r, "active": r["e"]} for r in rows([0.04, 0.02, 0.01])]
    claim = with_null(propagation_floor_claim, floor, falling, "fixed T", 2)
    assert claim.passed and not claim.null.passed


def test_the_switch_on_claim_holds_on_a_constant_share_and_not_on_a_falling_one():
    share = [0.23, 0.22, 0.23]
    const = [
        {**r, "switch_on": s, "predicted_switch_on": 0.22, "inactive": r["e"]}
        for r, s in zip(rows([0.03, 0.02, 0.02]), share, strict=True)
    ]
    falling = [{**r, "switch_on": s} for r, s in zip(const, [0.16, 0.04, 0.007], strict=True)]
    claim = with_null(switch_on_constant_claim, const, falling, "fixed T", 0.02)
    assert claim.passed and not claim.null.passed
    assert not switch_on_constant_claim([{**const[0], "switch_on": 0.0}, *const[1:]], 0.02).passed


def test_the_criterion_claim_needs_outside_at_every_width():
    def point(inside):
        return {
            "D": 800,
            "inside": inside,
            "noise_growth": 1.0,
            "predicted_switch_on": 0.2,
            "inactive": 0.03,
            "inactive_layer1": 0.01,
        }

    outside, inside = [point(False)] * 3, [point(True)] * 3
    claim = with_null(criterion_outside_claim, outside, inside, "in-regime load", 0.02)
    assert claim.passed and not claim.null.passed
    assert not criterion_outside_claim([point(False), point(True), point(False)], 0.02).passed
    assert claim.measured["inactive_last_over_first"] == [3.0] * 3


def test_load_sets_the_circuits_at_each_width():
    cfg = Cis2ReadoutScalingConfig(load=0.01)
    assert [cfg.circuits_at(D) for D in cfg.widths] == [400, 1600, 6400]  # T = load·D²/d², d=4
    assert [cfg.circuits_at(D, 0.0025) for D in cfg.widths] == [100, 400, 1600]
    assert cfg.loads == [0.0025, 0.005, 0.01]
    with pytest.raises(ValueError):
        Cis2ReadoutScalingConfig(widths=[800, 802, 1600])  # not multiples of d
    with pytest.raises(ValueError):
        Cis2ReadoutScalingConfig(inside_load=0.02)  # not below the outside load


def test_a_small_run_measures_every_readout(tmp_path):
    exp = get_experiment("cis2-readout-scaling")
    cfg = exp.quick.replace(widths=[400, 800, 1200], batch=16)
    rec = run_experiment(exp, RunContext(tmp_path, progress=False), cfg)
    assert rec["status"] == "ok", rec.get("traceback")
    assert len(rec["claims"]) == 6 and all(c["null"] for c in rec["claims"])
    assert [r["T"] for r in rec["data"]["rows"]] == [200, 800, 1800]
    assert list(rec["data"]["scan"]) == ["0.0025", "0.005", "0.01", "0.02"]
    assert [r["T"] for r in rec["data"]["scan"]["0.0025"]] == [25, 100, 225]
    for r in rec["data"]["rows"]:  # the post's Case 1 measured at the last layer and at layer 2
        assert 0 <= r["case1_on"] <= 1 and r["inactive_case1"] >= 0 and r["overlap_layer1"] > 0
        assert 0 <= r["switch_on"] <= 1 and 0 <= r["predicted_switch_on"] <= 1
    assert [r["T"] for r in rec["data"]["rows_fixed_T"]] == [200, 200, 200]
