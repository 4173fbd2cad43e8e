"""CiS experiments: claims flip on doctored data; quick forms run through the CLI."""

import json

import pytest
import yaml

from superpose.circuits.errors import ErrorProfile
from superpose.experiments import cis1_vs_cis2 as c12
from superpose.experiments import cis2_capacity as c2c
from superpose.experiments import cis2_errors as c2e
from superpose.experiments import cis2_scaling as c2s
from tests.cli.test_cli import assert_one_line_error, run_cli


def profile(active_total, inactive_total=None, propagation=None, overlap_inactive=None, z=2):
    L = len(active_total)
    zeros = [0.0] * L
    a2 = [1.0] * L
    return ErrorProfile(
        active={
            "total": active_total,
            "overlap": zeros,
            "relu": zeros,
            "propagation": propagation or zeros,
        },
        inactive={
            "total": inactive_total or [0.01] * L,
            "overlap": overlap_inactive or [z * 4 / 1000] * L,
            "relu": zeros,
            "propagation": zeros,
        },
        a2=a2,
        z=z,
        T=557,
        D=1000,
        d=4,
    )


def test_layer1_and_propagation_claims_flip():
    good = {1: profile([0.0, 0.1, 0.2], propagation=[0.0, 0.1, 0.2], z=1)}
    bad = {1: profile([0.05, 0.1, 0.2], propagation=[0.01, 0.1, 0.2], z=1)}
    assert c2e.claim_layer1_exact(good).passed and not c2e.claim_layer1_exact(bad).passed
    assert c2e.claim_propagation_from_layer2(good).passed
    assert not c2e.claim_propagation_from_layer2(bad).passed


def test_depth_claims_flip():
    linear = {2: profile([0.1, 0.2, 0.3, 0.4, 0.5], inactive_total=[0.01] * 5)}
    explosive = {
        2: profile([0.001, 0.01, 0.1, 1.0, 10.0], inactive_total=[0.01, 0.02, 0.05, 0.1, 0.3])
    }
    assert c2e.claim_linear_depth(linear).passed and not c2e.claim_linear_depth(explosive).passed
    assert c2e.claim_inactive_flat(linear, 1000).passed
    assert not c2e.claim_inactive_flat(explosive, 1000).passed


def test_margins_held_claim_flips():
    held = {2: {"active": [0.1, 0.2, 0.3, 0.4, 0.5], "inactive": [0.01, 0.011, 0.01, 0.01, 0.01]}}
    broken = {
        2: {"active": [0.001, 0.01, 0.1, 1.0, 10.0], "inactive": [0.01, 0.02, 0.05, 0.1, 0.3]}
    }
    flat_but_growing_inactive = {
        2: {"active": held[2]["active"], "inactive": broken[2]["inactive"]}
    }
    assert c2e.claim_linear_if_margins_hold(held).passed
    assert not c2e.claim_linear_if_margins_hold(broken).passed
    assert not c2e.claim_linear_if_margins_hold(flat_but_growing_inactive).passed


def test_formula_claims_flip():
    right = {2: profile([0.0] * 3, overlap_inactive=[0.008] * 3)}
    wrong = {2: profile([0.0] * 3, overlap_inactive=[0.03] * 3)}
    assert c2e.claim_overlap_formula(right).passed and not c2e.claim_overlap_formula(wrong).passed
    c_w = 5.0
    p = profile([0.0] * 4)
    pred = c2e.predicted(p, c_w)["total_active"]
    on = {2: profile(pred)}
    off = {2: profile([v * 3 for v in pred])}
    assert c2e.claim_within_factor(on, c_w, 1000).passed
    assert not c2e.claim_within_factor(off, c_w, 1000).passed


