import json

import pytest
import torch
from safetensors.torch import load_file

from superpose.base.config import validate
from superpose.base.errors import SuperposeError
from superpose.circuits.cis1 import CiS1Config, build_cis1, sample_residual_inputs
from superpose.circuits.cis2 import CiS2, CiS2Config, build_cis2, dense_forward
from superpose.circuits.construction import load_construction, save_construction
from superpose.circuits.errors import (
    active_hosts,
    inactive_preactivation_noise,
    margin_noise_scale,
    margins_held,
    measure,
    run_profile,
)
from superpose.circuits.small import random_circuits, sample_inputs

# a z = 2 network outside the regime, built unverified: the error decomposition is studied on it
SMALL = CiS2Config(width=240, circuit_width=4, redundancy=4, circuits=100, layers=3, max_active=2)


@pytest.fixture(scope="module")
def net():
    return build_cis2(SMALL, verify=False)


@pytest.mark.parametrize("unembedding", ["mean", "plain", "overlap"])
def test_unembedding_inverts_embedding(unembedding):
    n = build_cis2(SMALL.replace(unembedding=unembedding), verify=False)
    for layer in range(n.L):
        E = n.embedding(layer).permute(1, 0, 2)  # [T, D, d]
        U = n.unembedding_matrix(layer)  # [T, d, D]
        UE = torch.einsum("tiD,tDj->tij", U, E)
        assert torch.allclose(UE, torch.eye(n.d).expand_as(UE), atol=1e-5)


def test_dense_equals_structured(net, gen):
    x, _ = sample_inputs(net.circuits, 16, 2, gen)
    structured = net.forward(x)
    dense = dense_forward(net.dense_module(), x)
    for a, b in zip(structured, dense, strict=True):
        assert torch.allclose(a, b, atol=1e-4)


def test_scatter_and_read_match_the_matrices(net, gen):
    h = torch.randn(3, net.T, net.d, generator=gen)
    E = net.embedding(1)  # [D, T, d]
    assert torch.allclose(net.scatter(h, 1), torch.einsum("ntd,btd->bn", E, h), atol=1e-5)
    A = torch.randn(3, net.width, generator=gen)
    U = net.unembedding_matrix(1)  # [T, d, D]
    assert torch.allclose(net.read(A, 1), torch.einsum("tdn,bn->btd", U, A), atol=1e-5)


def test_z1_exact_at_layer1_and_decomposition_sums(net, gen):
    x, mask = sample_inputs(net.circuits, 32, 1, gen)
    prof = measure(net, x, mask, keep_vectors=True)
    assert prof.active["total"][0] < 1e-10
    assert prof.active["propagation"][0] == 0.0
    v = prof.vectors
    for k in range(net.L):
        total = v["overlap"][k] + v["relu"][k] + v["propagation"][k]
        assert torch.allclose(total, v["total"][k], atol=1e-6)


def test_margins_held_oracle_and_inactive_noise(net, gen):
    x, mask = sample_inputs(net.circuits, 32, 2, gen)
    hosts = active_hosts(net, mask, 0)
    for b in range(2):
        want = torch.zeros(net.width, dtype=torch.bool)
        want[net.hosts(0)[mask[b]].reshape(-1)] = True
        assert torch.equal(hosts[b], want)
    held = margins_held(net, x, mask)
    prof = measure(net, x, mask)
    # layer 1: only active-hosting neurons can be on anyway, so the oracle changes nothing
    assert held["active"][0] == pytest.approx(prof.active["total"][0], abs=1e-9)
    assert held["inactive"][0] == pytest.approx(prof.inactive["total"][0], abs=1e-9)
    noise = inactive_preactivation_noise(net, x, mask)
    assert noise[0] == 0.0 and all(v > 0 for v in noise[1:])
    assert margin_noise_scale(6, 3, 557, 1000, 4) == pytest.approx((6 * 3 * 557 * 16 / 1e6) ** 0.5)


def test_regime_errors_name_the_limit():
    with pytest.raises(SuperposeError, match="redundancy S = 8 too large for D/d = 50"):
        build_cis2(SMALL.replace(width=200, redundancy=8))
    with pytest.raises(SuperposeError, match="exceeds the affine allocation's maximum"):
        build_cis2(SMALL.replace(circuits=5000, max_load=100))
    with pytest.raises(SuperposeError, match="divisible"):
        build_cis2(SMALL.replace(width=242))
    with pytest.raises(SuperposeError, match="capacity: z·T·d²/D²"):
        build_cis2(SMALL.replace(width=40, redundancy=2, circuits=100, max_active=2))
    with pytest.raises(SuperposeError, match="field 'circuit_kind'"):
        validate(CiS2Config, {**SMALL.to_dict(), "circuit_kind": "magic"}, source="cfg.yaml")


def test_custom_circuits_are_embedded_as_given():
    custom = random_circuits(100, 3, 4, seed=3)
    assert build_cis2(SMALL, circuits=custom, verify=False).circuits is custom


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ((1, 0, 0), "batch = 0: must be an integer in [1, 10000000]"),
        ((1, -3, 0), "batch = -3"),
        ((1, 2.5, 0), "batch = 2.5 (float)"),
        ((1, "8", 0), "batch = '8' (str)"),
        ((1, 8, 1.5), "seed = 1.5 (float): must be an integer in [0, 18446744073709551615]"),
        ((1, 8, 2**70), "seed = 1180591620717411303424"),
        ((0, 8, 0), "z = 0: must be an integer in [1, 100]"),
        ((2.5, 8, 0), "z = 2.5 (float)"),
    ],
)
def test_run_profile_checks_its_counts(net, args, words):
    """Was a reshape/max()/rand()/manual_seed traceback from torch."""
    with pytest.raises(SuperposeError) as err:
        run_profile(net, *args)
    assert str(err.value).startswith("run_profile: ") and words in str(err.value)


