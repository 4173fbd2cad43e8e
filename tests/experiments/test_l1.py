"""l1-no-superposition's claims: superposition that pays without L1, L1 removing it at m features
(not by dropping features), and the loss cost measured against the best no-superposition model."""

import torch

from superpose.experiments.l1_no_superposition import (
    L1Config,
    claim_control_superposed,
    claim_l1_costs_loss,
    claim_l1_removes_superposition,
    no_superposition,
    paired_losses,
)
from superpose.features import FeatureDistribution
from tests.experiments.test_toy_claims import mono, poly


def test_l1_claims_flip():
    W = torch.stack([poly(), mono()])
    assert claim_control_superposed((W, 0.5), 1.0).passed
    assert not claim_control_superposed((W, 1.5), 1.0).passed  # superposition that does not pay
    assert not claim_control_superposed((W.flip(0), 0.5), 1.0).passed
    assert claim_l1_removes_superposition(W, [0.0, 0.1]).passed
    dropped = mono()
    dropped[4] = 0.0  # monosemantic, but only m-1 features: not "at m"
    assert not claim_l1_removes_superposition(torch.stack([poly(), dropped]), [0.0, 0.1]).passed
    assert claim_l1_costs_loss((0.5, 1.2), 1.0).passed
    assert not claim_l1_costs_loss((0.5, 0.9), 1.0).passed
    assert not claim_l1_costs_loss((1.1, 1.2), 1.0).passed
    assert not claim_l1_costs_loss((0.5, None), 1.0).passed


def test_no_superposition_closed_form():
    """The closed form agrees with a sampled estimate, and a model that is the no-superposition
    model (top m features through one neuron each, the rest at their mean) scores it exactly."""
    toy = L1Config().model
    closed, kept, mean = no_superposition(toy)
    assert kept.tolist() == [True] * 5 + [False] * 5
    x = FeatureDistribution(toy.features, 1, 10).sample(1_000_000, torch.Generator().manual_seed(0))
    importance = 0.75 ** torch.arange(10.0)
    sampled = float((importance * x[0].var(0))[~kept].sum())
    assert abs(sampled / closed - 1) < 0.02  # ±0.7 % sampling error at 1e6 samples
    W, b = torch.zeros(1, 5, 10), torch.where(kept, 0.0, mean)[None]
    W[0, torch.arange(5), torch.arange(5)] = 1.0
    assert abs(float(paired_losses(W, b, toy)[0]) / closed - 1) < 1e-5
    assert float(paired_losses(W * 0.9, b, toy)[0]) > closed  # shrunk weights cost loss
