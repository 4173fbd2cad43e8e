import pytest
import torch
from torch import nn

from superpose.base.errors import SuperposeError
from superpose.circuits.small import (
    SmallCircuits,
    from_torch,
    make_circuits,
    random_circuits,
    rotation_circuits,
    sample_inputs,
)


def test_inactive_circuits_stay_off_and_are_noise_robust(gen):
    c = random_circuits(20, 4, 5, seed=1)
    x, mask = sample_inputs(c, 32, 3, gen)
    acts = c.forward(x)
    for a in acts:
        assert (a[~mask] == 0).all()
        assert (a[mask].abs().sum(-1) > 0).all()
    noisy = c.forward(x + 0.05 * torch.randn(x.shape, generator=gen) * (~mask).unsqueeze(-1))
    for b in noisy:
        assert (b[~mask] == 0).all()


def test_rotation_circuits_rotate_and_keep_indicator(gen):
    c = rotation_circuits(5, 3, seed=0)
    x, mask = sample_inputs(c, 16, 2, gen)
    acts = c.forward(x)
    v0 = x[..., 2:] - 1.0 * (x[..., :1] - x[..., 1:2])
    for a in acts:
        alpha = a[..., 0] - a[..., 1]
        assert torch.allclose(alpha[mask], torch.ones_like(alpha[mask]))
        v = a[..., 2:] - alpha.unsqueeze(-1)
        assert torch.allclose(v[mask].norm(dim=-1), v0[mask].norm(dim=-1), atol=1e-5)


def test_from_torch_roundtrip_and_clear_errors(gen):
    mods = [nn.Sequential(nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 3), nn.ReLU()) for _ in range(4)]
    for m in mods:
        for lin in m[::2]:
            nn.init.constant_(lin.bias, -0.1)
    c = from_torch(mods)
    assert c.weights.shape == (4, 2, 3, 3)
    x = torch.rand(2, 4, 3, generator=gen)
    assert torch.allclose(c.forward(x)[-1][:, 1], mods[1](x[:, 1]), atol=1e-6)
    with pytest.raises(SuperposeError, match=r"expected nn\.ReLU after Linear, got Tanh"):
        from_torch([nn.Sequential(nn.Linear(3, 3), nn.Tanh())])
    with pytest.raises(SuperposeError, match="not square"):
        from_torch([nn.Sequential(nn.Linear(3, 4), nn.ReLU())])
    pos = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    nn.init.constant_(pos[0].bias, 0.2)
    with pytest.raises(SuperposeError, match="positive bias"):
        from_torch([pos])


def test_bad_shapes_and_kinds():
    with pytest.raises(SuperposeError, match=r"\[T, L, d, d\]"):
        SmallCircuits(torch.zeros(2, 3, 4), torch.zeros(2, 3))
    with pytest.raises(SuperposeError, match="rotation circuits have d = 4"):
        make_circuits("rotation", 3, 2, 5, 0)
    with pytest.raises(SuperposeError, match="d ≥ 3"):
        random_circuits(3, 2, 2)
