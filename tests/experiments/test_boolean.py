import json
import math

import numpy as np
import pytest
import yaml

from superpose.circuits import boolean_deep as D
from superpose.circuits.boolean import make_config
from superpose.experiments import chosen_gates_capacity as CG
from superpose.experiments import get_experiment
from superpose.experiments import uand_deep as UD
from superpose.experiments import uand_errors as UE
from superpose.experiments import uand_scaling as US
from tests.cli.test_cli import assert_one_line_error, run_cli


def test_formula_claims_flip_on_doctored_means():
    pred = {"both": 0.2, "one": 0.4, "neither": 0.112}
    cases = ("both", "one", "neither")
    assert all(UE.formula_claim(dict(pred), c, pred, 3, 0.2, 0.05).passed for c in cases)
    bad = {**pred, "neither": 0.14}
    assert [UE.formula_claim(bad, c, pred, 3, 0.2, 0.05).passed for c in cases] == [
        True,
        True,
        False,
    ]


def test_noise_and_linear_claims_flip():
    assert UE.noise_claim(1.0, 1.02).passed
    assert not UE.noise_claim(1.3, 1.0).passed
    assert UE.linear_vs_uand_claim(0.1, 0.25).passed
    assert not UE.linear_vs_uand_claim(0.3, 0.25).passed
    assert not UE.linear_vs_uand_claim(0.1, 0.3).passed


def test_slope_fit_recovers_planted_exponents():
    m = np.array([200, 400, 800, 1600, 3200] * 4, dtype=float)
    d = np.repeat([300.0, 800.0, 2000.0, 5000.0], 5)
    err = np.sqrt(5.0 / d + 3.0 * m / d**1.5)
    fit = US.fit_two_term(m, d, err)
    assert fit["exponent"] == pytest.approx(2 / 3, abs=0.03)
    slope, _ = US.fit_loglog([100, 1000], [50, 50 * 10 ** (2 / 3)])
    assert slope == pytest.approx(2 / 3)


def test_scaling_claims_flip():
    fit = {"exponent": 0.68, "gamma": 1.0, "beta": 1.47, "rms_relative_residual": 0.1}

    def measure(slope, spread, fit=None):
        return {"slope": slope, "spread": spread, "fit": fit}

    assert US.slope_claim(measure(0.02, (0.0, 0.05)), "basis", 0.15).passed
    assert not US.slope_claim(measure(0.4, (0.3, 0.5)), "basis", 0.15).passed  # grows with m
    assert US.slope_claim(measure(0.45, (0.4, 0.5), fit), "superposed", 0.15, 0.0).passed
    flat = {**fit, "exponent": 0.2}
    assert not US.slope_claim(measure(0.45, (0.4, 0.5), flat), "superposed", 0.15, 0.0).passed
    assert not US.slope_claim(measure(0.1, (0.0, 0.2), fit), "superposed", 0.15, 0.0).passed


def test_capacity_claims_flip():
    assert CG.superposition_claim({2: [6.0, 8.0], 3: [10.0, 10.0]}, 0.25).passed
    assert not CG.superposition_claim({2: [0.5, 8.0]}, 0.25).passed
    assert CG.linear_claim(1.0).passed and not CG.linear_claim(0.3).passed
    assert CG.bound_claim([600, 1600], [100, 200]).passed
    assert not CG.bound_claim([100_000], [100]).passed
    assert CG.capacity_slope([100, 200], [300, 600]) == pytest.approx(1.0)
    assert math.isnan(CG.capacity_slope([100, 200], [0, 600]))
    g = CG.bound_gates(100.0)
    assert math.sqrt(g * math.log(g)) == pytest.approx(100.0, rel=1e-3)


