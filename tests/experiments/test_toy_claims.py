"""Claims of the adversarial, privileged-basis and l1 experiments are computed from their inputs:
each holds on weights/numbers with the property and flips on doctored ones lacking it."""

import torch

from superpose.experiments.adversarial import (
    adversarial_train,
    claim_removed_only_at_large_norms,
    claim_tracks_features_per_dim,
    claim_vulnerability_rises,
)
from superpose.experiments.privileged_basis import (
    PAPER_SHARE,
    POLY_ALPHA,
    PrivilegedBasisConfig,
    claim_basis_aligned,
    claim_monosemantic_when_dense,
    claim_more_features_than_neurons,
    claim_polysemantic_when_sparse,
    second_share,
    share_bar,
    shift_p,
)
from superpose.toy import metrics
from superpose.toy.config import ToyConfig
from superpose.toy.models import ToyModel


def mono(n=10, m=5):
    W = torch.zeros(m, n)
    W[torch.arange(m), torch.arange(m)] = 1.0
    return W


def poly(n=10, m=5):
    W = torch.zeros(m, n)
    for j in range(m):
        W[j, 2 * j], W[j, 2 * j + 1] = 1.0, 0.8
    return W


def test_vulnerability_claims_flip():
    rising = torch.tensor([1.0, 2.0, 4.0, 6.0])
    per_dim = torch.tensor([1.0, 2.1, 3.9, 6.2])
    assert claim_vulnerability_rises(rising).passed
    assert claim_tracks_features_per_dim((rising, per_dim)).passed
    flat = torch.tensor([1.0, 1.2, 0.9, 1.1])
    assert not claim_vulnerability_rises(flat).passed
    assert not claim_tracks_features_per_dim((flat, per_dim)).passed


def test_superposition_removed_only_at_large_norms_flips():
    eps = [0.0, 0.1, 0.2, 0.4, 0.8]
    rep = torch.tensor([20, 20, 20, 15, 8])  # reported, not judged
    claim = claim_removed_only_at_large_norms((eps, torch.tensor([5.7, 5.8, 5.2, 2.6, 0.9]), rep))
    assert claim.passed and claim.measured["features with ‖W_i‖ > 0.5 per ε"]["0.8"] == 8
    early = torch.tensor([5.7, 5.8, 0.9, 0.8, 0.7])  # gone already at a small attack
    assert not claim_removed_only_at_large_norms((eps, early, rep)).passed
    never = torch.tensor([5.7, 5.8, 5.2, 2.6, 1.4])
    assert not claim_removed_only_at_large_norms((eps, never, rep)).passed
    # gone at half the paper's norm: the old bar (kept only at ε ≤ 0.2) passed it, the paper's not
    half = torch.tensor([5.7, 5.8, 5.2, 0.95, 0.9])
    assert not claim_removed_only_at_large_norms((eps, half, rep)).passed
    # a grid without the paper's 0.8 cannot show it
    assert not claim_removed_only_at_large_norms(
        ([0.0, 0.4, 1.6], torch.tensor([5.2, 2.6, 0.9]), rep[2:])
    ).passed


def test_adversarial_training_without_attack_is_plain_training():
    """ε = 0 trains on clean inputs whatever ε the other instances get; ε > 0 changes training."""
    toy = ToyConfig(n_features=6, n_hidden=2, features={"sparsity": 0.9}, train={"steps": 30})
    a = adversarial_train(toy, [0.0, 0.5], torch.device("cpu")).W.detach()
    b = adversarial_train(toy, [0.0, 0.0], torch.device("cpu")).W.detach()
    assert torch.allclose(a[0], b[0])
    assert not torch.allclose(a[1], b[1])


