"""Claims of the adversarial, privileged-basis and l1 experiments are computed from their inputs:
each holds on weights/numbers with the property and flips on doctored ones lacking it."""

import torch

from superpose.experiments.adversarial import (
    claim_tracks_features_per_dim,
    claim_vulnerability_rises,
)
from superpose.experiments.l1_no_superposition import (
    claim_control_superposed,
    claim_l1_costs_loss,
    claim_l1_removes_superposition,
)
from superpose.experiments.privileged_basis import (
    claim_monosemantic_when_dense,
    claim_more_features_than_neurons,
    claim_polysemantic_when_sparse,
)
from superpose.toy import metrics


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
    assert claim_tracks_features_per_dim(rising, per_dim).passed
    flat = torch.tensor([1.0, 1.2, 0.9, 1.1])
    assert not claim_vulnerability_rises(flat).passed
    assert not claim_tracks_features_per_dim(flat, per_dim).passed


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


def test_negative_weights_do_not_count_as_polysemantic():
    W = mono()
    W[0, 7] = -1.5  # inhibition: neuron 0 never fires for feature 7 (inputs ≥ 0)
    assert claim_monosemantic_when_dense(W[None]).passed


def test_l1_claims_flip():
    W = torch.stack([poly(), mono()])
    assert claim_control_superposed(W).passed
    assert claim_l1_removes_superposition(W).passed
    assert not claim_control_superposed(W.flip(0)).passed
    assert not claim_l1_removes_superposition(W.flip(0)).passed
    assert claim_l1_costs_loss(torch.tensor([0.1, 0.2])).passed
    assert not claim_l1_costs_loss(torch.tensor([0.1, 0.1])).passed


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


def test_abs_value_claims_flip():
    from superpose.experiments.abs_value import (
        claim_loss_below_baseline,
        claim_motif_present,
        claim_polysemantic_neurons_grow,
        claim_superposition_grows,
        no_superposition_baseline,
    )

    assert claim_superposition_grows(torch.tensor([18, 20, 26]), 40).passed
    assert not claim_superposition_grows(torch.tensor([18, 20, 12]), 40).passed
    assert not claim_superposition_grows(torch.tensor([18, 19, 20]), 40).passed  # never > m/2
    base = torch.tensor([1.0, 1.0])
    assert claim_loss_below_baseline(torch.tensor([1.0, 0.5]), base).passed
    assert not claim_loss_below_baseline(torch.tensor([1.0, 0.95]), base).passed
    assert claim_polysemantic_neurons_grow(torch.tensor([0, 5, 30]), 40).passed
    assert not claim_polysemantic_neurons_grow(torch.tensor([30, 5, 3]), 40).passed
    assert claim_motif_present([[], [(0, 1, 2, 3)]]).passed
    assert not claim_motif_present([[], []]).passed
    # baseline: features m/2.. answered by E|x|; dense uniform [-1, 1] has Var|x| = 1/12
    imp = torch.ones(6)
    got = no_superposition_baseline(imp, torch.tensor([0.0]), 4)
    assert torch.allclose(got, torch.tensor([4 / 12]))


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


def test_jump_claim_flips():
    from superpose.experiments.learning_dynamics import claim_jumps_coincide_with_drops

    T = 400
    t = torch.arange(T, dtype=torch.float32)
    D = torch.where(t < 100, 1.0, 0.5)[:, None].repeat(1, 3)  # a jump at step 100
    D[:, 0] = 0.5 + 0.3 * torch.exp(-t / 80)  # another feature settles smoothly
    trend = -t / 150  # log-loss decays steadily while learning ...
    step = torch.where(t < 100, 0.0, -1.0)  # ... and drops at the jump
    flat = torch.where(t < 200, trend, trend[199])  # then settles
    stats = metrics.jump_loss_coincidence(D, (flat + step).exp())
    assert claim_jumps_coincide_with_drops(stats).passed, stats
    elsewhere = torch.where(t < 40, 0.0, -1.0)  # the loss drops, but not at the jump
    stats = metrics.jump_loss_coincidence(D, (flat + elsewhere).exp())
    assert not claim_jumps_coincide_with_drops(stats).passed, stats
    no_jump = D.clone()
    no_jump[:, 1:] = 0.5 + 0.3 * torch.exp(-t / 80)[:, None]
    stats = metrics.jump_loss_coincidence(no_jump, (flat + step).exp())
    assert not claim_jumps_coincide_with_drops(stats).passed, stats
