"""Every claim of every registered experiment has a null, and does not hold on it (issue 14).

A claim's null is the same check function applied to a null measurement (untrained weights, a random
matrix of the same norms, a linear model where ReLU is needed, a shuffled feature order...), made in
the same run by `experiments.base.with_null`. The default test runs tiny smoke configs (the null must
fail whatever the training quality); the registered quick forms run under -m slow.
"""

import json

import pytest
import torch

from superpose.experiments import Claim, get_experiment, registry, run_experiment
from superpose.experiments.base import RunContext, same_norms_random, untrained, with_null
from superpose.report import render
from superpose.toy.config import ToyConfig
from superpose.toy.train import train

from .test_toy_runs import SMOKE as TOY_SMOKE

#: tiny overrides of each experiment's quick config (seconds, not minutes: the null check does not
#: need a trained-to-convergence run); an experiment not listed runs its quick form. Owners: make
#: yours smaller if it is the slowest (`--durations=10`); the whole default test has ~60 s.
SMOKE = {
    **TOY_SMOKE,
    "phase-2x1": {
        "n_importance": 4,
        "n_density": 4,
        "exact.seeds": 2,
        "exact.steps": 30,
        "mc_samples": 1000,
        "check_train.steps": 100,
        "check_train.restarts": 1,
    },
    "phase-3x2": {
        "n_importance": 3,
        "n_density": 3,
        "exact.seeds": 2,
        "exact.steps": 30,
        "mc_samples": 1000,
        "check_train.steps": 100,
        "check_train.restarts": 1,
    },
    "nonlinear-compression": {"samples": 20_000},
    "resid-mlp-baseline": {"model.steps": 50, "model.eval_batch": 20_000},
    "sae-recovers-circuits": {
        "targets": [
            {"entry": "cis2", "overrides": {"width": 200, "circuits": 20, "layers": 2}},
            {"entry": "tms-40-10", "overrides": {"train.steps": 100}},
        ],
        "sae.steps": 20,
        "sae.batch": 64,
        "pool": 600,
        "eval_batch": 300,
    },
    "nonuniform-pentagon": {
        "n_density": 3,
        "exact.seeds": 2,
        "exact.steps": 60,
        "continue_steps": 10,
    },
    "uniform-geometry": {
        "model.n_features": 20,
        "model.n_hidden": 4,
        "inverse_density": [1, 2, 4, 10],
        "model.train.steps": 50,
    },
    "compressed-sensing": {
        "sizes": [(8, 1), (8, 2), (12, 3)],
        "hidden": [2, 4, 6],
        "model.train.steps": 30,
    },
    "cis2-scaling": {
        "net.width": 1200,
        "net.circuits": 240,
        "T_values": [120, 240, 480],
        "D_values": [800, 1200, 2400],
        "d_values": [3, 4, 6],
        "z_values": [1, 2, 4],
        "batch": 32,
    },
    "cis2-capacity": {
        "widths": [400, 800],
        "net.layers": 3,
        "batch": 32,
        "allocation": {"named": [(100, 5)], "widths": [100], "sizes": [3, 4]},
    },
    "cis2-readout-scaling": {"widths": [400, 800, 1200], "batch": 16},
    "scaling-law": {
        "n_features": 128,
        "widths": [4, 8, 16],
        "steps": 40,
        "batch_size": 32,
        "eval_batch": 256,
    },
    "uand-scaling": {"ms": [200, 400, 800], "seeds": [0]},
    "chosen-gates-capacity": {"ds": [100, 200], "fan_ins": [2]},
    "cis2-errors": {
        "net.width": 200,
        "net.circuits": 20,
        "net.layers": 3,
        "check_width": 400,
        "batch": 16,
        "active": [1, 2],
    },
    "cis1-vs-cis2": {"batch": 16},
    "uand-deep": {
        "ds": [250, 500],
        "m_over_d": [0.125, 2.0],
        "wide_d": 500,
        "net.depth": 3,
        "net.verify_batch": 8,
    },
}