def test_adversarial_vulnerability_measures_superposition():
    """No superposition (orthogonal features) gives ≈ max I = 1; an antipodal/pentagon layout more."""
    n = 5
    x = torch.rand(1, 4096, n) * (torch.rand(1, 4096, n) < 0.1)
    imp = torch.ones(1, n)
    eye = torch.eye(n)[None]
    v_eye = metrics.adversarial_vulnerability(eye, torch.zeros(1, n), x, imp)["vulnerability"]
    angles = torch.arange(n) * 2 * torch.pi / n
    pent = torch.stack([angles.cos(), angles.sin()])[None]
    v_pent = metrics.adversarial_vulnerability(pent, torch.full((1, n), -0.3), x, imp)
    assert abs(float(v_eye[0]) - 1.0) < 0.05
    assert float(v_pent["vulnerability"][0]) > 1.5 * float(v_eye[0])


def test_privileged_basis_claims_flip():
    W = torch.stack([mono(), poly()])
    assert claim_monosemantic_when_dense(W).passed
    assert claim_polysemantic_when_sparse(W).passed
    assert claim_more_features_than_neurons(W).passed
    swapped = torch.stack([poly(), mono()])
    assert not claim_monosemantic_when_dense(swapped).passed
    assert not claim_polysemantic_when_sparse(swapped).passed
    assert not claim_more_features_than_neurons(swapped).passed


def test_share_bar_is_the_untrained_tail():
    """The share bar is the 1 % tail of untrained models: ~1 % of fresh untrained models have every
    neuron monosemantic at it; the old 0.1 left none so, and 0.5 leaves every model so."""
    model = PrivilegedBasisConfig().model
    assert abs(share_bar(model) - PAPER_SHARE) < 0.003
    gen = torch.Generator().manual_seed(3)
    W = ToyModel(model.model, 20_000, 10, 5, gen).W.detach()
    assert 0.006 < float((second_share(W) < PAPER_SHARE).float().mean()) < 0.014
    assert float((second_share(W) < 0.1).float().mean()) < 0.001
    assert bool((second_share(W) < 0.5).all())


def test_polysemantic_shift_bar_could_fail():
    assert abs(shift_p(5, 0, 5, 5) - 1 / 252) < 1e-12
    assert abs(shift_p(5, 0, 5, 4) - 5 / 210) < 1e-12
    assert shift_p(5, 0, 5, 3) > POLY_ALPHA  # half the alive neurons, the old bar: chance
    three = poly()
    three[3:] = mono()[3:]  # 3 of 5 neurons polysemantic at the sparsest
    four = poly()
    four[4:] = mono()[4:]
    assert claim_polysemantic_when_sparse(torch.stack([mono(), four])).passed
    c = claim_polysemantic_when_sparse(torch.stack([mono(), three]))
    assert not c.passed and c.measured["polysemantic"] == 3


def test_basis_aligned_flips_under_rotation():
    W = torch.stack([mono(), poly()])
    assert claim_basis_aligned(W).passed
    Q = torch.linalg.qr(torch.randn(5, 5, generator=torch.Generator().manual_seed(1)))[0]
    assert not claim_basis_aligned(Q @ W).passed  # the same geometry in a rotated basis


def test_negative_weights_do_not_count_as_polysemantic():
    W = mono()
    W[0, 7] = -1.5  # inhibition: neuron 0 never fires for feature 7 (inputs ≥ 0)
    assert claim_monosemantic_when_dense(W[None]).passed


def ring(angles_deg, norm=1.0):
    a = torch.deg2rad(torch.tensor(angles_deg, dtype=torch.float32))
    return norm * torch.stack([a.cos(), a.sin()])  # [2, n]


