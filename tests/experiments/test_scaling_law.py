"""The scaling-law experiment (Liu, Liu & Gore): its weight decay, frequencies, prediction, claims."""

import math

import pytest
import torch

from superpose.base.fitting import fit_loglog
from superpose.experiments import RunContext, get_experiment, run_experiment
from superpose.experiments.base import with_null
from superpose.experiments.scaling_law import (
    ScalingLawConfig,
    claim_strong_inverse_width,
    claim_strong_rises,
    claim_weak_loss_is_left_out,
    claim_weak_tracks_alpha,
    decay_weights,
    weak_prediction,
)
from superpose.features import power_law_density


def test_power_law_density_has_the_asked_mean_and_exponent():
    p = power_law_density(4096, 1.5, expected_active=1.0)
    assert math.isclose(float(p.sum()), 1.0, rel_tol=1e-9)
    assert bool((p[1:] < p[:-1]).all())
    slope = fit_loglog(range(1, 4097), p.tolist())[0]
    assert slope == pytest.approx(-1.5, abs=1e-9)
    assert float(power_law_density(8, 0.5, expected_active=6.0).max()) == 1.0  # capped


def test_negative_decay_pulls_norms_to_one_and_positive_shrinks():
    W = torch.zeros(2, 3, 2)
    W[:, 0, 0], W[:, 0, 1] = 0.5, 2.0  # feature 0 of norm 0.5, feature 1 of norm 2
    decay_weights(W, torch.tensor([-1.0, 1.0]), lr=0.1)
    norms = W.norm(dim=1)
    assert 0.5 < norms[0, 0] < 1.0 and 1.0 < norms[0, 1] < 2.0  # growth towards 1
    assert norms[1].tolist() == pytest.approx([0.45, 1.8])  # (1 − γ·lr) shrink


def test_weak_prediction_tends_to_alpha_minus_one():
    widths = [8, 16, 32, 64]
    for alpha in (1.25, 1.5, 2.0):
        pred = weak_prediction(power_law_density(1_000_000, alpha), widths)
        assert -fit_loglog(widths, pred)[0] == pytest.approx(alpha - 1, abs=0.04)  # discrete sum


def test_claims_pass_on_their_property_and_fail_on_the_null():
    strong = {0.75: -1.0, 1.0: -0.95}
    weak = {1.25: -0.3, 1.5: -0.55}
    predicted = {0.75: -0.1, 1.0: -0.2, 1.25: -0.32, 1.5: -0.56}
    widths, untrained = [8, 16, 32], [40.0, 20.0, 10.0]  # random vectors: 1/m as well
    trained = {a: ([0.4 * (8 / m) ** -e for m in widths], untrained) for a, e in strong.items()}
    as_untrained = {a: (untrained, untrained) for a in strong}
    claim = with_null(claim_strong_inverse_width, trained, as_untrained, "untrained", widths, -1.0)
    assert claim.passed and not claim.null.passed  # the null's exponent is 1.0: in the band
    assert claim.null.measured["exponent"][0.75] == pytest.approx(1.0)
    steep = {**trained, 1.0: ([0.4 * (8 / m) ** 1.3 for m in widths], untrained)}
    assert not claim_strong_inverse_width(steep, widths, -1.0).passed  # every α
    claim = with_null(claim_strong_rises, {1.5: -1.1}, {1.5: -0.56}, "no superposition", -1.0)
    assert claim.passed and not claim.null.passed
    assert not claim_strong_rises({1.5: -1.1, 2.0: -0.98}, -1.0).passed  # every α
    claim = with_null(claim_weak_tracks_alpha, weak, strong, "strong", predicted, 1.0, 0.2)
    assert claim.passed and not claim.null.passed


def test_left_out_claim_needs_the_loss_of_the_features_left_out():
    widths = [8, 16, 32]
    run = {1.5: ([0.3, 0.15, 0.08], [0.33, 0.14, 0.07])}  # loss ≈ left-out features' loss
    nothing_left_out = {1.5: ([0.3, 0.15, 0.08], [0.01, 0.0, 0.0])}
    claim = with_null(claim_weak_loss_is_left_out, run, nothing_left_out, "x", widths, 1.0, 0.2)
    assert claim.passed and not claim.null.passed
    other_law = {1.5: ([0.3, 0.15, 0.08], [0.33, 0.25, 0.2])}
    assert not claim_weak_loss_is_left_out(other_law, widths, 1.0, 0.2).passed


