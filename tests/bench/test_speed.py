"""Fast paths against plain paths: the sparse sampler, the trainer's timing, the toy benchmark."""

import itertools
import statistics

import pytest
import torch

import superpose.bench.toy as toy
import superpose.features as features
from superpose.bench import registry
from superpose.bench.reference import ReferenceLoop
from superpose.bench.toy import compare, geometry_sparsity, steady_rates, whole_run, wide_rates
from superpose.features import FeatureConfig, FeatureDistribution
from superpose.toy.models import MODEL_KINDS, ToyModel


def draw(sparsity, batch=4000, values="uniform", seed=0, n_instances=None, n_features=6):
    n_instances = n_instances or (len(sparsity) if isinstance(sparsity, list) else 1)
    dist = FeatureDistribution(
        FeatureConfig(sparsity=sparsity, values=values), n_instances, n_features
    )
    gen = torch.Generator().manual_seed(seed)
    return dist, dist.sample(batch, gen), dist.sample_dense(batch, gen)


@pytest.mark.parametrize("values", ["uniform", "signed", "boolean"])
def test_sparse_sampler_matches_dense_sampler(values):
    dist, x, xd = draw([0.0, 0.5, 0.97, 0.999], batch=20000, values=values)
    assert x.shape == xd.shape == (4, 20000, 6) and x.is_contiguous()
    dens, dens_d = (x != 0).float().mean(1), (xd != 0).float().mean(1)
    want = dist.marginal_density()
    assert torch.allclose(dens, want, atol=0.012) and torch.allclose(dens_d, want, atol=0.012)
    act, act_d = x[x != 0], xd[xd != 0]
    assert abs(act.mean() - act_d.mean()) < 0.02 and abs(act.std() - act_d.std()) < 0.02
    assert act.min() >= -1 and act.max() <= 1


def test_sparse_sampler_rows_are_uniform_over_the_batch():
    # every row position equally likely: no pile-up at the start or at the last row
    _, x, _ = draw([0.9], batch=256, n_features=2000)
    per_row = (x[0] != 0).float().mean(1)  # [batch]
    assert (per_row - 0.1).abs().max() < 0.03
    assert abs(per_row[:32].mean() - per_row[-32:].mean()) < 0.01


def test_per_feature_densities_are_grouped_correctly():
    sp = [[0.0, 0.9, 0.99, 0.5, 0.2, 0.999]] * 2
    dist, x, _ = draw(sp, batch=30000, n_instances=2)
    assert torch.allclose((x != 0).float().mean(1), dist.marginal_density(), atol=0.01)


def test_columns_that_run_out_of_draws_are_continued_exactly(monkeypatch):
    # force far too few draws per column: every column must be continued, density unchanged
    monkeypatch.setattr(features, "_draws_needed", lambda log_q, batch: torch.ones_like(log_q))
    dist, x, _ = draw([0.0, 0.7, 0.95], batch=5000)
    assert torch.allclose((x != 0).float().mean(1), dist.marginal_density(), atol=0.015)


def test_sampler_is_deterministic_for_a_seed():
    _, a, _ = draw([0.3, 0.99], batch=500, seed=5)
    _, b, _ = draw([0.3, 0.99], batch=500, seed=5)
    _, c, _ = draw([0.3, 0.99], batch=500, seed=6)
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_geometry_sparsity_spans_dense_to_one_in_a_thousand():
    sp = geometry_sparsity(20)
    assert len(sp) == 20 and sp[0] == 0.0 and sp[-1] == pytest.approx(0.999, abs=1e-6)
    assert all(a < b for a, b in itertools.pairwise(sp))


def test_compare_times_both_loops_on_the_same_work():
    r = compare(8, 3, 3, steps=3, batch=16, reference_seeds=2, compile="off")
    assert r["ours_s"] > 0 and r["reference_s"] > 0 and r["ratio"] > 0
    assert len(r["ours_loss"]) == 3 and len(r["reference_loss"]) == 2
    assert r["loss_rel_diff"] >= 0 and r["reference_seed_rel_diff"] >= 0
    assert len(r["ours_same_init_loss"]) == 3 and r["same_init_rel_diff"] >= 0


def test_wide_rates_time_the_native_and_the_pytorch_step_on_one_thread():
    r = wide_rates(8, 3, 2, 0.5, rounds=1, block=1, batch=16)
    if r is None:
        pytest.skip("no C compiler: the native step cannot be built here")
    assert set(r["seconds"]) == {"native", "torch"} and r["ratio"] > 0


def test_steady_rates_interleave_reference_and_ours():
    r = steady_rates(8, 3, 3, rounds=2, block=2, batch=16)
    assert {"reference", "eager"} <= set(r["steps_per_s"]) <= {"reference", "eager", "native"}
    assert all(v > 0 for v in r["ratio"].values()) and r["steps_timed"] == 4
    by_threads = r["reference_seconds_by_threads"]
    assert (
        r["seconds"]["reference"] == by_threads[r["reference_threads"]] == min(by_threads.values())
    )


def test_whole_run_samples_the_reference_across_our_run():
    r = whole_run(8, 3, 3, steps=6, chunks=3, ref_block=1, batch=16)
    assert r["reference_steps_timed"] == 3 and r["steps"] == 6
    assert r["ours_steps_per_s"] > 0 and r["ratio"] == pytest.approx(
        r["ours_steps_per_s"] / r["reference_steps_per_s"]
    )
    assert (
        whole_run(8, 3, 3, steps=2, chunks=1, ref_block=1, batch=16, kernel="torch")["kernel"]
        == "torch"
    )


