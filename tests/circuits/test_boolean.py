import math

import pytest
import torch

from superpose.base.errors import SuperposeError
from superpose.circuits import boolean as B
from superpose.circuits import boolean_errors as BE
from superpose.circuits import boolean_inputs as BI


def small_uand(**kw):
    fields = {"m": 8, "d": 300, "s": 3, "p": 0.3, "seed": 1, **kw}
    return B.build_uand(B.make_config(B.UAndConfig, **fields))


def brute_force_readout(layer, x, pairs):
    """Naive per-pair, per-input loop of the averaging readout."""
    h = layer.hidden(x)
    out = torch.zeros(len(x), len(pairs))
    for q, (i, j) in enumerate(pairs.tolist()):
        neurons = [n for n in range(layer.d) if layer.conn[n, i] and layer.conn[n, j]]
        for b in range(len(x)):
            out[b, q] = h[b, neurons].mean() if neurons else 0.0
    return out


def brute_force_errors(conn, x, pairs):
    """Error of the U-AND readout straight from the definition (neuron = ReLU(#active − 1))."""
    errs, cases = [], []
    for xb in x.tolist():
        for i, j in pairs.tolist():
            neurons = [n for n in range(conn.shape[0]) if conn[n, i] and conn[n, j]]
            vals = [max(sum(xb[k] for k in range(len(xb)) if conn[n, k]) - 1, 0) for n in neurons]
            errs.append(sum(vals) / len(vals) - xb[i] * xb[j])
            cases.append(int(xb[i] + xb[j]))
    return torch.tensor(errs), torch.tensor(cases)


def test_readout_equals_brute_force_and_blocks_agree():
    layer = small_uand()
    x = BI.exact_inputs(8, 3)
    pairs = BI.all_pairs(8)
    fast = layer.readout(layer.hidden(x), pairs, block=5)
    assert torch.allclose(fast, brute_force_readout(layer, x, pairs), atol=1e-6)
    assert torch.allclose(fast, layer.readout(layer.hidden(x), pairs, block=10_000), atol=1e-6)


@pytest.mark.parametrize("sparse", [True, False])
def test_readout_both_paths_equal_brute_force(sparse):
    # d = 300, p = 0.1: pairs served by 0..~10 neurons (some by none, which read 0)
    layer = small_uand(m=10, p=0.1)
    x = BI.exact_inputs(10, 3)
    pairs = BI.all_pairs(10)
    assert (layer.shared_counts(pairs) == 0).any() and (layer.shared_counts(pairs) > 1).any()
    fast = layer.readout(layer.hidden(x), pairs, block=7, sparse=sparse)
    assert torch.allclose(fast, brute_force_readout(layer, x, pairs), atol=1e-6)


def test_readout_chooses_sparse_only_when_few_neurons_serve_a_pair():
    x, pairs = BI.exact_inputs(8, 3), BI.all_pairs(8)
    for p, sparse in ((0.05, True), (0.6, False)):
        layer = small_uand(p=p)
        served = float(layer.shared_counts(pairs).sum()) / (len(pairs) * layer.d)
        assert (served < B.SPARSE_BELOW) == sparse
        h = layer.hidden(x)
        assert torch.equal(layer.readout(h, pairs), layer.readout(h, pairs, sparse=sparse))


def test_exhaustive_stats_match_definition():
    layer = small_uand(m=6, d=40, p=0.5)
    x = BI.exact_inputs(6, 3)
    pairs = BI.all_pairs(6)
    err, case = BE.uand_errors(layer, x, pairs)
    ref_err, ref_case = brute_force_errors(layer.conn, x, pairs)
    assert torch.allclose(err.reshape(-1), ref_err.float(), atol=1e-5)
    assert torch.equal(case.reshape(-1), ref_case)


def test_both_on_is_exact_when_only_the_pair_is_active():
    # s = 2: when both inputs of the pair are on nothing else is, so its neurons read exactly 1
    layer = small_uand(m=7, d=200, s=2, p=0.5)
    err, case = BE.uand_errors(layer, BI.exact_inputs(7, 2), BI.all_pairs(7))
    assert err[case == 2].abs().max() == 0


@pytest.mark.parametrize("s,p", [(3, 0.2), (4, 0.1)])
def test_mean_errors_follow_formulas(s, p):
    layer = B.build_uand(B.make_config(B.UAndConfig, m=16, d=6000, s=s, p=p, seed=0))
    stats = BE.exhaustive_stats(layer, s)
    pred = BE.predicted_mean_errors(s, p)
    for case in B.CASES:
        assert stats[case]["mean"] == pytest.approx(pred[case], rel=0.1, abs=0.004)


def test_formula_values():
    pred = BE.predicted_mean_errors(3, 0.5)
    assert pred == {"both": 0.5, "one": 1.0, "neither": 1.5 - 1 + 0.125}