def test_slope_and_capacity_claims_flip():
    x = [100, 200, 400]
    assert c2s.slope_claim("circuits", "propagation", "T", x, [1, 2, 4], 0.2).passed
    assert not c2s.slope_claim("circuits", "propagation", "T", x, [1, 1.1, 1.2], 0.2).passed
    assert c2c.slope_claim("linked", 1, x, [10, 40, 160], 0.2).passed
    assert not c2c.slope_claim("linked", 1, x, [10, 20, 40], 0.2).passed  # the null, T ∝ D
    rows = [{"width": w, "active": z, "T": w * w / 16 / z / 5} for w in x for z in (1, 2)]
    assert c2c.pooled_claim(rows, "linked", 4, 0.2).passed
    flat = [{**r, "T": 100} for r in rows]
    assert not c2c.pooled_claim(flat, "linked", 4, 0.2).passed
    found = {("linear", 1): [10, 40], ("linked", 1): [20, 80]}
    assert c2c.embedding_claim(found, [100, 200]).passed
    assert not c2c.embedding_claim({**found, ("linked", 1): [10, 80]}, [100, 200]).passed


def test_regime_claims_flip():
    rows = [
        {
            "predicted_switch_on": [0, 0.10],
            "measured_switch_on": [0, 0.09],
            "predicted_inside": f,
            "measured_flat": f,
            "predicted_noise_growth": 1.0,
            "measured_inactive_last_over_first": 1.0,
            "width": w,
            "circuits": T,
        }
        for (w, T, _, _), f in zip(
            c2e.REGIME_CASES, [False, False, True, True, True, False], strict=True
        )
    ]
    pairs = c2e.switch_on_pairs(rows)
    assert c2e.claim_criterion_switch_on(pairs).passed
    assert not c2e.claim_criterion_switch_on([(p, 0.3) for p, _ in pairs]).passed
    assert not c2e.claim_criterion_switch_on([(0.0, m) for _, m in pairs]).passed  # Case 1
    assert c2e.claim_criterion_side(c2e.criterion_sides(rows)).passed
    flat = [{**r, "measured_flat": True} for r in rows]
    assert not c2e.claim_criterion_side(c2e.criterion_sides(flat)).passed
    assert not c2e.claim_criterion_side(c2e.criterion_sides(rows, 1.0)).passed  # the load null


def test_cis1_claims_flip():
    lin, blow = {1: [0.0, 0.1, 0.2, 0.3]}, {1: [1.0, 10.0, 100.0, 1e4]}
    assert c12.claim_linear(lin, "CiS2", "CiS1").passed
    assert not c12.claim_linear(blow, "CiS2", "CiS1").passed
    assert c12.claim_blows_up(blow, "CiS1", "CiS2").passed
    assert not c12.claim_blows_up(lin, "CiS1", "CiS2").passed
    assert c12.increments([0.1, 0.3, 0.6]) == pytest.approx([0.1, 0.2, 0.3])
    assert c12.claim_layer1((0.01, 0.0), ("CiS1", "CiS2")).passed
    assert not c12.claim_layer1((0.0, 0.0), ("CiS1", "CiS2")).passed


#: issue 12's allocation targets on a few small cells (its own test: test_allocation_claims_flip)
TINY_ALLOCATION = {"named": [(100, 5)], "widths": [100], "sizes": [3, 4], "balanced_widths": [100]}


def test_capacity_runner_on_a_tiny_grid(tmp_path):
    from superpose.experiments.base import RunContext

    net = c2c.Cis2CapacityConfig().net.replace(layers=2, redundancy=4, verify_batch=16)
    cfg = c2c.Cis2CapacityConfig(
        net=net, widths=[240, 480], embeddings=["linear", "linked"], allocation=TINY_ALLOCATION
    )
    res = c2c.run_capacity(cfg, RunContext(tmp_path, progress=False))
    # + the noise-sized threshold and the three allocation claims
    assert len(res.claims) == 9 and res.figures[0].is_file()
    assert all(r["T"] > 0 for r in res.data["frontier"])
    assert all(c.null is not None and not c.null.passed for c in res.claims)


