"""The native (C) training step against the PyTorch step: same gradients on the same batch, the
right feature distribution, determinism, and the fallbacks when it does not apply."""

import pytest
import torch

from superpose.base.errors import SuperposeError
from superpose.features import FeatureConfig, FeatureDistribution
from superpose.toy import native
from superpose.toy.config import ToyConfig
from superpose.toy.models import MODEL_KINDS, ToyModel
from superpose.toy.train import train

pytestmark = pytest.mark.skipif(
    native.library(5) is None, reason="no C compiler: the native step cannot be built here"
)

# one instance per code path: dense blocks (1.0, 0.5 with uneven features), per-sample with
# vector draws (0.05), per-sample with geometric skipping (0.005, and uneven with thinning)
N = 24
SPARSITY = [
    [0.0] * N,
    [0.5 + 0.01 * f for f in range(N)],
    [0.95] * N,
    [0.995] * N,
    [0.999 - 0.0003 * f for f in range(N)],
]


def _setup(kind, values="uniform", hidden=5, batch=61, seed=0):
    gen = torch.Generator().manual_seed(seed)
    inst = len(SPARSITY)
    model = ToyModel(kind, inst, N, hidden, gen)
    with torch.no_grad():
        model.b.normal_(0.0, 0.2, generator=gen)
    dist = FeatureDistribution(FeatureConfig(sparsity=SPARSITY, values=values), inst, N)
    importance = torch.rand(inst, N, generator=gen) + 0.1
    return model, dist, importance, gen


@pytest.mark.parametrize("values", ["uniform", "signed", "boolean"])
@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_native_gradients_equal_the_torch_step_on_the_same_batch(kind, values):
    model, dist, imp, gen = _setup(kind, values)
    batch = 61  # not a multiple of the 8-sample blocks
    step = native.NativeStep(native.library(5), model, dist, imp, 0.01, batch)
    x = torch.zeros(len(SPARSITY), batch, N)
    loss = step(gen, x_out=x)
    got = {name: p.grad.clone() for name, p in model.named_parameters()}
    expected_loss = model.loss_and_grads(x, imp, 0.01, need_loss=True)
    assert torch.allclose(loss, expected_loss, rtol=1e-4, atol=1e-5)
    for name, p in model.named_parameters():
        assert torch.allclose(got[name], p.grad, rtol=1e-4, atol=1e-5), name
    assert (x != 0).any(dim=(1, 2)).all()  # every instance drew something
    # and the comparison has teeth: another batch gives other gradients
    model.loss_and_grads(torch.rand_like(x) * (x != 0), imp, 0.01)
    assert not torch.allclose(got["W"], model.W.grad, rtol=1e-4, atol=1e-5)


def _worst_z(x: torch.Tensor, density: torch.Tensor, values: str) -> float:
    """Largest |z| over: each (instance, feature) active rate against its density, the
    activity of a feature in consecutive samples (independence across samples), and the mean
    value of active entries against its law."""
    active = (x != 0).float()  # [I, B, n]
    batch = x.shape[1]
    p = density  # [I, n]
    z_rate = (active.mean(1) - p) / (p * (1 - p) / batch).clamp_min(1e-6).sqrt()
    both = (active[:, 1:] * active[:, :-1]).mean(1)  # P(active in s and s+1) = p²
    z_pair = (both - p**2) / (p**2 * (1 - p**2) / (batch - 1)).clamp_min(1e-6).sqrt()
    vals = x[x != 0]
    mean, var = {"uniform": (0.5, 1 / 12), "signed": (0.0, 1 / 3), "boolean": (1.0, 0.0)}[values]
    z_val = (vals.mean() - mean) / max(var / len(vals), 1e-12) ** 0.5 if var else 0.0
    return max(float(z_rate.abs().max()), float(z_pair.abs().max()), abs(float(z_val)))


@pytest.mark.parametrize("values", ["uniform", "signed"])
def test_native_batches_follow_the_feature_distribution(values):
    model, dist, imp, gen = _setup("relu_output", values)
    batch = 4096
    x = torch.zeros(len(SPARSITY), batch, N)
    native.NativeStep(native.library(5), model, dist, imp, 0.0, batch)(gen, x_out=x)
    assert _worst_z(x, dist.density, values) < 5.5
    # the check has teeth: the same batch judged against other densities fails
    assert _worst_z(x, (dist.density * 1.3).clamp(max=1.0), values) > 5.5


def test_native_step_is_deterministic_and_thread_count_free():
    grads = []
    for threads in (1, 2, 2):
        model, dist, imp, gen = _setup("relu_hidden")
        native.NativeStep(native.library(5), model, dist, imp, 0.0, 200, threads)(gen)
        grads.append(model.W.grad)
    assert torch.equal(grads[0], grads[1]) and torch.equal(grads[1], grads[2])
    model, dist, imp, _ = _setup("relu_hidden")
    other = torch.Generator().manual_seed(1)
    native.NativeStep(native.library(5), model, dist, imp, 0.0, 200)(other)
    assert not torch.equal(model.W.grad, grads[0])


def _config(kernel: str, seed: int = 0, structure: str = "independent") -> ToyConfig:
    return ToyConfig(
        model="relu_output",
        n_features=20,
        n_hidden=5,
        features={"sparsity": [0.0, 0.7, 0.9, 0.97], "structure": structure},
        train={"steps": 600, "batch_size": 256, "eval_batch": 8192, "kernel": kernel},
        seed=seed,
        device="cpu",
    )


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(((a - b).abs() / ((a + b) / 2)).mean())


def test_training_with_the_native_step_reaches_the_torch_steps_loss():
    ours = train(_config("native"), progress=False).final_loss
    torch_0 = train(_config("torch"), progress=False).final_loss
    torch_1 = train(_config("torch", seed=1), progress=False).final_loss
    noise = _rel(torch_0, torch_1)  # seed-to-seed spread of the PyTorch step
    assert _rel(ours, torch_0) < max(3 * noise, 0.05)
    cfg = _config("native")
    short = cfg.model_copy(update={"train": cfg.train.model_copy(update={"steps": 20})})
    untrained = train(short, progress=False).final_loss
    assert _rel(untrained, torch_0) > max(3 * noise, 0.05)  # the comparison can fail


def test_kernel_setting_falls_back_or_says_why():
    with pytest.raises(ValueError, match=r"train\.kernel native .*independent"):
        _config("native", structure="correlated")
    model, dist, imp, _ = _setup("linear", hidden=native.MAX_HIDDEN + 1, batch=4)
    assert native.native_step("auto", model, dist, imp, 0.0, 4) is None
    with pytest.raises(SuperposeError, match="hidden units"):
        native.native_step("native", model, dist, imp, 0.0, 4)
    result = train(_config("auto", structure="correlated"), progress=False)  # torch step
    assert torch.isfinite(result.final_loss).all()


def test_no_compiler_means_the_torch_step(monkeypatch, tmp_path):
    monkeypatch.setenv("CC", str(tmp_path / "no-such-cc"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    native.library.cache_clear()
    try:
        with pytest.warns(UserWarning, match="C compiler"):
            assert native.library(7) is None
        model, dist, imp, _ = _setup("linear", hidden=7)
        assert native.native_step("auto", model, dist, imp, 0.0, 8) is None
        with pytest.raises(SuperposeError, match="no C compiler"):
            native.native_step("native", model, dist, imp, 0.0, 8)
    finally:
        native.library.cache_clear()
