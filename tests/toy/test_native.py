"""The native (C) training step against the PyTorch step: same gradients on the same batch, the
right feature distribution, determinism, and the fallbacks when it does not apply."""

import os
import signal
import time

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

# one instance per code path: dense blocks (1.0, 0.5 with uneven features; 0.2 encoding over
# each sample's active features), per-sample with vector draws (0.03), per-sample with geometric
# skipping (0.005, and uneven with thinning; through the Gram matrix for models without a
# hidden ReLU)
N = 24
SPARSITY = [
    [0.0] * N,
    [0.5 + 0.01 * f for f in range(N)],
    [0.8] * N,
    [0.97] * N,
    [0.995] * N,
    [0.999 - 0.0003 * f for f in range(N)],
]


# the other structures; with SPARSITY their instances take every path too: dense blocks, per
# sample with one uniform per set, per sample with geometric skips over sets (even and uneven)
STRUCTURED = [
    {"structure": "correlated", "set_size": 2},
    {"structure": "anticorrelated", "set_size": 3},
    {"structure": "exactly_k", "k": 3},  # marginal 1/8: dense blocks
    {"structure": "exactly_k", "k": 1},  # 1/24: per sample
]


# more features: samples with a vector draw's worth (32) of active features or more, whose
# values (and anticorrelated sets' members) the kernel draws from its vector streams; at 0.4 the
# count crosses that line from sample to sample
WIDE = [[0.0] * 96, [0.4] * 96, [0.9] * 96]


def _setup(kind, values="uniform", hidden=5, batch=61, seed=0, features=None, sparsity=SPARSITY):
    gen = torch.Generator().manual_seed(seed)
    inst, n = len(sparsity), len(sparsity[0])
    model = ToyModel(kind, inst, n, hidden, gen)
    with torch.no_grad():
        model.b.normal_(0.0, 0.2, generator=gen)
    config = FeatureConfig(sparsity=sparsity, values=values, **(features or {}))
    dist = FeatureDistribution(config, inst, n)
    importance = torch.rand(inst, n, generator=gen) + 0.1
    return model, dist, importance, gen


@pytest.mark.parametrize("features", [None, *STRUCTURED])
@pytest.mark.parametrize("values", ["uniform", "signed", "boolean"])
@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_native_gradients_equal_the_torch_step_on_the_same_batch(kind, values, features):
    _check_gradients(kind, values, features, hidden=5)


@pytest.mark.parametrize("hidden", [300, 1024])  # past the vector width; the widest supported
@pytest.mark.parametrize("kind", ["relu_hidden", "abs"])
def test_native_gradients_at_wide_hidden_layers(kind, hidden):
    _check_gradients(kind, "signed", STRUCTURED[0], hidden)
    _check_gradients(kind, "uniform", None, hidden)


def _biased_model(kind: str, n: int, hidden: int, sparsity: list[float]):
    """A model with non-zero biases, its feature distribution, importances and generator (seed 0)."""
    gen = torch.Generator().manual_seed(0)
    model = ToyModel(kind, len(sparsity), n, hidden, gen)
    with torch.no_grad():
        model.b.normal_(0.0, 0.2, generator=gen)
    dist = FeatureDistribution(FeatureConfig(sparsity=sparsity), len(sparsity), n)
    imp = torch.rand(len(sparsity), n, generator=gen) + 0.1
    return model, dist, imp, gen


@pytest.mark.parametrize("kind", ["relu_output", "abs"])
def test_native_gradients_of_sparse_instances_with_many_weights(kind):
    # 64 features x 1024 hidden: past BLOCK_WEIGHTS, sparse instances too run in blocks
    _check_gradients(kind, "uniform", None, 1024, _biased_model(kind, 64, 1024, [0.95, 0.995]))


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_native_gradients_of_wide_blocks(kind):
    # 136 hidden units: wide rows (register-tiled blocks of 32 samples) with an odd number of
    # vector pairs; 300 features: several feature chunks and a partial tile of features; every
    # feature active (encoder over all features) and 1 % (over each sample's active ones)
    _check_gradients(kind, "uniform", None, 136, _biased_model(kind, 300, 136, [0.0, 0.99]))