def test_correlated_claims_flip():
    from superpose.experiments.correlated import (
        claim_anticorrelated_antipodal,
        claim_correlated_orthogonal,
        claim_hexagon_when_sparse,
        claim_local_orthogonal_bases,
        claim_pca_when_dense,
    )

    orth = ring([0, 90, 180, 270])[None]  # pairs (0,1), (2,3) orthogonal within
    anti = ring([0, 180, 90, 270])[None]  # pairs antipodal within
    assert claim_correlated_orthogonal(orth).passed
    assert not claim_correlated_orthogonal(anti).passed
    assert claim_anticorrelated_antipodal(anti).passed
    assert not claim_anticorrelated_antipodal(orth).passed

    hexagon = ring([0, 60, 120, 180, 240, 300])
    collapsed = ring([0, 0, 120, 120, 240, 240])
    sweep = torch.stack([collapsed, hexagon])
    assert claim_hexagon_when_sparse(sweep).passed
    assert claim_pca_when_dense(sweep).passed
    assert not claim_hexagon_when_sparse(sweep.flip(0)).passed
    assert not claim_pca_when_dense(sweep.flip(0)).passed
    one_pair = ring([0, 0, 120, 120, 240, 240]) * torch.tensor([1, 1, 0.1, 0.1, 0.1, 0.1])
    assert not claim_pca_when_dense(one_pair[None]).passed  # fewer than m pairs represented
    pentagon_plus = ring([0, 72, 144, 216, 288, 0])  # a pair collapsed, not a hexagon
    assert not claim_hexagon_when_sparse(pentagon_plus[None]).passed

    # two sets of 5 in m=5: each set an orthonormal basis, the sets rotated against each other
    basis = torch.eye(5)
    rot = torch.linalg.qr(torch.randn(5, 5, generator=torch.Generator().manual_seed(0)))[0]
    local = torch.cat([basis, rot @ basis], dim=1)[None]  # [1, 5, 10]
    assert claim_local_orthogonal_bases(local, 5).passed
    mixed = local[:, :, [0, 5, 1, 6, 2, 7, 3, 8, 4, 9]]  # sets mix the two bases
    assert not claim_local_orthogonal_bases(mixed, 5).passed
    # 2 sets of 3: only 10 groupings exist, so p ≥ 1/10 — too few features to show it
    small = torch.cat([torch.eye(3), rot[:3, :3] @ torch.eye(3)], dim=1)[None]
    assert claim_local_orthogonal_bases(small, 3).measured["random regroupings p"] >= 0.05


def untrained_draws(n: int, m: int, draws: int) -> torch.Tensor:
    """`draws` independent untrained weights [draws, m, n] (the correlated claims' null)."""
    from superpose.experiments.base import untrained

    toy = ToyConfig(n_features=n, n_hidden=m, features={"sparsity": [0.9] * draws}, seed=3)
    return untrained(toy).W.detach()


def test_correlated_thresholds_are_the_nulls_tail():
    """Each threshold of the correlated claims is the 1 % tail of its statistic on the untrained
    null: about 1 % of untrained models pass it (not 0 %: the bar is not stricter than the null
    needs; not more: the null fails), and the claim fails on them."""
    from superpose.experiments.correlated import (
        NULL_TAIL,
        claim_anticorrelated_antipodal,
        claim_correlated_orthogonal,
        claim_hexagon_when_sparse,
        claim_local_orthogonal_bases,
        claim_pca_when_dense,
        sorted_angle_gaps,
        within_set_null_tail,
    )

    def at_tail(passed: torch.Tensor) -> bool:
        return NULL_TAIL / 3 <= float(passed.float().mean()) <= 2.5 * NULL_TAIL

    draws = 6000  # the claims' statistics vectorised over draws; the claims on a few hundred
    pairs = untrained_draws(4, 2, draws)
    orth, anti = claim_correlated_orthogonal(pairs), claim_anticorrelated_antipodal(pairs)
    assert not orth.passed and not anti.passed  # the null fails
    assert at_tail(torch.tensor(orth.measured["mean |cos| within pairs per sparsity"]) < 0.11)
    assert at_tail(torch.tensor(anti.measured["mean cos within pairs per sparsity"]) < -0.97)
    assert "< 0.11 at every" in orth.expected and "< -0.97 at every" in anti.expected

    six = untrained_draws(6, 2, draws)
    six = six / metrics.feature_norms(six)[:, None, :]  # all represented: only directions count
    gaps = torch.stack([sorted_angle_gaps(w) for w in six])
    assert at_tail(((gaps - 60).abs() < 30.0).all(-1))  # the gap condition alone
    hexagon = torch.tensor([claim_hexagon_when_sparse(w[None]).passed for w in six[:300]])
    assert float(hexagon.float().mean()) <= NULL_TAIL  # with pair cos > 0 too: rarer still
    assert claim_hexagon_when_sparse(six[:1]).expected.startswith("6 represented, gaps 60 ± 30°")
    # PCA: exactly 2 pairs represented (the fewest the claim accepts: the most a null can pass)
    two = six * torch.tensor([1, 1, 1, 1, 0.1, 0.1])
    assert at_tail((metrics.pair_cosines(two, 2)[:, :2] > 0.951).all(-1))
    pca = torch.tensor([claim_pca_when_dense(w[None]).passed for w in two[:300]])
    assert float(pca.float().mean()) <= 2.5 * NULL_TAIL
    assert "each with cos > 0.951" in claim_pca_when_dense(two[:1]).expected

    large = untrained_draws(20, 10, 2000)
    tail = within_set_null_tail(10, 20, 10)
    assert 0.21 < tail < 0.23  # the value the docstring states
    unit = large / metrics.feature_norms(large)[:, None, :]
    cos = (unit.transpose(-1, -2) @ unit).abs()
    same = (torch.arange(20)[:, None] // 10 == torch.arange(20)[None, :] // 10) & ~torch.eye(
        20, dtype=torch.bool
    )
    assert at_tail(cos[:, same].mean(-1) < tail)
    assert not claim_local_orthogonal_bases(large[:1], 10).passed


