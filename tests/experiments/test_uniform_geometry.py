import pytest
import torch

from superpose.base.errors import SuperposeError
from superpose.experiments import RunContext, get_experiment, run_experiment
from superpose.experiments.base import same_norms_random, untrained
from superpose.experiments.uniform_geometry import (
    DSTAR_NOISE,
    constant_rate,
    dense_claim,
    half_ratio,
    one_plateau_claim,
    one_plateau_widths,
    one_ratio,
    plateau_claim,
    plateau_widths,
    ratio_bar,
    sticky_claim,
    sticky_share,
    sum_bars,
    sum_claim,
    toy_config,
)
from superpose.toy import metrics

INV = torch.logspace(0, 2, 41)


def test_plateau_claim_holds_on_a_curve_that_sticks_and_flips_on_a_smooth_one():
    x = torch.log(INV)
    smooth = torch.exp(-0.6 * x)  # D* falling smoothly: no plateau
    sticky = smooth.clone()
    # hold D* at 1/2 ± 0.03 over a wide range of ln(1/(1-S))
    mid = (smooth < 0.6) & (smooth > 0.25)
    sticky[mid] = 0.53 - 0.06 * (x[mid] - x[mid].min()) / (x[mid].max() - x[mid].min())
    sticky = torch.cummin(sticky, 0).values
    bar = ratio_bar(INV, constant_rate(INV, sticky), plateau_widths, half_ratio)
    assert plateau_claim(plateau_widths(INV, sticky), bar).passed
    assert not plateau_claim(plateau_widths(INV, smooth), bar).passed


def test_one_plateau_claim_holds_when_dstar_stays_at_one_and_fails_on_a_constant_fall():
    x = torch.log(INV)
    sticky = torch.where(x < 1.0, 1.0 - 0.02 * x, 0.98 - 0.8 * (x - 1.0)).clamp_min(0.1)
    smooth = constant_rate(INV, sticky)  # same ends, constant rate: the null
    bar = ratio_bar(INV, smooth, one_plateau_widths, one_ratio)
    assert one_plateau_claim(one_plateau_widths(INV, sticky), bar).passed
    assert abs(float(smooth[0]) - float(sticky[0])) < 1e-6
    assert abs(float(smooth[-1]) - float(sticky[-1])) < 1e-6
    assert not one_plateau_claim(one_plateau_widths(INV, smooth), bar).passed
    assert not plateau_claim(plateau_widths(INV, smooth), 1.0 + 1e-6).passed  # exactly 1
    assert not one_plateau_claim(one_plateau_widths(INV, torch.full_like(x, 0.6)), bar).passed


def test_plateau_bars_are_the_noisy_nulls_99th_percentile():
    """The plateau bars: about 1 % of constant-rate curves with D*'s seed noise (fresh draws, not
    the bar's own) reach them, while the old fixed bar 1.5 was reached by several times more."""
    inv = torch.tensor([1, 1.15, 1.3, 1.45, 1.6, 1.8, 2, 2.3, 2.7, 3.2, 4, 5, 7, 10, 30.0])
    smooth = constant_rate(inv, torch.tensor([1.01] + [0.5] * 13 + [0.106]))
    gen = torch.Generator().manual_seed(123)
    noisy = smooth + DSTAR_NOISE * torch.randn(3000, len(inv), generator=gen)
    for widths_fn, ratio_fn, claim in (
        (plateau_widths, half_ratio, plateau_claim),
        (one_plateau_widths, one_ratio, one_plateau_claim),
    ):
        bar = ratio_bar(inv, smooth, widths_fn, ratio_fn)
        assert bar > 1.2
        share = torch.tensor([claim(widths_fn(inv, y), bar).passed for y in noisy]).float().mean()
        assert 0.003 <= float(share) <= 0.025, (claim.__name__, bar, float(share))
    ratios = torch.tensor([half_ratio(plateau_widths(inv, y)) or 0.0 for y in noisy])
    assert float((ratios >= 1.5).float().mean()) > 0.03  # the old bar let the noisy null through