def test_native_wide_step_is_deterministic():
    # the benchmark's wide model (1024 features, 256 hidden, density 0.01): same seed, same bytes
    grads = []
    for threads in (1, 2, 1):
        gen = torch.Generator().manual_seed(0)
        model = ToyModel("relu_output", 2, 1024, 256, gen)
        dist = FeatureDistribution(FeatureConfig(sparsity=[0.99, 0.9]), 2, 1024)
        step = native.NativeStep(native.library(256), model, dist, torch.ones(2, 1024), 0.0, 96)
        step.threads = threads
        loss = step(gen)
        grads.append((loss, model.W.grad.clone(), model.b.grad.clone()))
    for other in grads[1:]:
        assert all(torch.equal(a, b) for a, b in zip(grads[0], other, strict=True))


def _check_gradients(kind, values, features, hidden, setup=None):
    model, dist, imp, gen = setup or _setup(kind, values, hidden=hidden, features=features)
    batch = 61  # not a multiple of the 8- or 32-sample blocks
    step = native.NativeStep(native.library(hidden), model, dist, imp, 0.01, batch)
    x = torch.zeros(model.n_instances, batch, model.n_features)
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


def _z(observed: torch.Tensor, p: torch.Tensor, count: int) -> torch.Tensor:
    """z of an observed frequency against probability p over `count` trials (an event of
    probability 0 or 1 seen otherwise even once: |z| > 15 at 4096 trials)."""
    return (observed - p) / ((p * (1 - p)).clamp_min(1e-6) / count).sqrt()


def _worst_z(
    x: torch.Tensor, density: torch.Tensor, values: str, joint: torch.Tensor | None = None
) -> float:
    """Largest |z| over: each (instance, feature) active rate against its density [I, n], the
    activity of a feature in consecutive samples (independence across samples), the joint
    activity of neighbouring features f, f+1 against `joint` [I, n−1] (the structure within a
    sample; product of densities if None), and the mean value of active entries against its
    law."""
    active = (x != 0).float()  # [I, B, n]
    batch = x.shape[1]
    p = density  # [I, n]
    z_rate = _z(active.mean(1), p, batch)
    z_pair = _z((active[:, 1:] * active[:, :-1]).mean(1), p**2, batch - 1)  # across samples
    joint = p[:, 1:] * p[:, :-1] if joint is None else joint
    z_joint = _z((active[..., 1:] * active[..., :-1]).mean(1), joint, batch)  # within one
    vals = x[x != 0]
    mean, var = {"uniform": (0.5, 1 / 12), "signed": (0.0, 1 / 3), "boolean": (1.0, 0.0)}[values]
    z_val = (vals.mean() - mean) / max(var / len(vals), 1e-12) ** 0.5 if var else 0.0
    zs = (z_rate, z_pair, z_joint)
    return max(*(float(z.abs().max()) for z in zs), abs(float(z_val)))