def test_w_rate_falls_faster_only_above_lr_flat_from_and_only_those_widths_retrain():
    from superpose.experiments.scaling_law import width_key

    cfg = ScalingLawConfig(n_features=4096, widths=[8, 256, 1024], lr=0.02, lr_flat_from=256)
    assert cfg.w_lr(8) == 0.02 and cfg.w_lr(256) == 0.02 * (8 / 256) ** 0.25
    assert cfg.w_lr(1024) == pytest.approx(cfg.w_lr(256) / 4)  # m^-1 beyond 256
    assert cfg.replace(lr_wide_power=0.5).w_lr(1024) == pytest.approx(cfg.w_lr(256) / 2)
    for other in (cfg.replace(lr_flat_from=512), cfg.replace(lr_wide_power=0.5)):
        assert width_key(other, 256) == width_key(cfg, 256)  # a width the rule leaves alone
        assert width_key(other, 1024) != width_key(cfg, 1024)  # one whose rate it changes


def test_bias_rate_is_capped_and_only_capped_widths_retrain():
    from superpose.experiments.scaling_law import width_key

    cfg = ScalingLawConfig(n_features=4096, widths=[8, 256, 1024], bias_lr=2.0, bias_lr_cap=0.005)
    assert cfg.b_lr(8) == 0.005 and cfg.b_lr(256) == 0.005  # 2/m = 0.25 and 0.0078: capped
    assert cfg.b_lr(1024) == 2.0 / 1024  # below the cap: the paper's 2/m
    other = cfg.replace(bias_lr_cap=0.01)
    assert width_key(other, 1024) == width_key(cfg, 1024)  # a width the cap leaves alone
    assert width_key(other, 8) != width_key(cfg, 8)  # one whose rate it changes


@pytest.mark.parametrize(
    "bad",
    [
        {"widths": [16, 8, 32]},
        {"widths": [8, 16, 4096]},
        {"weak_alphas": [1.0, 1.5]},
        {"strong_alphas": [1.0, 1.1]},  # none above the edge: nothing for the rising claim
        {"strong_alphas": [1.3, 1.5]},  # none at or below it: nothing for m^-1
        {"strong_alphas": [0.0, 1.5]},
        {"strong_decay": 0.5},
        {"weak_decay": -1.0},
    ],
)
def test_config_refuses_what_the_claims_cannot_use(bad):
    with pytest.raises(ValueError):
        ScalingLawConfig(**bad)


def test_a_small_run_writes_claims_and_figures(tmp_path, monkeypatch):
    from superpose.experiments import scaling_law

    exp = get_experiment("scaling-law")
    cfg = ScalingLawConfig(
        n_features=128, widths=[4, 8, 16], steps=40, batch_size=32, eval_batch=256
    )
    rec = run_experiment(exp, RunContext(tmp_path, progress=False), cfg)
    assert rec["status"] == "ok", rec.get("traceback")
    assert {c["id"] for c in rec["claims"]} == {
        "strong-superposition-loss-inverse-width",
        "strong-superposition-exponent-rises",
        "weak-superposition-exponent-tracks-alpha",
        "weak-superposition-loss-is-left-out-features",
    }
    for fig in rec["figures"]:
        assert (tmp_path / fig).read_bytes()[:4] == b"\x89PNG"
    assert len(rec["data"]["loss"]) == 3
    # the finished widths are kept: a rerun recomputes the claims without training
    monkeypatch.setattr(scaling_law, "train_width", None)
    again = run_experiment(exp, RunContext(tmp_path, progress=False), cfg)
    assert again["status"] == "ok", again.get("traceback")
    assert again["claims"] == rec["claims"] and again["data"]["loss"] == rec["data"]["loss"]


def test_widths_train_in_worker_processes_with_the_same_numbers(tmp_path, monkeypatch):
    """ctx.workers = 2: the widths train in spawned processes (training is switched off in this
    one, so the run only passes if they did), with the numbers of one after another."""
    from superpose.experiments import scaling_law

    exp = get_experiment("scaling-law")
    cfg = ScalingLawConfig(
        n_features=128, widths=[4, 8, 16], steps=40, batch_size=32, eval_batch=256
    )
    alone = run_experiment(exp, RunContext(tmp_path / "alone", progress=False), cfg)
    monkeypatch.setattr(scaling_law, "train_width", None)
    ctx = RunContext(tmp_path / "pool", progress=False, device=torch.device("cpu"), workers=2)
    pooled = run_experiment(exp, ctx, cfg)
    assert pooled["status"] == "ok", pooled.get("traceback")
    assert pooled["claims"] == alone["claims"]
    assert pooled["data"]["loss"] == alone["data"]["loss"]
    assert pooled["data"]["exponent"] == alone["data"]["exponent"]
    for saved in sorted((tmp_path / "alone" / "widths").glob("*.pt")):
        a, b = torch.load(saved), torch.load(tmp_path / "pool" / "widths" / saved.name)
        assert all(torch.equal(a[k], b[k]) for k in a if k != "cpu_seconds")


def test_cpu_seconds_counts_finished_child_processes():
    """A child's CPU is counted once it has ended (an experiment's worker processes); this
    process's own clock alone does not see it."""
    import subprocess
    import sys
    import time

    from superpose.experiments.base import cpu_seconds

    before, own = cpu_seconds(), time.process_time()
    burn = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.3: pass"
    subprocess.run([sys.executable, "-c", burn], check=True)
    assert cpu_seconds() - before >= 0.3
    assert time.process_time() - own < 0.1