def test_sum_claim_needs_every_instance_within_its_bar():
    bars = torch.tensor([0.05, 0.1, 0.1])
    assert sum_claim(torch.tensor([1.0, 0.97, 1.02]), bars).passed
    assert not sum_claim(torch.tensor([1.0, 0.8, 1.02]), bars).passed
    assert not sum_claim(torch.tensor([0.94, 1.0, 1.0]), bars).passed


def test_sum_bars_are_the_random_directions_tail():
    """Σ D_i ≈ m: each instance's bar is the 1 % tail of its null (random directions with the
    same norms, 100 draws as in the run): ~1 % of fresh draws come within it, per instance."""
    gen = torch.Generator().manual_seed(0)
    W = torch.randn(3, 20, 200, generator=gen) * torch.rand(3, 1, 200, generator=gen)
    m = W.shape[-2]
    null = [metrics.feature_dimensionality(same_norms_random(W, 1 + d)) for d in range(100)]
    bars = sum_bars(torch.stack([R.sum(-1) / m for R in null]))
    fresh = torch.stack(
        [metrics.feature_dimensionality(same_norms_random(W, 1000 + d)) for d in range(1000)]
    )
    share = ((fresh.sum(-1) / m - 1).abs() < bars).float().mean(0)
    assert bool(((share > 0.001) & (share < 0.04)).all()), share
    assert not sum_claim(fresh[0].sum(-1) / m, bars).passed


def test_dense_claim_fails_on_untrained_models():
    """D* ≈ 1 is half the gap to the next sticky value (0.125): untrained models of the run's shape
    (2000 seeds) sit at D* ≈ 0.55 and none passes."""
    toy = toy_config(get_experiment("uniform-geometry").quick)
    null = toy.replace(seed=toy.seed + 2, **{"features.sparsity": [0.0] * 2000})
    dstar = metrics.dimensions_per_feature(untrained(null).W.detach())
    assert abs(float(dstar.mean()) - 0.55) < 0.02
    assert not any(dense_claim(float(d)).passed for d in dstar)


def test_dense_and_sticky_claims_flip():
    assert dense_claim(1.02).passed
    assert not dense_claim(0.86).passed
    at_half = torch.full((100,), 0.5)
    assert sticky_share(at_half)["total"] == 1.0
    assert sticky_claim(at_half, 1.5).passed
    off = torch.full((100,), 0.2)  # far from every sticky fraction
    assert not sticky_claim(off, 1.5).passed
    spread = torch.linspace(0, 1, 100_001)  # uniformly spread: contrast 1 (share ≈ 0.11)
    assert abs(sticky_share(spread)["contrast"] - 1) < 0.01
    assert not sticky_claim(spread, 1.5).passed


def test_uniform_geometry_runs_small(tmp_path):
    exp = get_experiment("uniform-geometry")
    cfg = exp.quick.replace(
        inverse_density=[1, 2, 4, 10],
        **{"model.n_features": 20, "model.n_hidden": 4, "model.train.steps": 50},
    )
    rec = run_experiment(exp, RunContext(tmp_path, device=torch.device("cpu"), progress=False), cfg)
    assert rec["status"] == "ok", rec.get("error")
    assert [c["id"] for c in rec["claims"]] == [
        "dstar-one-when-dense",
        "dstar-sticks-at-one",
        "dstar-sticks-at-half",
        "dimensionalities-sum-to-m",
        "sticky-fraction-share",
    ]
    assert (tmp_path / "dstar_and_dimensionality.png").is_file()


def test_inverse_density_below_one_is_rejected():
    with pytest.raises(SuperposeError, match="inverse_density"):
        get_experiment("uniform-geometry").quick.replace(inverse_density=[0.5, 1, 2, 3])
