"""l1-no-superposition's claims: superposition that pays without L1, L1 removing it at m features
(not by dropping features), and the loss cost measured against the best no-superposition model."""

import torch

from superpose.experiments.l1_no_superposition import (
    claim_control_superposed,
    claim_l1_costs_loss,
    claim_l1_removes_superposition,
)
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
