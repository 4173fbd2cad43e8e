"""Robustness.recentre (value re-centring, issue 12 item 2): exact in the small circuits, off by
default (main's networks unchanged), it cancels the gate noise it targets, and a recentred network
is verified when built and refused when doctored; error_sources splits the active error."""

import pytest
import torch

from superpose.base.errors import SuperposeError
from superpose.circuits.cis2 import CiS2Config, Robustness, build_cis2, recentre_values
from superpose.circuits.cis2_regime import verify_cis2
from superpose.circuits.small import make_circuits, sample_inputs

CFG = CiS2Config(width=480, redundancy=6, circuits=60, layers=3, max_active=1, embedding="linked")
RECENTRE = Robustness(recentre=True)


def test_off_by_default_and_byte_identical():
    assert not CiS2Config().robustness.recentre
    net = build_cis2(CFG)
    plain = make_circuits("rotation", 60, 3, 4, 0, 0.5, 1.0)  # what main builds
    assert torch.equal(net.circuits.weights, plain.weights)
    explicit = build_cis2(CFG.replace(robustness=Robustness(recentre=False)))
    for a, b in zip(net.dense_weights(), explicit.dense_weights(), strict=True):
        assert torch.equal(a, b)


@pytest.mark.parametrize("kind,d", [("rotation", 4), ("random", 6)])
def test_recentred_circuits_compute_the_same(kind, d):
    plain = make_circuits(kind, 20, 4, d, 3, 0.7, 0.5)
    new = recentre_values(plain)
    assert torch.equal(new.weights[:, 0], plain.weights[:, 0])  # layer 1 reads the inputs
    assert torch.equal(new.weights[:, :, :2], plain.weights[:, :, :2])  # indicator rows kept
    assert not torch.equal(new.weights[:, 1:, 2:], plain.weights[:, 1:, 2:])
    for z in (1, 3):
        x, _ = sample_inputs(plain, 32, z, torch.Generator().manual_seed(z))
        for a, b in zip(plain.forward(x), new.forward(x), strict=True):
            assert torch.allclose(a, b, atol=1e-5)


def test_recentring_cancels_common_gate_noise():
    """Noise that lifts a0 and a1 by ν and value i by ḡ_i·ν/g (the shared gate) leaves the next
    recentred layer unchanged; the plain layer carries it forward."""
    plain = make_circuits("rotation", 50, 2, 4, 1, 0.5, 1 / 3)
    new = recentre_values(plain)
    x, mask = sample_inputs(plain, 16, 1, torch.Generator().manual_seed(0))
    a = plain.forward(x)[0][mask]  # layer-1 activations of the active circuits: [16, 4]
    gate = (plain.weights[:, 0, 2:, 0] - plain.weights[:, 0, 2:, 1]).mean(0) / 2
    noise = 0.1 * torch.cat([torch.ones(2), gate / 2])
    t = mask.nonzero()[:, 1]

    def step(c, inp):
        return torch.relu(torch.einsum("bij,bj->bi", c.weights[t, 1], inp) + c.biases[t, 1])

    assert torch.allclose(step(new, a + noise), step(new, a), atol=1e-5)
    assert (step(plain, a + noise) - step(plain, a))[:, 2:].abs().max() > 0.01


def test_recentred_network_verified_and_doctored_refused():
    cfg = CFG.replace(robustness=RECENTRE)
    net = build_cis2(cfg)  # strict verification: active and inactive, every layer
    assert net.verified
    net.bias[1:, 2 * net.block :] = (
        0.0  # layers ≥ 2: value neurons lose their margin, fire when off
    )
    report = verify_cis2(net, cfg.max_active, cfg.verify_batch, cfg.seed + 2)
    assert not report["passed"]
    assert "\n" not in report["failure"] and "`" in report["failure"]
    with pytest.raises(SuperposeError, match="verification failed"):
        build_cis2(cfg.replace(circuits=380, max_load=100))  # overloaded: refused


def test_error_sources_split():
    from superpose.circuits.cis2_regime import error_sources

    cfg = CFG.replace(circuits=300, max_load=100)  # outside the regime: free neurons fire
    out = error_sources(build_cis2(cfg, verify=False), 1, 64, 5)
    none, off = (out[f"active MSE, free neurons silenced: {k}"] for k in ("none", "all"))
    assert len(none) == len(off) == 3 and none[0] == pytest.approx(0, abs=1e-9)  # layer 1 exact
    assert off[-1] < none[-1]  # silencing the free neurons removes error
    assert max(out["free neurons firing, per block"][-1]) > 0
    assert out["mean α, free neurons silenced: none"][0] == pytest.approx(1.0)
    assert min(out["mean α, free neurons silenced: all"]) == pytest.approx(1.0, abs=1e-4)