def _law(dist: FeatureDistribution) -> tuple[torch.Tensor, torch.Tensor]:
    """Each feature's density and the probability that features f and f+1 are both active:
    ([I, n], [I, n−1]), from the distribution's definition."""
    cfg, n = dist.config, dist.n_features
    marginal = dist.marginal_density()
    if cfg.structure == "exactly_k":
        return marginal, marginal[:, 1:] * (cfg.k - 1) / (n - 1)
    same_set = (torch.arange(n - 1) // cfg.set_size) == (torch.arange(1, n) // cfg.set_size)
    if cfg.structure == "correlated":  # together or not at all
        joint = torch.where(same_set, marginal[:, 1:], marginal[:, 1:] * marginal[:, :-1])
    else:  # anticorrelated: never two of one set
        joint = torch.where(same_set, 0.0, marginal[:, 1:] * marginal[:, :-1])
    return marginal, joint


def _shuffle_samples(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """x with each (instance, feature) column permuted over the batch on its own: the same
    marginals, the structure within a sample broken."""
    order = torch.rand(x.shape, generator=gen).argsort(dim=1)
    return x.gather(1, order)


@pytest.mark.parametrize("values", ["uniform", "signed"])
def test_native_batches_follow_the_feature_distribution(values):
    model, dist, imp, gen = _setup("relu_output", values)
    batch = 4096
    x = torch.zeros(len(SPARSITY), batch, N)
    native.NativeStep(native.library(5), model, dist, imp, 0.0, batch)(gen, x_out=x)
    assert _worst_z(x, dist.density, values) < 5.5
    # the check has teeth: the same batch judged against other densities fails
    assert _worst_z(x, (dist.density * 1.3).clamp(max=1.0), values) > 5.5


@pytest.mark.parametrize("values", ["uniform", "signed"])
@pytest.mark.parametrize(
    ("features", "sparsity"),
    [*((f, SPARSITY) for f in STRUCTURED), *((f, WIDE) for f in STRUCTURED[:2])],
)  # WIDE for the sets: exactly-k's k stays below a vector draw
def test_native_structured_batches_follow_their_distribution(features, values, sparsity):
    model, dist, imp, gen = _setup("relu_output", values, features=features, sparsity=sparsity)
    batch = 4096
    x = torch.zeros(len(sparsity), batch, len(sparsity[0]))
    native.NativeStep(native.library(5), model, dist, imp, 0.0, batch)(gen, x_out=x)
    marginal, joint = _law(dist)
    assert _worst_z(x, marginal, values, joint) < 5.5
    if features["structure"] == "exactly_k":
        assert ((x != 0).sum(-1) == features["k"]).all()
    # the check has teeth: the wrong densities fail, and so does the same batch with the
    # structure within each sample broken (each feature's samples shuffled on their own)
    assert _worst_z(x, (marginal * 1.3).clamp(max=1.0), values, joint) > 5.5
    shuffled = _shuffle_samples(x, gen)
    if features["structure"] == "exactly_k":
        assert not ((shuffled != 0).sum(-1) == features["k"]).all()
    else:
        assert _worst_z(shuffled, marginal, values, joint) > 5.5


@pytest.mark.parametrize(
    ("features", "sparsity"),
    [(None, SPARSITY), (STRUCTURED[1], SPARSITY), (STRUCTURED[3], SPARSITY),
     (STRUCTURED[0], WIDE), (STRUCTURED[1], WIDE)],
)  # fmt: skip
def test_native_step_is_deterministic_and_thread_count_free(features, sparsity):
    grads = []
    for threads in (1, 2, 3, 2):
        model, dist, imp, gen = _setup("relu_hidden", features=features, sparsity=sparsity)
        native.NativeStep(native.library(5), model, dist, imp, 0.0, 200, threads)(gen)
        grads.append(model.W.grad)
    assert all(torch.equal(grads[0], g) for g in grads[1:])
    model, dist, imp, _ = _setup("relu_hidden", features=features, sparsity=sparsity)
    other = torch.Generator().manual_seed(1)
    native.NativeStep(native.library(5), model, dist, imp, 0.0, 200)(other)
    assert not torch.equal(model.W.grad, grads[0])


def _step_bytes(threads: int, seed: int = 0) -> bytes:
    """Loss and gradients of one native step on `threads` threads, as bytes."""
    model, dist, imp, gen = _setup("relu_hidden", seed=seed)
    loss = native.NativeStep(native.library(5), model, dist, imp, 0.0, 200, threads)(gen)
    return b"".join(t.numpy().tobytes() for t in (loss, model.W.grad, model.b.grad))


def test_steps_from_two_threads_at_once_give_their_own_bytes():
    """The kernel's helper threads are kept between steps and serve one step at a time: steps
    called from two Python threads at once (ctypes lets go of the GIL) each give the bytes they
    give alone, the second running without helpers while the first holds them."""
    from concurrent.futures import ThreadPoolExecutor

    alone = [_step_bytes(3, seed) for seed in range(8)]
    with ThreadPoolExecutor(2) as ex:
        together = list(ex.map(lambda seed: _step_bytes(3, seed), range(8)))
    assert together == alone and len(set(alone)) == 8


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here")
# forking a process with threads is what this test is about (Python ≥ 3.12 warns of it)
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_child_steps_on_helpers_of_its_own():
    """A child forked after steps on helper threads has none of them (fork copies one thread):
    its own 2-thread step must start new ones and give the parent's bytes, not wait for the
    parent's helpers (a hang, caught here by the time limit)."""
    expected = _step_bytes(2)
    pid = os.fork()
    if pid == 0:  # the child: exit 0 only on the same bytes
        try:
            os._exit(0 if _step_bytes(2) == expected else 1)
        except BaseException:
            os._exit(2)
    deadline = time.monotonic() + 60
    while (done := os.waitpid(pid, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    if done[0] == 0:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail("the forked child's native step hung")
    assert os.waitstatus_to_exitcode(done[1]) == 0


def _config(
    kernel: str, seed: int = 0, structure: str = "independent", hidden: int = 5
) -> ToyConfig:
    return ToyConfig(
        model="relu_output",
        n_features=20,
        n_hidden=hidden,
        features={"sparsity": [0.0, 0.7, 0.9, 0.97], "structure": structure},
        train={"steps": 600, "batch_size": 256, "eval_batch": 8192, "kernel": kernel},
        seed=seed,
        device="cpu",
    )


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(((a - b).abs() / ((a + b) / 2)).mean())


@pytest.mark.parametrize("structure", ["independent", "correlated", "anticorrelated", "exactly_k"])
def test_training_with_the_native_step_reaches_the_torch_steps_loss(structure):
    ours = train(_config("native", structure=structure), progress=False).final_loss
    torch_0 = train(_config("torch", structure=structure), progress=False).final_loss
    torch_1 = train(_config("torch", seed=1, structure=structure), progress=False).final_loss
    noise = _rel(torch_0, torch_1)  # seed-to-seed spread of the PyTorch step
    assert _rel(ours, torch_0) < max(3 * noise, 0.05)
    cfg = _config("native", structure=structure)
    short = cfg.model_copy(update={"train": cfg.train.model_copy(update={"steps": 20})})
    untrained = train(short, progress=False).final_loss
    assert _rel(untrained, torch_0) > max(3 * noise, 0.05)  # the comparison can fail


def test_kernel_setting_falls_back_or_says_why():
    with pytest.raises(ValueError, match=r"train\.kernel native .*hidden units"):
        _config("native", hidden=native.MAX_HIDDEN + 1)
    wide, dist, imp, _ = _setup("linear", hidden=native.AUTO_MAX_HIDDEN + 1)
    assert native.native_step("auto", wide, dist, imp, 0.0, 4) is None  # faster with PyTorch
    assert native.native_step("native", wide, dist, imp, 0.0, 4) is not None
    model, dist, imp, _ = _setup("linear", hidden=native.MAX_HIDDEN + 1, batch=4)
    assert native.native_step("auto", model, dist, imp, 0.0, 4) is None
    with pytest.raises(SuperposeError, match="hidden units"):
        native.native_step("native", model, dist, imp, 0.0, 4)
    model, dist, imp, _ = _setup("linear", features=STRUCTURED[0])
    assert native.native_step("auto", model, dist, imp, 0.0, 4) is not None  # every structure


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


def _cpuinfo(vendor: str, family: int, flags: str) -> str:
    block = f"processor\t: 0\nvendor_id\t: {vendor}\ncpu family\t: {family}\nflags\t\t: {flags}\n"
    return block + "\n" + block.replace(": 0", ": 1")


def test_the_zen4_builds_are_chosen_only_on_zen4(monkeypatch):
    zen4 = _cpuinfo("AuthenticAMD", 25, "fpu sse2 avx2 avx512f avx512vl")
    assert native._zen4(zen4)
    assert not native._zen4(_cpuinfo("AuthenticAMD", 25, "fpu sse2 avx2"))  # Zen 3
    assert not native._zen4(_cpuinfo("AuthenticAMD", 26, "avx2 avx512f"))  # Zen 5: whole 512 bits
    assert not native._zen4(_cpuinfo("GenuineIntel", 6, "avx2 avx512f"))
    assert not native._zen4("")
    monkeypatch.setattr(native, "ZEN4_AVX2_WIDTHS", frozenset({20}))
    for on_zen4 in (True, False):
        monkeypatch.setattr(native, "_zen4", lambda text, on=on_zen4: on)
        tuned = ((*native.AVX2, native.ZEN4_TUNE), native.AVX2, *native.ARCH)
        assert native._arch(20) == (tuned if on_zen4 else native.ARCH)
        tuned = ((*native.ARCH[0], native.ZEN4_TUNE), *native.ARCH)
        assert native._arch(21) == (tuned if on_zen4 else native.ARCH)
