import json

import numpy as np
import pytest
import torch

from superpose.base.errors import SuperposeError
from superpose.circuits.allocation import make_allocation
from superpose.circuits.cis2 import CiS2Config, build_cis2, dense_forward, ground_truth
from superpose.circuits.cis2_regime import (
    fixed_positions,
    measured_switch_on,
    predict_regime,
    verify_cis2,
)
from superpose.circuits.small import sample_inputs

# inside the regime: passes the strict verification
GOOD = CiS2Config(width=480, redundancy=6, circuits=60, layers=3, max_active=1, embedding="linked")


@pytest.fixture(scope="module")
def good():
    return build_cis2(GOOD)


def test_good_network_is_verified_and_says_so(good):
    assert good.verified
    rep = good.verification
    assert rep["passed"] and rep["failures"] == []
    assert min(rep["per_z"]["1"]["r2"]) >= 0.9
    assert min(rep["per_z"]["1"]["alpha_mean"]) >= 0.9
    assert rep["regime"]["1"]["inside"]
    gt = ground_truth(good)
    assert gt["verified"] is True and gt["verification"]["failure"] is None


def _doctored(layer: int, block: slice, shift: float, circuit: int | None = None):
    """Verification of GOOD with the biases of `block` (a range of the d blocks) shifted at `layer`,
    at every neuron or only at the neurons hosting `circuit`."""
    bad = build_cis2(GOOD, verify=False)
    N = bad.block
    if circuit is None:
        bad.bias[layer, block.start * N : block.stop * N] += shift
    else:
        bad.bias[layer, bad.hosts(layer)[circuit, block].reshape(-1)] += shift
    return verify_cis2(bad, 1, GOOD.verify_batch, GOOD.seed + 2)


def test_inactive_checks_flip_on_a_doctored_network():
    # circuit 0's own a0 neurons held on (margin −0.5): it reads on while inactive
    rep = _doctored(1, slice(0, 1), 1.0, circuit=0)
    assert any("of inactive circuits' on-indicators read" in f for f in rep["failures"])
    # every a0 margin 0.5 → 0.05: noise switches neurons on and the inactive error grows
    rep = _doctored(1, slice(0, 1), 0.45)
    assert any("inactive error grew" in f for f in rep["failures"]), rep["failures"]


@pytest.mark.parametrize(
    ("block", "shift", "message"),
    [
        # value neurons pushed below their operating point: the payload is lost
        (slice(2, 4), -1.5, "decoded R²"),
        # indicator neurons lowered: a0 = 2α − 1.3, a1 off → α = 0.7 (still on, not kept)
        (slice(0, 2), -0.8, "mean on-indicator α"),
        # lowered further: α = 0.3 ≤ β, the active circuit switches off
        (slice(0, 2), -1.2, "active circuit's on-indicator fell"),
    ],
)
def test_active_checks_flip_on_a_doctored_network(block, shift, message):
    rep = _doctored(1, block, shift)
    assert not rep["passed"]
    assert any(message in f for f in rep["failures"]), rep["failures"]


def test_overloaded_config_refused_with_one_line():
    with pytest.raises(SuperposeError) as err:
        build_cis2(CiS2Config(width=1000, circuits=557, layers=5, max_active=3))
    msg = str(err.value)
    assert "\n" not in msg and "verification failed" in msg and "layer" in msg
    assert "`circuits`" in msg and "regime criterion: outside" in msg


def test_unverified_network_is_marked():
    cfg = CiS2Config(width=1000, circuits=557, layers=3, max_active=1, allow_unverified=True)
    net = build_cis2(cfg)
    assert not net.verified and net.verification["failures"]  # verified, failed, returned
    assert ground_truth(net)["verified"] is False
    assert not build_cis2(cfg, verify=False).verified


def test_fixed_positions_balance_usage_and_permute_per_layer():
    alloc = make_allocation("affine", 500, 6)
    pos = fixed_positions(alloc, 557, 3, torch.Generator().manual_seed(0))
    for layer in pos:
        use = np.bincount(layer.reshape(-1).numpy(), minlength=500)
        assert use[use > 0].max() - use[use > 0].min() <= 1
    assert not torch.equal(pos[0], pos[1])  # circuits re-permuted per layer
    # the null: a fresh random subset of the allocation per layer is unbalanced
    rand = alloc.sets[np.random.default_rng(0).permutation(alloc.capacity)[:557]]
    assert np.bincount(rand.ravel(), minlength=500).max() >= use.max() + 4
    # where the first T sets are unbalanced, allocation.family replaces their overused neurons
    alloc = make_allocation("affine", 250, 4)
    use = np.bincount(
        fixed_positions(alloc, 875, 1, torch.Generator())[0].reshape(-1), minlength=250
    )
    assert use.max() <= 15 < np.bincount(alloc.sets[:875].ravel(), minlength=250).max()


