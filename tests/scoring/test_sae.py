"""The SAE trainer: deterministic per seed, and it recovers a known sparse dictionary."""

from __future__ import annotations

import pytest
import torch

from superpose.base.errors import SuperposeError
from superpose.scoring import Truth, score
from superpose.scoring.metrics import unit_rows
from superpose.scoring.sae import SAEConfig, train_sae


def _data(n: int, seed: int = 100):
    """64 known features in 32 dims, two on per sample with coefficients in [0.5, 1.5].

    (Seeded apart from the SAE: with the same seed its initial decoder would be these features.)
    """
    gen = torch.Generator().manual_seed(seed)
    dirs = unit_rows(torch.randn(64, 32, generator=gen))

    def sample(b: int, g: torch.Generator) -> torch.Tensor:
        idx = torch.rand(b, 64, generator=g).argsort(1)[:, :2]
        coef = torch.zeros(b, 64).scatter_(1, idx, 0.5 + torch.rand(b, 2, generator=g))
        return coef @ dirs

    g = torch.Generator().manual_seed(seed + 1)
    idx = torch.rand(n, 64, generator=g).argsort(1)[:, :2]
    coef = torch.zeros(n, 64).scatter_(1, idx, 0.5 + torch.rand(n, 2, generator=g))
    truth = Truth(dirs, acts=coef @ dirs, active=coef > 0, values=coef)
    return sample, truth


@pytest.fixture(autouse=True)
def one_thread():
    """These SAEs are tiny: one thread is faster than two on a shared machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("kind", ["topk", "relu"])
def test_sae_recovers_known_features(kind):
    sample, truth = _data(2000)
    cfg = SAEConfig(kind=kind, latents=128, k=2, l1=0.3, steps=400, batch=256, lr=3e-3)
    trained = score(train_sae(sample, cfg).sae, truth, null_draws=0)
    untrained = score(train_sae(sample, cfg.replace(steps=1)).sae, truth, null_draws=0)
    hi = trained.chance.band()[1]
    assert untrained.mmcs < hi + 0.1  # one step from random init is still near chance
    assert trained.mmcs > hi + 0.25  # (ReLU+L1 at 400 steps: ≈ 0.81 against a band ≈ 0.45–0.51)
    assert trained.f1 is not None and trained.f1_chance is not None
    assert trained.f1 > 5 * trained.f1_chance  # latents detect their feature's activity
    if kind == "topk":
        assert trained.mmcs > 0.95 and trained.f1 > 0.9


def test_sae_is_deterministic_per_seed():
    sample, _ = _data(10)
    cfg = SAEConfig(latents=16, k=2, steps=20, batch=32)
    a, b = train_sae(sample, cfg).sae.tensors(), train_sae(sample, cfg).sae.tensors()
    assert all(torch.equal(a[n], b[n]) for n in a)
    c = train_sae(sample, cfg.replace(seed=1)).sae.tensors()
    assert not torch.equal(a["W_dec"], c["W_dec"])


def test_sae_bad_data():
    with pytest.raises(SuperposeError, match=r"\[n, D\]"):
        train_sae(torch.zeros(5), SAEConfig())


def test_topk_backward_matches_dense_autograd():
    """The sparse TopK backward (_TopK) gives autograd's gradient through the dense product."""
    from superpose.scoring.sae import SAE

    gen = torch.Generator().manual_seed(3)
    sae = SAE(24, 40, "topk", 3)
    with torch.no_grad():
        for p in sae.parameters():
            p.copy_(torch.randn(p.shape, generator=gen))
    x = torch.randn(16, 24, generator=gen)

    def grads(loss):
        sae.zero_grad(set_to_none=True)
        loss.backward()
        return {n: p.grad.clone() for n, p in sae.named_parameters()}

    x_hat, _ = sae(x)
    sparse = grads((x - x_hat).square().sum())
    val, idx = ((x - sae.b_dec) @ sae.W_enc + sae.b_enc).topk(3, dim=-1)
    dense_hat = torch.einsum("bk,bkd->bd", torch.relu(val), sae.W_dec[idx]) + sae.b_dec
    dense = grads((x - dense_hat).square().sum())
    for n in dense:
        assert torch.allclose(sparse[n], dense[n], rtol=1e-4, atol=1e-4), n


def test_resample_restarts_only_dead_latents():
    """_resample: dead latents restart on inputs (decoder = unit input − b_dec, encoder = that ×
    0.2 × alive mean encoder norm, bias 0, Adam moments 0); alive latents are untouched."""
    from superpose.scoring.sae import SAE, _resample

    gen = torch.Generator().manual_seed(5)
    sae = SAE(8, 6, "topk", 1)
    with torch.no_grad():
        for p in sae.parameters():
            p.copy_(torch.randn(p.shape, generator=gen))
    opt = torch.optim.Adam(sae.parameters(), lr=1e-3)
    x = torch.randn(32, 8, generator=gen)
    (x - sae(x)[0]).square().sum().backward()
    opt.step()
    before = {n: p.detach().clone() for n, p in sae.named_parameters()}
    dead = torch.tensor([True, False, True, False, False, False])
    _resample(sae, opt, dead, x, gen)
    W_dec, W_enc = sae.W_dec.detach(), sae.W_enc.detach()
    assert torch.equal(W_dec[~dead], before["W_dec"][~dead])
    assert torch.equal(W_enc[:, ~dead], before["W_enc"][:, ~dead])
    torch.testing.assert_close(W_dec[dead].norm(dim=1), torch.ones(2))
    rows = (x - sae.b_dec.detach()) / (x - sae.b_dec.detach()).norm(dim=1, keepdim=True)
    assert all((rows - r).abs().max(1).values.min() < 1e-6 for r in W_dec[dead])
    scale = 0.2 * before["W_enc"][:, ~dead].norm(dim=0).mean()
    torch.testing.assert_close(W_enc[:, dead], W_dec[dead].T * scale)
    assert torch.equal(sae.b_enc.detach()[dead], torch.zeros(2))
    assert float(opt.state[sae.W_dec]["exp_avg"][dead].abs().sum()) == 0.0
    assert float(opt.state[sae.W_dec]["exp_avg"][~dead].abs().sum()) > 0.0