#: Experiments some of whose claims still have no null: each engineer removes their experiment's
#: line once every claim of it has one. The test fails when a listed experiment no longer lacks one.
PENDING: set[str] = set()


def check_nulls(name: str, claims: list[dict]) -> None:
    """Every claim has a null record on which it does not hold; a PENDING experiment must still
    lack a null somewhere (so the list cannot go stale), and none of its nulls may hold."""
    assert claims, f"{name}: no claims"
    missing = [c["id"] for c in claims if not c.get("null")]
    holding = [
        (c["id"], c["null"]["kind"], c["null"]["measured"])
        for c in claims
        if c.get("null") and c["null"]["passed"]
    ]
    assert not holding, f"{name}: claims that hold on their null: {holding}"
    if name in PENDING:
        assert missing, f"{name}: every claim has a null now; remove it from PENDING"
    else:
        assert not missing, f"{name}: claims without a null: {missing}"


def run_claims(name: str, tmp_path, smoke: bool) -> list[dict]:
    exp = get_experiment(name)
    cfg = exp.quick.replace(**SMOKE.get(name, {})) if smoke else None
    rec = run_experiment(exp, RunContext(tmp_path, quick=True, progress=False), cfg)
    assert rec["status"] == "ok", rec.get("traceback")
    claims = json.loads((tmp_path / "claims.json").read_text())
    assert claims == rec["claims"]
    return claims


def above(x: float, bar: float) -> Claim:
    return Claim(id="above", statement="x > bar", measured=x, expected=f"> {bar}", passed=x > bar)


def test_with_null_applies_the_same_check_to_both(tmp_path):
    claim = with_null(above, 3.0, 0.5, "a null", 1.0)
    assert claim.passed and claim.null.kind == "a null"
    assert claim.null.measured == 0.5 and claim.null.passed is False
    assert claim.to_dict()["null"] == {"kind": "a null", "measured": 0.5, "passed": False}
    assert "on null (a null) fails" in repr(claim)
    with pytest.raises(ValueError, match="not 'above'"):
        with_null(lambda x: above(x, 1.0) if x > 1 else Claim("other", "", x, "", False), 3, 0, "")
    # the report shows the null beside the verdict, and says when a claim holds on it
    (tmp_path / "e").mkdir()
    rec = {"name": "e", "title": "t", "status": "ok", "quick": True, "seconds": 1.0}
    claims = [claim.to_dict(), with_null(above, 3.0, 2.0, "weak null", 1.0).to_dict()]
    (tmp_path / "e" / "result.json").write_text(json.dumps({**rec, "claims": claims}))
    page = render(tmp_path).read_text()
    assert "fails, as it should" in page and "holds (the check does not discriminate)" in page


def test_untrained_is_where_training_starts():
    toy = ToyConfig(
        n_features=6, n_hidden=2, features={"sparsity": [0.0, 0.9]}, train={"restarts": 3}
    )
    start = train(toy.replace(train=toy.train.replace(steps=1, lr=1e-12, restarts=1)), False)
    first = untrained(toy.replace(train=toy.train.replace(restarts=1)))
    assert torch.allclose(first.W, start.model.W.cpu(), atol=1e-9)
    assert untrained(toy).W.shape == (2, 2, 6)


def test_same_norms_random_keeps_norms_not_directions():
    W = torch.randn(3, 4, 10)
    R = same_norms_random(W, seed=1)
    assert torch.allclose(R.norm(dim=-2), W.norm(dim=-2), atol=1e-5)
    assert not torch.allclose(R, W) and torch.equal(R, same_norms_random(W, seed=1))


def test_pending_names_are_registered():
    assert not PENDING - set(registry()), PENDING - set(registry())
    assert not set(SMOKE) - set(registry()), set(SMOKE) - set(registry())


@pytest.mark.parametrize("name", sorted(registry()))
def test_every_claim_fails_on_its_null(name, tmp_path):
    check_nulls(name, run_claims(name, tmp_path, smoke=True))


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(registry()))
def test_every_quick_claim_fails_on_its_null(name, tmp_path):
    check_nulls(name, run_claims(name, tmp_path, smoke=False))