def test_whole_run_compares_median_steps_on_the_faster_reference_threads(monkeypatch):
    # a reference step slowed 100× by a passing load moves neither median; two threads at 2 s
    # a step lose to one thread at 1 s
    calls = itertools.count()

    def fake_run(self, steps):
        assert steps == 1
        slow = next(calls) == 5
        return (100.0 if slow else 1.0) * torch.get_num_threads()

    monkeypatch.setattr(toy, "reference_threads", lambda: (1, 2))
    monkeypatch.setattr(ReferenceLoop, "run", fake_run)
    r = whole_run(8, 3, 3, steps=6, chunks=3, ref_block=3, batch=16)
    assert r["reference_s_per_step_by_threads"] == {1: 1.0, 2: 2.0}
    assert r["reference_threads"] == 1 and r["reference_s_per_step"] == 1.0
    assert [len(ts) for ts in r["reference_step_times"].values()] == [9, 9]
    chunks = r["ours_step_times"]
    assert [len(c) for c in chunks] == [2, 2, 2]
    assert r["ours_s"] == pytest.approx(sum(2 * statistics.median(c) for c in chunks))


def test_toy_train_benchmark_is_registered():
    assert "toy-train" in registry()


def test_feature_major_sample_is_the_same_batch_in_another_layout():
    dist, _, _ = draw([0.0, 0.6, 0.99], batch=64)
    a = dist.sample(64, torch.Generator().manual_seed(1))
    b = dist.sample(64, torch.Generator().manual_seed(1), feature_major=True)
    assert a.is_contiguous() and b.transpose(1, 2).is_contiguous()
    assert torch.equal(a, b)


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_feature_major_gradients_match_the_plain_layout(kind):
    values = "signed" if kind == "abs" else "uniform"
    dist, _, _ = draw([0.0, 0.6, 0.99], batch=64, values=values, n_features=9)
    x = dist.sample(64, torch.Generator().manual_seed(1), feature_major=True)
    imp = torch.rand(3, 9, generator=torch.Generator().manual_seed(2))
    model = ToyModel(kind, 3, 9, 4, torch.Generator().manual_seed(3))
    plain_loss = model.loss_and_grads(x.contiguous(), imp, 0.1)
    plain = {k: p.grad.clone() for k, p in model.named_parameters()}
    fast_loss = model.loss_and_grads(x, imp, 0.1)
    assert torch.allclose(plain_loss, fast_loss)
    for k, p in model.named_parameters():
        assert torch.allclose(plain[k], p.grad, atol=1e-6), k


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_functional_step_matches_the_hand_written_gradients(kind):
    from superpose.toy.compiled import toy_loss_and_grads

    values = "signed" if kind == "abs" else "uniform"
    dist, _, _ = draw([0.0, 0.6, 0.99], batch=64, values=values, n_features=9)
    x = dist.sample(64, torch.Generator().manual_seed(1), feature_major=True)
    imp = torch.rand(3, 9, generator=torch.Generator().manual_seed(2))
    model = ToyModel(kind, 3, 9, 4, torch.Generator().manual_seed(3))
    loss = model.loss_and_grads(x, imp, 0.1)
    w_out = getattr(model, "W_out", None)
    with torch.no_grad():
        f_loss, g_w, g_out, g_b = toy_loss_and_grads(
            kind, model.W, w_out, model.b, x, imp, 0.1, True
        )
    assert torch.allclose(loss, f_loss)
    assert torch.allclose(g_w, model.W.grad, atol=1e-6) and torch.allclose(
        g_b, model.b.grad, atol=1e-6
    )
    if w_out is not None:
        assert torch.allclose(g_out, w_out.grad, atol=1e-6)


def test_compile_auto_only_for_big_runs():
    from superpose.toy.compiled import use_compile

    assert not use_compile("auto", 300, 2, 256, 5)
    assert use_compile("auto", 10_000, 20, 1024, 200)
    assert use_compile("on", 1, 1, 1, 1) and not use_compile("off", 10**9, 99, 9999, 999)


@pytest.mark.slow
def test_compiled_training_matches_eager_training():
    from superpose.toy.config import ToyConfig
    from superpose.toy.train import train

    def cfg(mode):
        return ToyConfig(
            n_features=6, n_hidden=2, features={"sparsity": [0.0, 0.9]},
            train={"steps": 40, "batch_size": 64, "compile": mode}, device="cpu",
        )  # fmt: skip

    eager, compiled = train(cfg("off"), progress=False), train(cfg("on"), progress=False)
    assert torch.allclose(eager.model.W, compiled.model.W, atol=1e-4)
    assert torch.allclose(eager.final_loss, compiled.final_loss, rtol=1e-3)


def test_repeat_after_sampling_does_not_reuse_the_sampler_cache():
    dist, _, _ = draw([0.0, 0.99], batch=100)
    dist.sample(100, torch.Generator().manual_seed(0), reuse=True)
    rep = dist.repeat(3)
    x = rep.sample(2000, torch.Generator().manual_seed(0), reuse=True)
    assert x.shape == (6, 2000, 6)
    assert torch.allclose((x != 0).float().mean(1), rep.marginal_density(), atol=0.03)
