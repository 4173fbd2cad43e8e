import pytest
import torch

from superpose.experiments import RunContext, get_experiment, run_experiment
from superpose.experiments.nonlinear_compression import (
    beats_linear_claim,
    nonlinear_mse,
    quantisation_claim,
    soft_floor,
)


def test_soft_floor_is_the_floor_away_from_the_ramps():
    u = torch.tensor([0.2, 0.98, 0.995, 1.5, 2.1, 2.995], dtype=torch.float64)
    want = torch.tensor([0, 0, 0.5, 1, 2, 2], dtype=torch.float64)  # 0.995: halfway up a ramp
    torch.testing.assert_close(soft_floor(u, 3, 0.01), want)


@pytest.mark.parametrize("z", [2, 3, 5])
def test_sharp_ramps_give_the_quantisation_error(z):
    assert nonlinear_mse(z, 1e-6, 200_000) == pytest.approx(1 / (12 * z * z), rel=0.02)


def test_claims_flip():
    assert beats_linear_claim(0.04, 3, 0.1).passed
    assert not beats_linear_claim(0.09, 3, 0.1).passed
    zs = [2, 4, 8]
    assert quantisation_claim([1 / (12 * z * z) for z in zs], zs).passed
    assert not quantisation_claim([1 / (12 * z) for z in zs], zs).passed


def test_without_its_ramps_the_code_is_worse_than_linear():
    # floors → identity: x̂ = x + (y + 1/2)/Z, ŷ = 0, so MSE ≥ E[y²] = 1/3 > 1/12
    assert nonlinear_mse(3, 0.1, 50_000, linear=True) > 1 / 3


def test_experiment_runs(tmp_path):
    exp = get_experiment("nonlinear-compression")
    cfg = exp.quick.replace(samples=50_000)
    rec = run_experiment(exp, RunContext(tmp_path, device=torch.device("cpu"), progress=False), cfg)
    assert rec["status"] == "ok", rec.get("error")
    assert all(c["passed"] and not c["null"]["passed"] for c in rec["claims"])