def test_asymmetric_motif_detected_only_when_present():
    m, n = 4, 3
    W_in, W_out = torch.zeros(1, m, n), torch.zeros(1, n, m)
    W_in[0, 0, 0], W_in[0, 0, 1] = 2.0, -0.5  # asymmetric neuron: a=0 strong, b=1 weak
    W_out[0, 0, 0], W_out[0, 1, 0] = 0.5, 2.0  # reciprocal outputs
    W_in[0, 1, 0] = 1.0  # inhibitor reads a ...
    W_out[0, 1, 1] = -1.0  # ... and suppresses b
    W_out[0, 0, 1] = 0.5
    W_in[0, 2, 2], W_out[0, 2, 2] = 1.0, 1.0  # a plain monosemantic neuron
    assert metrics.asymmetric_motifs(W_in, W_out) == [[(0, 1, 0, 1)]]
    no_inhibit = W_out.clone()
    no_inhibit[0, 1, 1] = 0.0
    assert metrics.asymmetric_motifs(W_in, no_inhibit) == [[]]
    symmetric = W_out.clone()
    symmetric[0, 1, 0] = 0.5  # equal output weights: ordinary superposition
    assert metrics.asymmetric_motifs(W_in, symmetric) == [[]]


def test_abs_gains_of_exact_abs_circuit():
    W_in = torch.tensor([[[1.0], [-1.0]]])  # [1, 2 neurons, 1 feature]
    W_out = torch.tensor([[[1.0, 1.0]]])  # [1, 1 feature, 2 neurons]
    pos, neg = metrics.abs_gains(W_in, W_out)
    assert float(pos) == 1.0 and float(neg) == 1.0
    assert metrics.abs_computed(W_in, W_out).all()
    assert not metrics.abs_computed(W_in[:, :1], W_out[:, :, :1]).all()  # half-wave only


def test_clean_labels_claim_needs_a_model_that_learned():
    """'Does not beat naive' alone held for any model that never trained (its init's loss is
    2× naive); it now also asks for a loss below an MLP's that outputs nothing (p/6)."""
    from superpose.experiments.resid_mlp_baseline import claim_clean_does_not

    naive, silent = 0.000833, 0.001667  # F = 100, N = 50, p = 0.01
    assert claim_clean_does_not([(0.000907, 4e-6)], naive, silent, 3.0).passed  # the run's
    assert not claim_clean_does_not([(0.001686, 7e-6)], naive, silent, 3.0).passed  # untrained
    assert not claim_clean_does_not([(0.00070, 4e-6)], naive, silent, 3.0).passed  # beats naive
