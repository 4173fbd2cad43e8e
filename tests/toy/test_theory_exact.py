import pytest
import torch

from superpose.base.errors import SuperposeError
from superpose.toy import exact, theory
from superpose.toy.phase import classify, phase_row


@pytest.mark.parametrize("case", ["2x1", "3x2"])
@pytest.mark.parametrize(("r", "p"), [(0.3, 0.05), (3.0, 0.5), (1.0, 1.0)])
def test_closed_forms_match_quadrature_and_monte_carlo(case, r, p):
    n, _ = theory.CASES[case]
    closed = theory.candidate_losses(case, torch.tensor(r), torch.tensor(p))
    imp = torch.tensor(theory.case_importance(case, r))
    dens = torch.full((n,), p)
    pts = exact.quadrature_points(n, 24)
    for k, cand in enumerate(theory.CANDIDATES[case]):
        W = cand.weight()
        quad = exact.exact_loss(W[None], torch.zeros(1, n), imp[None], dens[None], pts)
        assert float(quad) == pytest.approx(float(closed[k]), rel=3e-3)
        mc = theory.stratified_mc_estimate(W, torch.zeros(n), imp, dens, 50_000, seed=k)[0]
        assert float(mc) == pytest.approx(float(closed[k]), rel=2e-2)


def test_exact_loss_matches_plain_sampling(gen):
    W = torch.randn(2, 2, 3, generator=gen)
    b = torch.randn(2, 3, generator=gen) * 0.2
    imp = torch.tensor([[1.0, 0.5, 2.0], [1.0, 1.0, 1.0]])
    dens = torch.tensor([[0.3, 0.6, 0.1], [1.0, 0.5, 0.2]])
    ex = exact.exact_loss(W, b, imp, dens, exact.quadrature_points(3, 16))
    u = torch.rand(2, 400_000, 3, generator=gen)
    x = torch.where(torch.rand(2, 400_000, 3, generator=gen) < dens[:, None], u, 0.0)
    out = torch.relu(x @ W.transpose(1, 2) @ W + b[:, None])
    sampled = ((x - out) ** 2 * imp[:, None]).sum(-1).mean(-1)
    torch.testing.assert_close(ex, sampled, rtol=1e-2, atol=1e-5)


def test_hand_gradients_match_autograd(gen):
    W = torch.randn(4, 2, 3, generator=gen, requires_grad=True)
    b = (torch.randn(4, 3, generator=gen) * 0.1).requires_grad_()
    imp = torch.rand(4, 3, generator=gen) + 0.5
    dens = torch.rand(4, 3, generator=gen)
    pts = exact.quadrature_points(3, 5)
    w = pts.pattern_probability(dens)
    exact.exact_loss(W, b, imp, dens, pts, w).sum().backward()
    gW, gb = W.grad.clone(), b.grad.clone()
    exact.exact_loss_grads(W, b, imp, pts, w)
    torch.testing.assert_close(W.grad, gW, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(b.grad, gb, rtol=1e-4, atol=1e-6)


def test_pattern_probabilities_sum_to_one():
    pts = exact.quadrature_points(3, 4)
    dens = torch.tensor([[0.1, 0.5, 0.9]])
    assert float(pts.pattern_probability(dens).sum()) == pytest.approx(1.0, abs=1e-6)


def test_quadrature_rejects_too_many_features():
    with pytest.raises(SuperposeError, match="n_features"):
        exact.quadrature_points(20)


def test_theoretical_phases_order_and_boundary():
    # dense + unimportant → not learned; sparse → superposition; important + dense → dedicated
    ph = theory.theoretical_phase(
        "2x1", torch.tensor([0.2, 0.2, 5.0]), torch.tensor([1.0, 0.01, 1.0])
    )
    assert ph.tolist() == [theory.NOT_LEARNED, theory.SUPERPOSITION, theory.DEDICATED]
    # not-learned / superposition boundary at p* = 2r / (1 + r): check the slope on a log grid
    rs = torch.logspace(-1, -0.3, 6)
    ps = torch.logspace(-2, 0, 2001)
    boundary = []
    for r in rs:
        ph = theory.theoretical_phase("2x1", r, ps)
        boundary.append(ps[ph == theory.SUPERPOSITION].max())
    boundary = torch.stack(boundary)
    torch.testing.assert_close(boundary, 2 * rs / (1 + rs), rtol=5e-3, atol=0)


@pytest.mark.parametrize("case", ["2x1", "3x2"])
def test_classify_candidates(case):
    W = torch.stack([c.weight() for c in theory.CANDIDATES[case]])
    assert classify(W).tolist() == [c.phase for c in theory.CANDIDATES[case]]


def test_exact_training_finds_the_theoretical_phase():
    # one row, far from boundaries: dense → not learned (r=0.2), sparse → superposition
    row = phase_row(
        {
            "case": "2x1",
            "importance": 0.2,
            "densities": [1.0, 0.01],
            "seeds": 4,
            "steps": 200,
            "lr": 0.05,
            "nodes": 6,
            "seed": 0,
        }
    )
    assert row["phase"] == [theory.NOT_LEARNED, theory.SUPERPOSITION]


def test_exact_training_is_deterministic():
    args = dict(importance=torch.ones(2, 2), density=torch.full((2, 2), 0.1), seeds=2, steps=20)
    a = exact.train_exact(1, **args, seed=3)
    b = exact.train_exact(1, **args, seed=3)
    assert torch.equal(a.W, b.W)
