import pytest
import torch

from superpose.toy.config import ToyConfig
from superpose.toy.train import lr_factor, train


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
