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