def test_linear_baseline_is_off_by_exactly_a_quarter():
    x = BI.exact_inputs(6, 2)
    pairs = BI.all_pairs(6)
    err = BI.linear_and_baseline(x, pairs) - BI.and_truth(x, pairs)
    assert torch.allclose(err.abs(), torch.full_like(err, 0.25))


def test_xor_readout():
    xi = torch.tensor([0.0, 0, 1, 1])
    xj = torch.tensor([0.0, 1, 0, 1])
    assert BI.xor_readout(xi, xj, xi * xj).tolist() == [0, 1, 1, 0]


def test_superposed_noise_std():
    cfg = B.make_config(B.UAndConfig, m=1500, d=600, s=3, inputs="superposed", seed=0)
    layer = B.build_uand(cfg)
    x = BI.sample_inputs(64, 1500, 3, torch.Generator().manual_seed(0))
    noise = (layer.embed(x) @ layer.F) @ layer.conn.float().T - x @ layer.conn.float().T
    assert float(noise.std()) == pytest.approx(math.sqrt(cfg.p_value * 1500 * 3 / 600), rel=0.1)


def test_dense_weights_give_the_same_hidden():
    layer = small_uand(m=30, d=50, inputs="superposed", d0=20)
    x = BI.sample_inputs(10, 30, 3, torch.Generator().manual_seed(0))
    dense = torch.relu(layer.embed(x) @ layer.weights().T + layer.bias)
    assert torch.allclose(dense, layer.hidden(x), atol=1e-5)


def test_case_pairs_are_balanced_and_valid():
    gen = torch.Generator().manual_seed(0)
    x = BI.sample_inputs(50, 20, 4, gen)
    pairs = BE.case_pairs(x, 3, gen)
    assert pairs.shape == (50, 9, 2)
    assert (pairs[..., 0] != pairs[..., 1]).all()
    on = x.gather(1, pairs[..., 0]) + x.gather(1, pairs[..., 1])
    assert (on[:, :3] == 0).all() and (on[:, 3:6] == 1).all() and (on[:, 6:] == 2).all()


def test_adversarial_search_finds_at_least_the_sampled_worst():
    layer = small_uand(m=10, d=60, p=0.4)
    out = BE.worst_case_search(layer, 3, torch.Generator().manual_seed(0), n_inputs=64)
    exhaustive = BE.exhaustive_stats(layer, 3)
    for case in B.CASES:
        assert out[case]["adversarial_worst"] >= out[case]["sampled_worst"]
        assert out[case]["adversarial_worst"] <= exhaustive[case]["worst"] + 1e-6


def test_chosen_gates_isolated_gate_is_exact_and_fan_in():
    gates = torch.tensor([[0, 1, 2], [3, 4, 5]])
    cfg = B.make_config(B.ChosenGatesConfig, m=6, d=20, k=5, fan_in=3, s=3)
    layer = B.build_chosen_gates(cfg, gates)
    x = BI.exact_inputs(6, 3)
    err, on = BE.gate_errors(layer, x)
    # the two gates use disjoint inputs: no input of one gate reaches the other's neurons unless
    # a neuron serves both; where all of a gate's inputs are on, the readout is at least 1
    assert (err[on == 3] >= 0).all()
    assert float(err[on == 3].min()) == 0.0
    assert set(layer.conn.sum(1).tolist()) <= {0, 3, 6}


def test_random_gates_distinct():
    g = B.random_gates(10, 45, 2, torch.Generator().manual_seed(0))
    assert len({tuple(r) for r in g.tolist()}) == 45
    with pytest.raises(SuperposeError, match="n_gates"):
        B.random_gates(10, 46, 2, torch.Generator())


@pytest.mark.parametrize(
    "fields,words",
    [
        ({"m": 3, "s": 5}, ["s = 5", "m = 3"]),
        ({"p": 0.0}, ["'p'", "greater than 0"]),
        ({"p": 1.5}, ["'p'", "less than or equal to 1"]),
        ({"d": 0}, ["'d'"]),
        ({"inputs": "dense"}, ["'inputs'"]),
        ({"d": 10, "shared": 20}, ["shared"]),
    ],
)
def test_bad_uand_parameters_give_one_line_errors(fields, words):
    with pytest.raises(SuperposeError) as info:
        B.make_config(B.UAndConfig, **fields)
    msg = str(info.value)
    assert "\n" not in msg
    for w in words:
        assert w in msg


def test_bad_chosen_gates():
    with pytest.raises(SuperposeError, match="k = 30"):
        B.make_config(B.ChosenGatesConfig, d=20, k=30)
    cfg = B.make_config(B.ChosenGatesConfig, m=6, d=20, k=5)
    with pytest.raises(SuperposeError, match="gate inputs"):
        B.build_chosen_gates(cfg, torch.tensor([[0, 7]]))
    with pytest.raises(SuperposeError, match="shape"):
        B.build_chosen_gates(cfg, torch.tensor([[0, 1, 2]]))