def test_allocation_claims_flip(tmp_path):
    """Issue 12's allocation targets as claims: the affine scheme meets them on small cells and the
    prime-step null fails each; a cell doctored below the bound's fraction, or with one unbalanced
    T, fails them."""
    from superpose.experiments import _allocation as al
    from superpose.experiments.base import RunContext

    claims = al.allocation_claims(
        al.AllocationTargets(**TINY_ALLOCATION), RunContext(tmp_path, progress=False)
    )
    assert [c.id for c in claims] == [
        "allocation-named-points",
        "allocation-every-cell",
        "allocation-balanced-every-T",
    ]
    assert all(c.passed and not c.null.passed for c in claims)
    grid = [(100, 3), (100, 4), (100, 5)]
    cells = {c: al.allocation_cell({"scheme": "affine", "n": c[0], "size": c[1], "balance": True})
             for c in grid}  # fmt: skip
    assert al.every_cell_claim(cells, grid, 0.85).passed and al.balance_claim(cells, grid).passed
    low = {**cells, (100, 4): {**cells[(100, 4)], "T": int(0.84 * cells[(100, 4)]["bound"])}}
    assert not al.every_cell_claim(low, grid, 0.85).passed
    assert not al.named_claim(low, [(100, 4)], 0.9).passed
    off = {**cells, (100, 5): {**cells[(100, 5)], "unbalanced T": 1}}
    assert not al.balance_claim(off, grid).passed


def check_report(out, name):
    rec = json.loads((out / name / "result.json").read_text())
    assert rec["status"] == "ok", rec.get("error")
    assert rec["claims"] and all(isinstance(c["passed"], bool) for c in rec["claims"])
    for fig in rec["figures"]:
        assert (out / name / fig).is_file()


def reproduce_through_cli(tmp_path, names):
    args = [a for n in names for a in ("--only", n)]
    proc = run_cli("reproduce", *args, "--out", str(tmp_path), "--no-progress")
    assert proc.returncode == 0, proc.stderr
    for name in names:
        check_report(tmp_path, name)


def test_quick_experiments_through_cli(tmp_path):
    reproduce_through_cli(tmp_path, ["cis2-scaling", "cis1-vs-cis2"])


@pytest.mark.slow
def test_quick_cis2_errors_through_cli(tmp_path):
    """Its quick form takes ~50 s (the default test runs its smoke form: test_nulls)."""
    reproduce_through_cli(tmp_path, ["cis2-errors"])


@pytest.mark.slow
def test_quick_capacity_through_cli(tmp_path):
    reproduce_through_cli(tmp_path, ["cis2-capacity"])


def test_cis_build_cli(tmp_path):
    cfg = tmp_path / "c.yaml"
    good = {"construction": "cis2", "width": 480, "redundancy": 6, "circuits": 60, "layers": 3}
    cfg.write_text(yaml.safe_dump({**good, "max_active": 1, "embedding": "linked"}))
    proc = run_cli("build", str(cfg), "--out", str(tmp_path / "net"), "--batch", "16")
    assert proc.returncode == 0, proc.stderr
    for f in ("config.yaml", "weights.safetensors", "ground_truth.json", "errors.json"):
        assert (tmp_path / "net" / f).is_file()
    errors = json.loads((tmp_path / "net" / "errors.json").read_text())
    assert set(errors) == {"z=1"}
    assert json.loads((tmp_path / "net" / "ground_truth.json").read_text())["verified"] is True
    # overloaded: refused in one line, or saved marked unverified when asked for explicitly
    bad = {**good, "circuits": 300, "max_active": 2}
    cfg.write_text(yaml.safe_dump(bad))
    proc = run_cli("build", str(cfg), "--out", str(tmp_path / "bad"))
    assert_one_line_error(proc, "verification failed")
    cfg.write_text(yaml.safe_dump({**bad, "allow_unverified": True}))
    proc = run_cli("build", str(cfg), "--out", str(tmp_path / "bad"))
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "bad" / "ground_truth.json").read_text())["verified"] is False


def test_cis_build_bad_config_is_one_line(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({"construction": "cis2", "width": 240, "redundancy": 40}))
    proc = run_cli("build", str(cfg), "--out", str(tmp_path / "net"))
    assert_one_line_error(proc, "redundancy")
    cfg.write_text(
        yaml.safe_dump(
            {"construction": "cis2", "width": 200, "redundancy": 8, "circuits": 10, "max_active": 1}
        )
    )
    proc = run_cli("build", str(cfg), "--out", str(tmp_path / "net"))
    assert_one_line_error(proc, "too large for D/d")
