"""The jump-between-plateaus detector of learning-dynamics: it finds a drop that separates two
plateaus, and neither a smooth decay nor the initial transient alone passes its claim."""

import numpy as np
import pytest
import torch

from superpose.experiments.learning_dynamics import (
    claim_all_digons,
    claim_jump_between_plateaus,
    noise_floor,
    sharpest,
    smooth_decay_like,
    smooth_null,
)

T, W = 400, 4
t = np.arange(T, dtype=np.float64)
rng = np.random.default_rng(0)
NOISE = 1e-3 * rng.standard_normal(T)
TRANSIENT = -2.0 * (1 - np.exp(-t / 15))  # the initial fall, then a slow creep
JUMP = -1.0 / (1 + np.exp(-(t - 150) / 5))  # a sudden drop at snapshot 150
CREEP = -0.001 * t


def _claim(logl, d_change=0.3, bar=3.0):
    j = sharpest(logl, W, noise_floor(logl, W))
    D = torch.zeros(len(logl), 2)
    if j:  # D_i moves by d_change over the jump
        D[j["start"] :, 0] = d_change
    return claim_jump_between_plateaus((logl, D), W, bar, 0.1), j


def test_jump_between_plateaus_is_found_at_its_place():
    claim, j = _claim(TRANSIENT + JUMP + CREEP + NOISE)
    assert claim.passed, claim
    assert 130 <= j["at"] <= 150 and j["start"] <= 148 and j["end"] >= 150
    assert j["sharpness"] > 10


@pytest.mark.parametrize("tau", [10.0, 40.0, 120.0])
def test_smooth_decay_fails(tau):
    claim, _ = _claim(-3 * (1 - np.exp(-t / tau)) + NOISE)
    assert not claim.passed, claim


def test_initial_transient_alone_fails():
    claim, _ = _claim((TRANSIENT + CREEP + NOISE)[:140])
    assert not claim.passed, claim


def test_jump_without_dimensionality_change_fails():
    claim, _ = _claim(TRANSIENT + JUMP + CREEP + NOISE, d_change=0.05)
    assert not claim.passed, claim


def test_null_bar_is_above_smooth_curves_and_below_a_real_jump():
    logl = TRANSIENT + JUMP + CREEP + NOISE
    null = smooth_null(logl, W, draws=100, models=4, seed=1)
    bar = float(np.quantile(null, 0.99))
    assert 1.0 < bar < sharpest(logl, W, noise_floor(logl, W))["sharpness"]


def test_smooth_decay_null_of_a_jumping_run_fails():
    logl = TRANSIENT + JUMP + CREEP + NOISE
    claim, _ = _claim(smooth_decay_like(logl, seed=3).numpy())
    assert not claim.passed, claim


def test_all_digons_flips():
    assert claim_all_digons(torch.tensor([0.5, 0.49, 0.52, 0.5])).passed
    assert claim_all_digons(torch.tensor([0.5, 0.49, 0.0, 0.01])).passed  # two not represented
    assert not claim_all_digons(torch.tensor([0.5, 0.49, 1.0, 0.0])).passed  # one dedicated
    assert not claim_all_digons(torch.tensor([0.5, 0.4, 0.4, 0.5])).passed  # a pentagon's 2/5
    assert not claim_all_digons(torch.tensor([0.0, 0.0, 0.0, 0.0])).passed  # nothing learned