def test_regime_criterion_predicts_switch_on_and_side():
    # the reference width is outside, twice the width inside (issue 12)
    assert not predict_regime(1000, 4, 6, 557, 1, 5)["inside"]
    assert predict_regime(2000, 4, 6, 557, 1, 5)["inside"]
    # the plain E_tᵀ/S readout keeps the noise's mean: predicted runaway
    assert not predict_regime(2000, 4, 6, 557, 1, 5, unembedding="plain")["inside"]
    cfg = CiS2Config(width=2000, circuits=557, layers=3, max_active=1)
    net = build_cis2(cfg, verify=False)
    x, mask = sample_inputs(net.circuits, 64, 1, torch.Generator().manual_seed(0))
    measured = measured_switch_on(net, x, mask)[1]
    predicted = predict_regime(2000, 4, 6, 557, 1, 3)["switch_on"][1]
    assert measured == pytest.approx(predicted, rel=0.3)
    assert predict_regime(2000, 4, 6, 50, 1, 3)["switch_on"][1] < 0.2 * predicted


def test_regime_criterion_sees_the_last_layers_readouts():
    # at L = 2 the noise the last layer's readouts feed forward is what its inactive error is
    # measured on: cis2-readout-scaling's λ = 0.02 (measured inactive L/1 2.9) is outside, λ =
    # 0.0025 (L/1 0.9) inside; comparing layer L's noise with layer 2's read 1 at any load
    assert not predict_regime(800, 4, 5, 800, 2, 2)["inside"]
    assert predict_regime(800, 4, 5, 100, 2, 2)["inside"]
    assert predict_regime(800, 4, 5, 800, 2, 1)["noise_growth"] == 1.0


def test_linked_dense_equals_structured(good):
    x, _ = sample_inputs(good.circuits, 8, 1, torch.Generator().manual_seed(1))
    for a, b in zip(good.forward(x), dense_forward(good.dense_module(), x), strict=True):
        assert torch.allclose(a, b, atol=1e-4)
    assert good.verification["dense_structured_max_gap"] < 1e-4


def test_overlap_readout_exact_without_shared_neurons():
    # T·S ≤ N: no neuron hosts two circuits, so nothing bleeds; 'mean' still shifts every readout
    cfg = CiS2Config(width=1000, circuits=41, layers=3, max_active=3, unembedding="overlap")
    net = build_cis2(cfg)
    assert max(net.verification["per_z"]["3"]["inactive_mse"]) < 1e-10
    with pytest.raises(SuperposeError, match="decoded R²"):
        build_cis2(cfg.replace(unembedding="mean"))


def test_ground_truth_json_serialisable(good):
    json.dumps(ground_truth(good))


def test_indicator_snap_keeps_circuits_exact_and_is_verified():
    """Robustness.indicator_gain steepens the on-indicator (a per-layer snap of α to {0, 1}): the
    exact circuits still hold α ∈ {0, 1}, the verification's boundary is the new unstable point, the
    criterion sees the larger lit activations, and a doctored snapped network is still refused."""
    from superpose.circuits.cis2 import Robustness
    from superpose.circuits.cis2_regime import indicator_boundary, indicator_snap

    # off threshold β/2 = 0.45, saturation from 0.7, unstable point 4·0.9/6 = 0.6
    snapped = GOOD.replace(indicator_threshold=0.9, robustness=Robustness(indicator_gain=4))
    net = build_cis2(snapped)  # verified, or this raises
    assert net.verified and indicator_snap(net.circuits) == pytest.approx((4.0, 0.9))
    assert indicator_boundary(net.circuits) == pytest.approx(0.6)
    assert indicator_boundary(build_cis2(GOOD, verify=False).circuits) == pytest.approx(0.5)
    x, mask = sample_inputs(net.circuits, 8, 1, torch.Generator().manual_seed(0))
    for a in net.circuits.forward(x):
        alpha = a[..., 0] - a[..., 1]
        assert torch.allclose(alpha, mask.float(), atol=1e-5)
    steep, post = (
        predict_regime(1000, 4, 6, 400, 1, 5, embedding="linked", indicator_gain=g)["noise_growth"]
        for g in (4.0, 2.0)
    )
    assert steep > post
    bad = build_cis2(snapped, verify=False)
    bad.bias[1, : bad.block] -= 3.0  # a0 held off: active circuits switch off
    rep = verify_cis2(bad, 1, GOOD.verify_batch, GOOD.seed + 2)
    assert any("on-indicator fell" in f for f in rep["failures"]), rep["failures"]
