import numpy as np
import pytest
import torch

from superpose.experiments import RunContext, get_experiment, run_experiment
from superpose.experiments.nonlinear_compression import (
    SLOPE_TAIL,
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


def test_slope_band_is_the_fits_interval():
    """The band of "slope −2" is the fitted slope's 99 % interval (t × its standard error): a
    noiseless 1/Z² passes and a noiseless Z^−1.9 fails (no scatter, no band); with independent
    noise on the points about 1 % of true 1/Z² laws fail; the linear code (slope −0.38, band
    0.41) fails."""
    zs = [2, 3, 4, 6, 8]
    assert quantisation_claim([1 / (12 * z**2) for z in zs], zs).passed
    assert not quantisation_claim([1 / (12 * z**1.9) for z in zs], zs).passed
    rng = np.random.default_rng(0)
    law = np.array([1 / (12 * z**2) for z in zs])
    draws = 3000
    fails = sum(
        not quantisation_claim(list(law * np.exp(rng.normal(0, 0.01, 5))), zs).passed
        for _ in range(draws)
    )
    assert 0.3 * SLOPE_TAIL < fails / draws < 2 * SLOPE_TAIL
    linear = [nonlinear_mse(z, 1e-4, 50_000, linear=True) for z in zs]
    null = quantisation_claim(linear, zs)
    assert not null.passed and null.measured["band"] > 0.3
