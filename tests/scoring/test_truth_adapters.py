"""Ground-truth adapters beyond CiS2: cis1, U-AND and the deep boolean circuit (the zoo's
learned entries are tested in tests/zoo)."""

from __future__ import annotations

import pytest
import torch

from superpose.base.errors import SuperposeError
from superpose.circuits.boolean import UAndConfig
from superpose.circuits.boolean_deep import DeepBooleanConfig
from superpose.circuits.cis1 import CiS1Config
from superpose.circuits.construction import build
from superpose.scoring import network_truth, random_dictionary, score, truth_dictionary
from superpose.scoring.truth import construction_directions


@pytest.fixture(scope="module")
def nets():
    return {
        "cis1": build(CiS1Config(width=200, neurons=200, circuits=20, layers=2)),
        # d = 400: at d = 300 U-AND fails the strict verification (mean |error| 0.255 > 0.25)
        "uand": build(UAndConfig(m=12, d=400, s=2)),
        "deep_boolean": build(
            DeepBooleanConfig(m=20, d=400, s=2, depth=2, k=8, k_correct=8, theta=0.45, margin=0.4)
        ),
    }


@pytest.mark.parametrize("name", ["cis1", "uand", "deep_boolean"])
def test_truth_dictionary_scores_one_random_does_not(nets, name):
    net = nets[name]
    truth = network_truth(net, 0, samples=128, active=2, seed=0)
    assert truth.acts.shape[0] == 128 and truth.values.shape[1] == truth.directions.shape[0]
    assert score(truth_dictionary(truth), truth, null_draws=0).mcc > 0.999
    rand = score(random_dictionary(truth.n_groups, truth.dim), truth, null_draws=0)
    assert rand.mmcs < 0.8


def test_directions_are_where_the_circuits_live(nets):
    # cis1: circuit t's directions are its embedding E_t, orthonormal columns
    dirs, groups = construction_directions(nets["cis1"], 0)
    E0 = dirs[groups == 0]
    torch.testing.assert_close(E0 @ E0.T, torch.eye(4), atol=1e-5, rtol=0)
    # U-AND: pair (i, j)'s neurons are exactly those wired to both inputs
    uand = nets["uand"]
    dirs, _ = construction_directions(uand, 0)
    conn = uand.layer.conn
    for q, (i, j) in enumerate(uand.pairs.tolist()):
        assert torch.equal(dirs[q].bool(), conn[:, i] & conn[:, j])
    # only the pair's own neurons respond when exactly its two inputs are on
    x = torch.zeros(1, 12)
    i, j = uand.pairs[0].tolist()
    x[0, [i, j]] = 1
    h = uand.forward(x)[0][0]
    assert torch.equal(h > 0, dirs[0].bool())


def test_unknown_layer_and_construction_are_one_line(nets):
    with pytest.raises(SuperposeError, match=r"layer 5 out of range \(layers 1..4\)"):
        construction_directions(nets["deep_boolean"], 4)

    class Other:
        name = "chosen_other"
        n_layers = 1

    with pytest.raises(SuperposeError, match="no ground-truth adapter for construction"):
        construction_directions(Other(), 0)


def test_deep_boolean_truth_has_a_direction_per_readout_sign(nets):
    """A perfect dictionary scores 1 on every deep boolean layer: the truth itself, and the
    network's own activation pattern of each wire (mean over the inputs that turn it on, on its
    neurons) — which one 0/1 indicator per wire over both readout signs capped at 1/√2 for an OR
    wire (one input on: only its B neurons fire) — while a random dictionary scores at its null."""
    from superpose.scoring import Truth

    net = nets["deep_boolean"]
    for layer in range(4):
        truth = network_truth(net, layer, samples=1000, active=2, seed=layer)
        assert truth.active.shape[1] == truth.n_groups == 20 and set(truth.ranks.tolist()) <= {1, 2}
        signal = truth.values @ truth.directions  # the exact values reconstruct the activations
        assert (signal - truth.acts).square().sum() < 0.2 * truth.acts.square().sum()
        oracle = score(truth.directions, truth, null_draws=0)
        assert oracle.mmcs > 0.999 and oracle.recovered == truth.n_groups
        support = torch.zeros(20, truth.dim).index_add_(0, truth.groups, truth.directions) > 0
        on = truth.active.any(0)
        pats = torch.stack(
            [(truth.acts[truth.active[:, g]] * support[g]).mean(0) for g in range(20) if on[g]]
        )
        own = score(pats, truth, null_draws=0)
        assert own.similarity.max(0).values[on].min() > 0.99
        if layer == 0:  # the old truth (one indicator per wire): its OR wires near 1/√2
            old = score(pats, Truth(support.float()), null_draws=0).similarity.max(0).values
            is_or = net.net.is_or[0].cpu() & on
            assert is_or.any() and old[is_or].max() < 0.75  # 0.72–0.73: A fires with both on
        rand = score(random_dictionary(80, truth.dim, seed=layer), truth, null_draws=0)
        lo, hi = rand.chance.band()
        assert lo <= rand.mmcs <= hi and rand.recovered == 0
