import pytest
import torch

from superpose.toy.models import MODEL_KINDS, ToyModel


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_forward_shapes(kind, gen):
    model = ToyModel(kind, 4, 7, 3, gen)
    x = torch.rand(4, 11, 7, generator=gen)
    assert model(x).shape == (4, 11, 7)
    assert model.hidden(x).shape == (4, 11, 3)
    assert model.loss(x, torch.ones(4, 7)).shape == (4,)


@pytest.mark.parametrize("kind", MODEL_KINDS)
@pytest.mark.parametrize("l1", [0.0, 0.3])
def test_hand_written_gradients_match_autograd(kind, l1, gen):
    model = ToyModel(kind, 3, 9, 4, gen)
    x = torch.rand(3, 32, 9, generator=gen) * (torch.rand(3, 32, 9, generator=gen) < 0.4)
    if kind == "abs":
        x = x * torch.sign(torch.randn(3, 32, 9, generator=gen))
    imp = torch.rand(3, 9, generator=gen)
    loss = model.loss_and_grads(x, imp, l1)
    ours = {k: p.grad.clone() for k, p in model.named_parameters()}
    for p in model.parameters():
        p.grad = None
    ref = model.loss(x, imp, l1)
    ref.sum().backward()
    assert torch.allclose(loss, ref, atol=1e-6)
    for name, p in model.named_parameters():
        assert torch.allclose(ours[name], p.grad, atol=1e-6), name


def test_init_scale_does_not_depend_on_instance_count():
    small = ToyModel("relu_output", 2, 50, 10, torch.Generator().manual_seed(0))
    large = ToyModel("relu_output", 400, 50, 10, torch.Generator().manual_seed(0))
    assert abs(small.W.std() / large.W.std() - 1) < 0.1


def test_abs_target_is_absolute_value(gen):
    model = ToyModel("abs", 1, 3, 2, gen)
    x = torch.tensor([[[-0.5, 0.2, 0.0]]])
    assert torch.equal(model.target(x), x.abs())


def test_select_instances_keeps_weights(gen):
    model = ToyModel("abs", 5, 4, 3, gen)
    sub = model.select_instances(torch.tensor([3, 1]))
    assert torch.equal(sub.W, model.W[[3, 1]]) and torch.equal(sub.W_out, model.W_out[[3, 1]])
    assert sub.n_instances == 2


def test_abs_init_keeps_every_output_alive(gen):
    """W_out ≥ 0 at init: both signed gains of every feature are ≥ 0, so no output side starts dead
    (signed W_out let sparse training settle with one sign of x_i answered)."""
    model = ToyModel("abs", 3, 50, 10, gen)
    w_out = model.W_out.detach().transpose(1, 2)  # [I, m, n]
    w_in = model.W.detach()
    assert (w_out >= 0).all()
    assert ((w_out * torch.relu(w_in)).sum(-2) >= 0).all()
    assert ((w_out * torch.relu(-w_in)).sum(-2) >= 0).all()
