"""Residual-MLP compressed computation: baseline formula, exact export, determinism."""

from __future__ import annotations

import torch

from superpose.toy.resid_mlp import (
    ResidMLPConfig,
    evaluate,
    naive_loss,
    naive_model,
    sample_features,
    train_resid_mlp,
)


def test_naive_baseline_formula_matches_its_network():
    """(F − N)/F · p/6 is the measured loss of the half-identity network on clean labels."""
    cfg = ResidMLPConfig(labels="clean", p=0.05, eval_batch=200_000)
    measured, se = evaluate(naive_model(cfg), cfg.eval_batch, seed=3)
    assert abs(measured - naive_loss(cfg)) < 4 * se < 0.03 * measured
    # on noisy labels the same network also pays for the embedding noise (G − I)x
    noisy, _ = evaluate(naive_model(cfg.replace(labels="noisy")), cfg.eval_batch, seed=3)
    assert noisy > 1.2 * naive_loss(cfg)


def test_residual_weights_compute_the_same_function():
    cfg = ResidMLPConfig(steps=5, batch=64, eval_batch=10)
    model = train_resid_mlp(cfg).model
    x = sample_features(16, cfg.features, 0.2, torch.Generator().manual_seed(0))
    assert torch.allclose(model.forward(x), model.residual_forward(x), atol=1e-4)
    w = model.residual_weights()
    assert w["W_in"].shape == (50, 1000) and w["W_out"].shape == (1000, 50)
    assert torch.allclose(w["W_E"].norm(dim=0), torch.ones(100))


def test_training_is_deterministic_and_learns():
    cfg = ResidMLPConfig(steps=200, batch=256, eval_batch=20_000, features=20, neurons=10)
    a, b = train_resid_mlp(cfg), train_resid_mlp(cfg)
    assert torch.equal(a.model.A, b.model.A) and a.final_loss == b.final_loss
    assert a.losses[-1] < a.losses[0]
