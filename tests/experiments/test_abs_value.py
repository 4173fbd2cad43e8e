"""abs-value's claims take weights (so run and null share one check): each holds on weights with
the property and flips on weights without it."""

import pytest
import torch
from pydantic import ValidationError

from superpose.experiments.abs_value import (
    GROWTH_SEED_COUNTS,
    GROWTH_SLACK,
    AbsValueConfig,
    claim_dense_monosemantic,
    claim_motif_present,
    claim_polysemantic_neurons_grow,
    claim_small_model_pairs,
    claim_superposition_grows,
    claim_top_features_monosemantic,
    no_superposition_baseline,
    one_neuron_short,
)
from superpose.experiments.tms_basic import growth_slack


def exact(counts: list[int], n: int = 60, m: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Weights computing |x_i| exactly for the first counts[k] features of instance k, two neurons
    each: (W_in [inst, hidden, n], W_out [inst, n, hidden])."""
    m = max(m, 2 * max(counts))
    W_in, W_out = torch.zeros(len(counts), m, n), torch.zeros(len(counts), n, m)
    for k, c in enumerate(counts):
        for i in range(c):
            W_in[k, 2 * i, i], W_in[k, 2 * i + 1, i] = 1.0, -1.0
            W_out[k, i, 2 * i], W_out[k, i, 2 * i + 1] = 1.0, 1.0
    return W_in, W_out


def test_superposition_grows_flips():
    assert claim_superposition_grows(exact([18, 20, 26]), 40).passed
    assert not claim_superposition_grows(exact([18, 20, 12]), 40).passed
    assert not claim_superposition_grows(exact([18, 19, 20]), 40).passed  # never > m/2


def test_growth_slack_is_seed_noise():
    """The growth claim's slack is the 1 % tail of the largest drop over curves built from the
    quick form's seeds (GROWTH_SEED_COUNTS): 3; a drop of 3 holds, one of 4 fails."""
    assert growth_slack(torch.tensor(GROWTH_SEED_COUNTS)) == GROWTH_SLACK == 3
    assert claim_superposition_grows(exact([20, 17, 26]), 40).passed
    assert not claim_superposition_grows(exact([20, 16, 26]), 40).passed


def test_polysemantic_neurons_grow_flips():
    def with_poly(counts, m=40, n=60):
        W = torch.zeros(len(counts), m, n)
        W[:, torch.arange(m), torch.arange(m)] = 1.0
        for k, c in enumerate(counts):
            W[k, torch.arange(c), torch.arange(c) + 1] = 0.8
        return W

    assert claim_polysemantic_neurons_grow(with_poly([0, 5, 30]), 40).passed
    assert not claim_polysemantic_neurons_grow(with_poly([30, 5, 3]), 40).passed


def test_small_model_and_dense_claims_flip():
    W_in, W_out = exact([3], n=3)
    assert claim_small_model_pairs((W_in, W_out, 1e-6), 1.0, 0.2).passed
    assert not claim_small_model_pairs((W_in, W_out, 0.5), 1.0, 0.2).passed  # loss not near zero
    half = W_in.clone()
    half[0, 1] = 0.0  # feature 0 has no negative-side neuron
    assert not claim_small_model_pairs((half, W_out, 1e-6), 1.0, 0.2).passed
    imp = 0.8 ** torch.arange(60.0)
    W_in, W_out = exact([20])
    assert claim_dense_monosemantic((W_in, W_out, 1.0), imp).passed
    assert not claim_dense_monosemantic((*exact([10], m=40), 1.0), imp).passed
    shifted_in, shifted_out = W_in.roll(10, dims=-1), W_out.roll(10, dims=-2)  # features 10..29
    assert not claim_dense_monosemantic((shifted_in, shifted_out, 1.0), imp).passed


def test_motif_and_baseline():
    m, n = 4, 3
    W_in, W_out = torch.zeros(1, m, n), torch.zeros(1, n, m)
    W_in[0, 0, 0], W_in[0, 0, 1] = 2.0, -0.5
    W_out[0, 0, 0], W_out[0, 1, 0] = 0.5, 2.0
    W_in[0, 1, 0], W_out[0, 1, 1], W_out[0, 0, 1] = 1.0, -1.0, 0.5
    W_in[0, 2, 2], W_out[0, 2, 2] = 1.0, 1.0
    assert claim_motif_present((W_in, W_out)).passed
    assert not claim_motif_present((W_in, torch.zeros_like(W_out))).passed
    # baseline: features m/2.. answered by E|x|; dense uniform [-1, 1] has Var|x| = 1/12
    got = no_superposition_baseline(torch.ones(6), torch.tensor([0.0]), 4)
    assert torch.allclose(got, torch.tensor([4 / 12]))


def test_top_features_monosemantic_flips():
    """Monosemantic neurons on features 0..9, polysemantic ones (features 20+ with 30+) after."""
    W = torch.zeros(1, 20, 60)
    for j in range(10):
        W[0, j, j] = 1.0
    for j in range(10, 20):
        W[0, j, j + 10], W[0, j, j + 20] = 1.0, 0.8
    assert claim_top_features_monosemantic(W).passed
    assert not claim_top_features_monosemantic(W.flip(-1)).passed
    assert not claim_top_features_monosemantic(W[:, :10]).passed  # no polysemantic neuron
    # motif-like neurons reading features 0..9 strongly and 50..59 weakly: their primary features
    # are the most important, but those have monosemantic neurons; 50..59 are only polysemantic
    motif = torch.zeros(1, 10, 60)
    for j in range(10):
        motif[0, j, j], motif[0, j, 50 + j] = 1.0, -0.5
    assert claim_top_features_monosemantic(torch.cat([W, motif], 1)).passed


def test_config_groups_ordered():
    """Each group's sparsities lie between its neighbours' (the claims read models densest first)."""
    group = {"sparsity": [0.5], "train": {}}
    assert AbsValueConfig(own=[group], model={"features": {"sparsity": [0.9]}})
    bad = [
        {"own": [group]},  # 0.5 also in model's sweep
        {"own": [{"sparsity": [0.0], "train": {}}]},
        {"own": [{"sparsity": [0.999], "train": {}}]},  # sparser than sparse_sparsity
        {"sparse_sparsity": [0.9]},
    ]
    for kwargs in bad:
        with pytest.raises(ValidationError):
            AbsValueConfig(**kwargs)


@pytest.mark.parametrize("sparsity", [0.0, 0.7])
def test_small_model_bar_is_one_neuron_short(sparsity):
    """The small model's loss bar is the loss of the best model lacking one of the 2n neurons
    (ReLU(−x) of the least important feature; the rest exact): the closed form matches that
    model's sampled loss, no nearby output gain or bias does better, and it is 0.2098 × the best
    constant's for the run's n = 3, I = 0.8^i, dense."""
    imp = 0.8 ** torch.arange(3.0)
    p = 1 - sparsity
    b = p / (4 - 1.5 * p)
    W_in, W_out = exact([3], n=3)
    W_in, W_out = W_in[0, :5], W_out[0, :, :5]  # neuron 5 (ReLU(−x_2)) missing

    def loss(gain: float, bias: float) -> float:
        g = torch.Generator().manual_seed(0)
        u = torch.rand(400_000, 3, generator=g) * 2 - 1
        x = torch.where(torch.rand(400_000, 3, generator=g) < p, u, 0.0)
        out_w = W_out.clone()
        out_w[2, 4] = gain
        y = torch.relu(torch.relu(x @ W_in.T) @ out_w.T + torch.tensor([0.0, 0.0, bias]))
        return float(((y - x.abs()) ** 2 * imp).sum(-1).mean())

    best = loss(1 - 1.5 * b, b)
    assert best == pytest.approx(one_neuron_short(imp, sparsity), rel=0.01)
    assert all(
        loss(1 - 1.5 * b + dg, b + db) > best
        for dg, db in [(0.05, 0), (-0.05, 0), (0, 0.05), (0, -0.05)]
    )
    constant = float(no_superposition_baseline(imp, torch.tensor([sparsity]), 0)[0])
    bar = one_neuron_short(imp, sparsity) / constant
    if sparsity == 0.0:
        assert round(bar, 4) == 0.2098
    W_in, W_out = exact([3], n=3)
    assert claim_small_model_pairs((W_in, W_out, 0.99 * bar * constant), constant, bar).passed
    short = one_neuron_short(imp, sparsity)  # one neuron short: not below the bar
    assert not claim_small_model_pairs((W_in, W_out, short), constant, bar).passed