def dense_batch(active, shape):
    i, s, f, v = active
    x = torch.zeros(shape)
    x[i, s, f] = v
    return x


def test_sampled_entries_have_the_asked_frequencies():
    from superpose.experiments.scaling_law import sample_active

    density = torch.tensor([[0.9, 0.5, 0.05, 0.0], [0.2, 0.2, 0.2, 1.0]])
    gen = torch.Generator().manual_seed(0)
    i, s, f, v = sample_active(density, 20_000, gen)
    keys = (i * 4 + f) * 20_000 + s
    assert len(torch.unique(keys)) == len(keys)  # one entry per (instance, feature, sample)
    counts = torch.zeros(2, 4).index_put_((i, f), torch.ones(len(i)), accumulate=True) / 20_000
    torch.testing.assert_close(counts, density.clamp(max=1 - 1e-6), atol=0.01, rtol=0)
    assert float(v.min()) >= 0 and float(v.max()) < 1 and abs(float(v.mean()) - 0.5) < 0.01


@pytest.mark.parametrize(("shift", "on"), [(-1.0, False), (2.0, True)])
def test_sparse_gradients_and_loss_equal_autograd_on_the_dense_batch(shift, on):
    """Few outputs on (the gradients as scatter-adds) and most on (as matmuls)."""
    from superpose.experiments.scaling_law import (
        DENSE_ERRORS,
        model_loss,
        sample_active,
        step_grads,
    )

    g = torch.Generator().manual_seed(0)
    inst, n, m, batch = 3, 64, 8, 256
    density = power_law_density(n, 1.5).float().expand(inst, n).contiguous()
    W = (torch.randn(inst, n, m, generator=g) / m**0.5).requires_grad_()
    b = (torch.randn(inst, n, generator=g) * 0.3 + shift).requires_grad_()
    active = sample_active(density, batch, g)
    x = dense_batch(active, (inst, batch, n))
    out = torch.relu(torch.einsum("ibf,ifm,ijm->ibj", x, W, W) + b[:, None, :])
    assert (float((out > 0).float().mean()) * DENSE_ERRORS > 1) == on
    ((out - x) ** 2).sum(-1).mean(-1).sum().backward()
    gW, gb = step_grads(W.detach(), b.detach(), active, batch)
    torch.testing.assert_close(gW, W.grad, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(gb, b.grad, rtol=1e-4, atol=1e-6)
    # the loss: the same estimator on a fresh stream agrees with the dense formula on its batch
    loss = model_loss(W.detach(), b.detach(), density, batch, torch.Generator().manual_seed(5))
    x = dense_batch(sample_active(density, batch, torch.Generator().manual_seed(5)), x.shape)
    out = torch.relu(torch.einsum("ibf,ifm,ijm->ibj", x, W, W) + b[:, None, :])
    torch.testing.assert_close(loss, ((out - x) ** 2).sum(-1).mean(-1).detach(), rtol=1e-4, atol=0)


def test_a_killed_width_resumes_with_the_same_numbers(tmp_path, monkeypatch):
    """Training state saved mid-width (here after every step) and a finished width's result are
    picked up by a new run: the numbers are those of an unbroken run."""
    from superpose.experiments import scaling_law as sl

    cfg = ScalingLawConfig(
        n_features=128, widths=[4, 8, 16], steps=12, batch_size=32, eval_batch=256
    )
    density = torch.stack([power_law_density(128, a) for _, a in cfg.instances()]).float()
    gamma = torch.tensor([g for g, _ in cfg.instances()])
    whole = sl.train_width(cfg, 8, density, gamma, "cpu")
    monkeypatch.setattr(sl, "CHECKPOINT_CPU_SECONDS", -1.0)  # save after every step
    calls, real = {"n": 0}, sl.sample_active

    def dies_on_call_7(*args):
        calls["n"] += 1
        if calls["n"] == 7:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(sl, "sample_active", dies_on_call_7)
    ctx = RunContext(tmp_path, progress=False)
    with pytest.raises(KeyboardInterrupt):
        sl.width_result(cfg, 8, density, gamma, ctx)
    (state,) = (tmp_path / "widths").glob("*.state.pt")
    assert 0 < int(torch.load(state, weights_only=True)["step"]) < cfg.steps  # stopped mid-width
    monkeypatch.setattr(sl, "sample_active", real)
    resumed = sl.width_result(cfg, 8, density, gamma, ctx)
    assert torch.equal(resumed["loss"], whole["loss"])
    assert torch.equal(resumed["norms"], whole["W"].norm(dim=2))
    assert not state.exists()  # the finished width's result replaces its state
    monkeypatch.setattr(sl, "train_width", None)  # a finished width is not trained again
    assert torch.equal(sl.width_result(cfg, 8, density, gamma, ctx)["loss"], whole["loss"])