def test_run_profile_takes_a_construction_and_refuses_the_rest(net, tmp_path):
    """load_construction's CiS2 (its .net) is profiled like the network (was an AttributeError);
    anything else is one line."""
    wrapped = CiS2(SMALL.replace(allow_unverified=True), net)
    save_construction(wrapped, tmp_path)
    loaded = load_construction(tmp_path)
    assert run_profile(loaded, 2, 8, 0).to_dict() == run_profile(net, 2, 8, 0).to_dict()
    for bad in (None, "net", net.circuits):
        with pytest.raises(
            SuperposeError, match=r"run_profile: net must be a CiS2 network .*, got "
        ):
            run_profile(bad, 1, 8, 0)


def test_save_writes_weights_and_ground_truth(net, tmp_path):
    errors = {"z=1": run_profile(net, 1, 8, 0).to_dict()}
    paths = save_construction(CiS2(SMALL, net), tmp_path, errors)
    tensors = load_file(str(paths["weights"]))
    assert tensors["layer2.weight"].shape == (240, 240)
    gt = json.loads(paths["ground_truth"].read_text())
    hosts = gt["layers"][1]["hosts"]
    assert len(hosts) == 100 and len(hosts[0]) == 4 and len(hosts[0][0]) == 4
    # the dense weights connect exactly the hosted neurons of circuit 0 (neuron 0 → neuron 0)
    W = tensors["layer2.weight"]
    w00 = net.circuits.weights[0, 1, 0, 0]
    prev = gt["layers"][0]["hosts"][0][0]
    for row in hosts[0][0]:
        assert W[row, prev].abs().sum() > 0 or w00 == 0
    assert json.loads(paths["report"].read_text())["z=1"]["active"]["total"][0] < 1e-10
    assert gt["verified"] is False  # SMALL is outside the regime, built unverified
    with pytest.raises(SuperposeError, match="CiS2 verification failed"):
        load_construction(tmp_path)  # a loaded network is verified like a built one
    save_construction(CiS2(SMALL.replace(allow_unverified=True), net), tmp_path, errors)
    back = load_construction(tmp_path)
    assert not back.net.verified
    x = back.sample(8, 2, torch.Generator().manual_seed(0)).x
    for a, b in zip(back.forward(x), net.forward(x), strict=True):
        assert torch.equal(a, b)


def test_cis1_readout_close_for_single_circuit(gen):
    cfg = CiS1Config(width=400, neurons=400, circuits=40, layers=3)
    n = build_cis1(cfg)
    x, mask = sample_residual_inputs(40, 4, 16, 1, gen)
    exact = n.circuits.forward(x)
    reads = n.readouts(n.forward(x))
    rel = (reads[-1][mask] - exact[-1][mask]).pow(2).mean() / exact[-1][mask].pow(2).mean()
    assert rel < 0.05
    with pytest.raises(SuperposeError, match="divisible"):
        build_cis1(cfg.replace(neurons=401))
    with pytest.raises(SuperposeError, match="CiS1 verification failed: decoded R²"):
        build_cis1(cfg.replace(width=8, neurons=8, circuits=400))


@pytest.mark.parametrize(
    ("d", "unembedding", "allocation"),
    [(3, "plain", "affine"), (5, "mean", "random"), (6, "overlap", "prime")],
)
def test_dense_equals_structured_across_shapes(d, unembedding, allocation, gen):
    cfg = CiS2Config(
        width=60 * d,
        circuit_width=d,
        redundancy=3,
        circuits=40,
        layers=3,
        max_active=2,
        circuit_kind="random",
        allocation=allocation,
        unembedding=unembedding,
    )
    n = build_cis2(cfg, verify=False)
    x, _ = sample_inputs(n.circuits, 8, 2, gen)
    for a, b in zip(n.forward(x), dense_forward(n.dense_module(), x), strict=True):
        assert torch.allclose(a, b, atol=1e-4)


def test_noise_sized_threshold_is_an_option():
    import math

    from superpose.circuits.cis2 import Robustness, indicator_threshold

    cfg = CiS2Config(width=1000, circuits=400, max_active=1, max_load=100)
    assert indicator_threshold(cfg) == cfg.indicator_threshold == 0.5  # default unchanged
    noisy = cfg.replace(robustness=Robustness(threshold="noise"))
    sigma = 2 * math.sqrt(6 * 1 * 400 * 16 / 1000**2)
    assert indicator_threshold(noisy) == pytest.approx(min(0.9, 2 * sigma))
    assert indicator_threshold(noisy.replace(circuits=10)) == 0.5  # never below β₀
    assert indicator_threshold(noisy.replace(max_active=3)) == 0.9  # capped
    net = build_cis2(noisy.replace(circuits=60, width=400, layers=3), verify=False)
    assert net.circuits.threshold == pytest.approx(
        indicator_threshold(noisy.replace(circuits=60, width=400))
    )
