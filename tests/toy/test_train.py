import pytest
import torch

from superpose.base.errors import SuperposeError
from superpose.toy import train as train_module
from superpose.toy.config import ToyConfig
from superpose.toy.train import lr_factor, optimizer_step, train


def small(**kw) -> ToyConfig:
    base = dict(
        model="relu_output",
        n_features=5,
        n_hidden=2,
        features={"sparsity": [0.0, 0.9]},
        importance_decay=0.9,
        train={"steps": 300, "batch_size": 256, "eval_batch": 4096},
        device="cpu",
    )
    base.update(kw)
    return ToyConfig(**base)


def test_training_lowers_the_loss():
    res = train(small(), progress=False)
    assert res.history_loss.shape[1] == 2
    first, last = res.history_loss[0], res.history_loss[-3:].mean(0)
    assert (last < 0.7 * first).all()
    assert res.final_loss.shape == (2,)


def test_same_seed_same_result_and_other_seed_differs():
    a = train(small(seed=3), progress=False)
    b = train(small(seed=3), progress=False)
    c = train(small(seed=4), progress=False)
    assert torch.equal(a.model.W, b.model.W)
    assert not torch.equal(a.model.W, c.model.W)


def test_best_of_n_keeps_the_lowest_loss_restart():
    res = train(small(train={"steps": 100, "batch_size": 128, "restarts": 4}), progress=False)
    assert res.restart_losses.shape == (2, 4)
    assert res.model.W.shape == (2, 2, 5)
    # the kept model's loss equals the best restart's loss (same weights, fresh samples)
    best = res.restart_losses.min(1).values
    assert torch.allclose(res.final_loss, best, rtol=0.1)


def test_snapshots_every_k_steps():
    res = train(small(train={"steps": 100, "batch_size": 64, "snapshot_every": 25}), progress=False)
    assert res.snapshot_steps == [25, 50, 75, 100]
    assert res.snapshots[-1]["W"].shape == (2, 2, 5)
    assert torch.equal(res.snapshots[-1]["W"], res.model.W.detach())


@pytest.mark.parametrize("kind", ["linear", "relu_hidden", "abs"])
def test_other_models_train(kind):
    feats = {"sparsity": 0.5, "values": "signed" if kind == "abs" else "uniform"}
    res = train(small(model=kind, features=feats), progress=False)
    assert torch.isfinite(res.final_loss).all()
    assert (res.history_loss[-3:].mean(0) < res.history_loss[0]).all()


def test_schedules():
    from superpose.toy.config import TrainConfig

    cos = TrainConfig(steps=100, schedule="cosine", warmup_steps=10)
    assert lr_factor(cos, 0) == pytest.approx(0.1)
    assert lr_factor(cos, 10) == pytest.approx(1.0)
    assert lr_factor(cos, 99) < 0.01
    lin = TrainConfig(steps=100, schedule="linear")
    assert lr_factor(lin, 50) == pytest.approx(0.5)


def _adam_run(cls, weight_decay: float, step) -> bytes:
    """Parameters and state after 30 steps of `cls` (fused) with random gradients and a falling
    lr, each step taken by `step(opt)`."""
    gen = torch.Generator().manual_seed(0)
    w = torch.randn(4, 3, 7, generator=gen, requires_grad=True)
    b = torch.zeros(4, 7, requires_grad=True)
    opt = cls([w, b], lr=0.01, weight_decay=weight_decay, fused=True)
    for i in range(30):
        w.grad, b.grad = torch.randn(w.shape, generator=gen), torch.randn(b.shape, generator=gen)
        opt.param_groups[0]["lr"] = 0.01 * (1 - i / 30)
        step(opt)
    state = [t for p in (w, b) for t in opt.state[p].values()]
    return b"".join(t.detach().numpy().tobytes() for t in (w, b, *state))


@pytest.mark.parametrize(
    "cls, weight_decay",
    [(torch.optim.AdamW, 0.01), (torch.optim.Adam, 0.0), (torch.optim.Adam, 0.1)],
)
def test_optimizer_step_is_opt_step(cls, weight_decay, monkeypatch):
    """The direct call of the fused op gives `opt.step()`'s bytes (parameters, moments, step
    counts) and is taken after the first step; with the step count left alone (the null) it
    does not."""
    plain = _adam_run(cls, weight_decay, lambda opt: opt.step())
    taken = []
    real = train_module._direct_fused

    def spy(opt):
        op = real(opt)
        taken.append(op is not None)
        return op

    monkeypatch.setattr(train_module, "_direct_fused", spy)
    assert _adam_run(cls, weight_decay, optimizer_step) == plain
    assert taken == [False] + [True] * 29  # opt.step() makes the state, then the op directly
    monkeypatch.setattr(torch, "_foreach_add_", lambda steps, one: None)
    assert _adam_run(cls, weight_decay, optimizer_step) != plain


def test_optimizer_step_leaves_hooks_and_other_options_to_opt_step():
    """Anything `opt.step()` would do beyond the fused op takes `opt.step()`: hooks, amsgrad,
    a non-fused optimiser."""
    w = torch.zeros(3, requires_grad=True)
    w.grad = torch.ones(3)
    fused = torch.optim.AdamW([w], fused=True)
    fused.step()
    assert train_module._direct_fused(fused) is not None
    handle = fused.register_step_pre_hook(lambda opt, args, kwargs: None)
    assert train_module._direct_fused(fused) is None
    handle.remove()
    for opt in (torch.optim.AdamW([w], fused=True, amsgrad=True), torch.optim.AdamW([w])):
        opt.step()
        assert train_module._direct_fused(opt) is None


def test_a_config_that_is_not_a_toyconfig_is_one_line():
    with pytest.raises(SuperposeError, match=r"config must be a ToyConfig.*got dict"):
        train({"n_features": 5})


def test_the_progress_bar_leaves_stdout_to_the_caller(capsys):
    """The bar wrote a blank line to stdout when it stopped (piped output began with it)."""
    cfg = ToyConfig(n_features=5, n_hidden=2, train={"steps": 5, "batch_size": 16})
    train(cfg, progress=True)
    assert capsys.readouterr().out == ""