def test_deep_claims_flip():
    ok = [{"wrong_per_input": 0.1, "recall": 1.0}] * 3
    bad = [{"wrong_per_input": 0.1, "recall": 1.0}, {"wrong_per_input": 3.0, "recall": 0.7}] * 2
    assert UD.bounded(ok) and not UD.bounded(bad)
    rows = [{"d": 100, "m": 200, "stats": ok}]
    assert UD.claim_at_2d(rows, 100).passed
    assert not UD.claim_at_2d([{"d": 100, "m": 200, "stats": bad}], 100).passed
    assert UD.claim_grows(bad, 200, 100).passed and not UD.claim_grows(ok, 200, 100).passed
    wide = [{"d": d, "m": d * d // 100, "stats": ok} for d in (100, 200, 400)]
    assert UD.claim_exponent(wide).passed  # m* ∝ d²
    lin = [{"d": d, "m": d // 4, "stats": ok} for d in (100, 200, 400)]
    assert not UD.claim_exponent(lin).passed and not UD.claim_exponent(wide[:2]).passed


def test_deep_emulation_is_exact_without_noise_sources():
    # one wire per gate's neurons and no superposition noise (m tiny vs d): first layer exact-ish
    cfg = make_config(D.DeepBooleanConfig, m=8, d=600, s=2, depth=3, k=4, k_correct=4)
    net = D.build_deep(cfg)
    import torch

    from superpose.circuits.boolean_inputs import exact_inputs

    x = exact_inputs(8, 2)
    for corrected in (False, True):
        stats = D.depth_errors(net, x, corrected)
        assert len(stats) == 3
        assert stats[0]["wrong_bits"] == 0
    truth = net.truth(x)
    assert torch.equal(truth[0], torch.where(net.is_or[0], torch.maximum(
        x[:, net.gates[0][:, 0]], x[:, net.gates[0][:, 1]]), x[:, net.gates[0][:, 0]] * x[:, net.gates[0][:, 1]]))  # fmt: skip


def test_computation_layer_exact_on_isolated_gates():
    import torch

    gates = torch.tensor([[0, 1], [2, 3]])
    is_or = torch.tensor([False, True])
    layer = D.computation_layer(4, 30, 3, gates, is_or, torch.Generator().manual_seed(0), 0.3)
    F = torch.eye(4)
    for a, b, c, e in [(0, 0, 0, 0), (1, 1, 0, 0), (0, 0, 1, 0), (0, 0, 1, 1), (1, 0, 0, 0)]:
        y = torch.tensor([[a, b, c, e]], dtype=torch.float32)
        out = layer.forward(y @ F.T, F)
        # neurons of the two gates may overlap; with one gate's inputs off the other is exact
        if c == e == 0:
            assert out[0, 0].item() == pytest.approx(a * b, abs=1e-6)
        if a == b == 0:
            assert out[0, 1].item() == pytest.approx(max(c, e), abs=1e-6)


def test_deep_neurons_embedding_and_positive_readout():
    # wires read straight from the neurons, AND/OR on their own neurons (readout weights ≥ 0), high
    # thresholds: exact at every layer when m ≪ d, and the layer-by-layer, run and dense paths agree
    import torch

    from superpose.circuits.boolean_inputs import exact_inputs

    fields = {"m": 8, "d": 600, "s": 2, "depth": 3, "k": 3, "k_correct": 5, "margin": 0.8}
    fields |= {"theta": 0.7, "theta_top": 0.9, "embedding": "neurons", "readout": "positive"}
    net = D.build_deep_construction(make_config(D.DeepBooleanConfig, **fields))
    assert net.verified and all(F is None for F in net.net.F)
    assert (net.net.compute[0].R >= 0).all()
    x = exact_inputs(8, 2)
    for got, true in zip(net.net.run(x, corrected=True), net.net.truth(x), strict=True):
        assert torch.allclose(got, true, atol=1e-5)
    stats = D.depth_errors(net.net, x, corrected=True)
    assert all(s["leak"] == 0 and s["wrong_per_input"] == 0 for s in stats)
    # an OR of two on-wires reads (2 − β)/(1 − β) before its correction, 1 after
    y = torch.tensor([[1.0, 1.0, 0, 0, 0, 0, 0, 0]])
    gates, is_or = torch.tensor([[0, 1]] * 8), torch.tensor([True] * 8)
    layer = D.computation_layer(
        8, 60, 3, gates, is_or, torch.Generator().manual_seed(0), 0.8, "positive"
    )
    assert layer.forward(y, None)[0, 0].item() == pytest.approx(6.0, abs=1e-5)


def test_deep_and_share_and_clamped_units():
    # and_share: AND gates on that fraction of the computation neurons; clamped: each unit a
    # neuron pair capped at 1 (an OR of two on-wires reads 1, not (2 − β)/(1 − β))
    import torch

    y = torch.tensor([[1.0, 1.0, 0, 0, 0, 0, 0, 0]])
    gates, is_or = torch.tensor([[0, 1]] * 8), torch.tensor([True, False] * 4)
    gen = torch.Generator().manual_seed(0)
    layer = D.computation_layer(8, 60, 3, gates, is_or, gen, 0.6, "positive", and_share=0.25)
    assert int((layer.bias < -1).sum()) == 15  # AND neurons: bias −1 − β
    assert layer.forward(y, None)[0, 0].item() == pytest.approx(3.5, abs=1e-5)
    layer = D.computation_layer(8, 60, 3, gates, is_or, gen, 0.6, "clamped", and_share=0.25)
    out = layer.forward(y, None)[0]
    assert out[0].item() == pytest.approx(1.0, abs=1e-5)  # OR of two on-wires, capped
    assert out[1].item() == pytest.approx(1.0, abs=1e-5)  # AND of two on-wires
    fields = {"m": 8, "d": 600, "s": 2, "depth": 3, "k": 3, "k_correct": 5, "margin": 0.6}
    fields |= {"theta": 0.75, "theta_top": 0.9, "embedding": "neurons", "readout": "clamped"}
    assert D.build_deep_construction(make_config(D.DeepBooleanConfig, **fields)).verified


def test_deep_tie_reads_half_passing_pairs_off():
    # tie: a wire whose pairs all pass reads 1 − tie; one with exactly half of them passing < 1/2
    import torch

    gen = torch.Generator().manual_seed(0)
    layer = D.correction_layer(40, 400, 4, 0.85, gen, 0.95, "packed", tie=0.005)
    y = torch.zeros(1, 40)
    y[0, 0] = 1.0
    assert layer.forward(y, None)[0, 0].item() == pytest.approx(0.995, abs=1e-5)
    pairs = layer.conn[:200, 0].nonzero().squeeze(1)  # wire 0's 4 pairs
    u = torch.zeros(200)
    u[pairs[:2]] = 1.0  # exactly half of them pass
    h = torch.cat([torch.relu(u - 0.85), torch.relu(u - 0.95)])
    assert (layer.R[0] @ h).item() == pytest.approx(0.4975, abs=1e-5)


def test_packed_sharing_meets_at_most_once():
    import torch

    gen = torch.Generator().manual_seed(0)
    dealt = D._packed(torch.arange(60), 200, 3, gen)  # P = 19 per block, 200 ≤ 19²
    assert dealt.shape == (200, 3)
    member = torch.zeros(200, 60)
    member[torch.arange(200)[:, None], dealt] = 1
    shared = member @ member.T
    assert shared.fill_diagonal_(0).max() <= 1  # no two items share two neurons
    counts = member.sum(0)
    assert counts.max() - counts[counts > 0].min() <= 1  # balanced over the neurons used


def test_bad_deep_config():
    from superpose.base.errors import SuperposeError

    with pytest.raises(SuperposeError, match="s = 9"):
        make_config(D.DeepBooleanConfig, m=8, s=9)
    with pytest.raises(SuperposeError, match="theta"):
        make_config(D.DeepBooleanConfig, theta=0.5)
    with pytest.raises(SuperposeError, match="theta_top"):
        make_config(D.DeepBooleanConfig, theta=0.7, theta_top=0.6)


def test_boolean_experiments_nest_the_layer_configs():
    from superpose.base.errors import SuperposeError
    from superpose.circuits.boolean import ChosenGatesConfig, UAndConfig

    full = get_experiment("uand-errors").full
    assert isinstance(full.uand, UAndConfig) and full.uand.m == full.small.m == 40
    assert get_experiment("chosen-gates-capacity").full.gates.k == 12
    with pytest.raises(SuperposeError, match="m ≤ 60"):  # measured exhaustively
        UE.UAndErrorsConfig().replace(**{"uand.m": 61})
    with pytest.raises(SuperposeError, match=r"s = uand\.s"):
        UE.UAndErrorsConfig().replace(**{"uand.s": 4})
    with pytest.raises(SuperposeError, match=r"gates\.m"):
        CG.CapacityConfig().replace(fan_ins=[2, 25], **{"gates.m": 20})
    with pytest.raises(SuperposeError, match=r"uand\.s"):
        US.UAndScalingConfig().replace(**{"uand.s": 11})
    # the per-point layers are the nested configs with the swept fields replaced
    rms = US.max_case_rms(UAndConfig(m=50, d=200, s=2, inputs="superposed"), 16, 2)
    assert 0 < rms < 1
    rms, layer, _ = CG.gate_rms(ChosenGatesConfig(m=40, d=100, s=3, k=8, fan_in=3), 50, 1, 20)
    assert 0 <= rms < 1 and layer.gates.shape == (50, 3)


def test_experiments_registered():
    for name in ("uand-errors", "uand-scaling", "uand-deep", "chosen-gates-capacity"):
        exp = get_experiment(name)
        assert exp.quick_seconds <= 60


def test_uand_errors_quick_through_cli(tmp_path):
    proc = run_cli("reproduce", "--only", "uand-errors", "--out", str(tmp_path), "--no-progress")
    assert proc.returncode == 0, proc.stderr
    claims = json.loads((tmp_path / "uand-errors" / "claims.json").read_text())
    assert len(claims) == 5 and all(c["passed"] for c in claims)
    assert (tmp_path / "uand-errors" / "uand_case_errors.png").is_file()


@pytest.mark.slow
@pytest.mark.parametrize("name", ["uand-scaling", "uand-deep", "chosen-gates-capacity"])
def test_other_quick_forms_through_cli(tmp_path, name):
    proc = run_cli("reproduce", "--only", name, "--out", str(tmp_path), "--no-progress")
    assert proc.returncode == 0, proc.stderr
    rec = json.loads((tmp_path / name / "result.json").read_text())
    assert rec["status"] == "ok" and rec["claims"]


def test_uand_build_cli(tmp_path):
    cfg = tmp_path / "u.yaml"
    cfg.write_text(yaml.safe_dump({"construction": "uand", "m": 10, "d": 200, "s": 2, "p": 0.25}))
    proc = run_cli("build", str(cfg), "--out", str(tmp_path / "out"))
    assert proc.returncode == 0, proc.stderr
    truth = json.loads((tmp_path / "out" / "ground_truth.json").read_text())
    stats = json.loads((tmp_path / "out" / "stats.json").read_text())
    assert truth["pairs_listed"] == 45 and stats["method"] == "exhaustive"
    from safetensors.torch import load_file

    w = load_file(tmp_path / "out" / "weights.safetensors")
    assert w["W"].shape == (200, 10) and w["readout"].shape == (45, 200)
    # the saved readout reproduces the stats: a pair's readout row averages its listed neurons
    first = truth["pairs"][0]
    assert sorted(w["readout"][0].nonzero().squeeze(1).tolist()) == first["neurons"]


def test_uand_build_bad_config_is_one_line(tmp_path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(yaml.safe_dump({"construction": "uand", "m": 3, "s": 5}))
    proc = run_cli("build", str(cfg), "--out", str(tmp_path / "out"))
    assert_one_line_error(proc, "bad.yaml", "s = 5")
    cfg.write_text(yaml.safe_dump({"construction": "uand", "p": 2}))
    proc = run_cli("build", str(cfg), "--out", str(tmp_path / "out"))
    assert_one_line_error(proc, "bad.yaml", "'p'")
