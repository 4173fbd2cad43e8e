import math

import torch

from superpose.experiments import RunContext, get_experiment, run_experiment
from superpose.experiments.base import same_norms_random
from superpose.experiments.nonuniform_pentagon import (
    DIGON_COS,
    PENTAGON_TOL_DEG,
    collapse_claim,
    crossing_claim,
    pentagon_claim,
    pentagon_error,
    pull_claim,
    repel_claim,
)
from superpose.plots.geometry import canonicalize


def polygon(angles_deg, norms=None):
    a = torch.deg2rad(torch.tensor(angles_deg, dtype=torch.float32))
    W = torch.stack([torch.cos(a), torch.sin(a)])
    return W * (torch.tensor(norms) if norms is not None else 1.0)


def test_pentagon_bar_is_the_random_directions_tail():
    """The regular-pentagon bar is the 1 % tail of its null (random directions, the same norms):
    about 1 % of random draws pass it, and a pentagon off by more than the bar fails."""
    pent = polygon([0, 72, 144, 216, 288])
    draws = same_norms_random(pent.expand(20_000, 2, 5), seed=1)
    err = torch.tensor([pentagon_error(w) for w in draws])
    assert 0.005 <= float((err <= PENTAGON_TOL_DEG).float().mean()) <= 0.015
    assert not pentagon_claim(draws[0], 0.05).passed
    off = PENTAGON_TOL_DEG + 1
    assert not pentagon_claim(polygon([0, 72 + off, 144, 216, 288]), 0.05).passed
    assert pentagon_claim(polygon([0, 72 + off - 2, 144, 216, 288]), 0.05).passed


def test_digon_bar_is_the_random_directions_tail():
    """The digon bar (every other feature's best partner below DIGON_COS) is the 1 % tail of its
    null (random directions, the same norms: the varied one at zero): about 1 % of random draws
    pass the claim; a pair off antipodal by more than arccos(−DIGON_COS) = 9.9° fails."""
    digons = polygon([0, 90, 180, 270, 45], norms=[1, 1, 1, 1, 0.0])
    draws = same_norms_random(digons.expand(20_000, 2, 5), seed=1)
    passed = torch.tensor([collapse_claim(w, 0.001).passed for w in draws])
    assert 0.005 <= float(passed.float().mean()) <= 0.015
    assert not collapse_claim(draws[0], 0.001).passed
    off = math.degrees(math.acos(-DIGON_COS))
    near = polygon([0, 90, 180 + off - 1, 270, 45], norms=[1, 1, 1, 1, 0.0])
    assert collapse_claim(near, 0.001).passed
    assert not collapse_claim(
        polygon([0, 90, 180 + off + 1, 270, 45], norms=[1, 1, 1, 1, 0.0]), 0.001
    ).passed
    # the norm parts: the varied feature still represented, or another one not, is no collapse
    assert not collapse_claim(polygon([0, 90, 180, 270, 45], norms=[1, 1, 1, 1, 0.6]), 0.001).passed
    assert not collapse_claim(polygon([0, 90, 180, 270, 45], norms=[1, 1, 1, 0.4, 0]), 0.001).passed


def test_geometry_claims_pass_on_ideal_shapes_and_flip_on_doctored_ones():
    pent = polygon([0, 72, 144, 216, 288])
    assert pentagon_error(pent) < 1e-3
    assert pentagon_claim(pent, 0.05).passed
    assert not pentagon_claim(polygon([0, 30, 144, 216, 288]), 0.05).passed
    digons = polygon([0, 90, 180, 270, 45], norms=[1, 1, 1, 1, 0.0])
    assert collapse_claim(digons, 0.001).passed
    assert not collapse_claim(pent, 0.001).passed  # a pentagon has not collapsed
    d = torch.tensor([0.001, 0.01, 0.1])
    pent_l, digon_l = torch.tensor([2.0, 1.0, 1.0]), torch.tensor([1.0, 1.0, 3.0])
    assert crossing_claim((pent_l, digon_l), d).passed
    assert not crossing_claim((digon_l, pent_l), d).passed  # the null: curves swapped
    assert not crossing_claim(
        (torch.tensor([1.0, 1.0, 1.0]), torch.tensor([2.0, 2.0, 3.0])), d
    ).passed
    pushed = polygon([0, 80, 150, 210, 280])  # feature 4 at 280°: neighbours 80° away
    pushed = pushed[:, [1, 2, 3, 4, 0]]  # varied feature (index 4) at 0°
    assert repel_claim(pushed, 0.3, 2.0).passed
    assert not repel_claim(pushed, 0.3, 9.0).passed  # within the uniform pentagon's own deviation
    assert not repel_claim(pent, 0.3, 0.0).passed
    pulled = polygon([0, 64, 144, 216, 296])[:, [1, 2, 3, 4, 0]]  # neighbours 64° from it
    assert pull_claim(pulled, 0.017, 2.0).passed
    assert not pull_claim(pulled, 0.017, 9.0).passed  # within the uniform pentagon's deviation
    assert not pull_claim(pent, 0.017, 0.0).passed  # the null: the regular pentagon
    assert not pull_claim(pushed, 0.017, 0.0).passed
    assert not pull_claim(pent, None, 0.0).passed  # no sparser density represents it


def test_canonicalize_puts_the_anchor_on_x_and_keeps_norms():
    W = polygon([33, 105, 177, 249, 321], norms=[1, 1.2, 0.9, 1, 1.1])
    c = canonicalize(W, anchor=4)
    assert math.isclose(float(torch.atan2(c[1, 4], c[0, 4])), 0.0, abs_tol=1e-5)
    torch.testing.assert_close(c.norm(dim=0), W.norm(dim=0))


def test_nonuniform_experiment_runs_small(tmp_path):
    exp = get_experiment("nonuniform-pentagon")
    cfg = exp.quick.replace(
        n_density=3, continue_steps=30, **{"exact.seeds": 3, "exact.steps": 150}
    )
    rec = run_experiment(exp, RunContext(tmp_path, device=torch.device("cpu"), progress=False), cfg)
    assert rec["status"] == "ok", rec.get("error")
    assert len(rec["claims"]) == 5
    for name in ("geometries", "loss_curves", "deformation"):
        assert (tmp_path / f"{name}.png").is_file()
