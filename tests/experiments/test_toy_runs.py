"""Every tms-b experiment runs end to end: a tiny smoke config by default (claims computed, figures
written), the registered quick form under -m slow (claims hold)."""

import json

import pytest

from superpose.experiments import get_experiment, run_experiment
from superpose.experiments.base import RunContext

NAMES = [
    "tms-basic",
    "adversarial",
    "privileged-basis",
    "l1-no-superposition",
    "correlated",
    "abs-value",
    "learning-dynamics",
]
SMOKE = {
    "tms-basic": {"model.train.steps": 20, "model.features.sparsity": [0.0, 0.99]},
    "adversarial": {"model.train.steps": 20, "attack_batch": 64},
    "privileged-basis": {"model.train.steps": 20, "model.train.restarts": 1},
    "l1-no-superposition": {"model.train.steps": 20, "model.train.restarts": 1},
    "correlated": {"train.steps": 20, "train.restarts": 1},
    "abs-value": {
        "model.train.steps": 20,
        "model.train.restarts": 1,
        "model.n_features": 20,
        "model.n_hidden": 8,
        "dense_train.steps": 20,
        "dense_train.restarts": 1,
        "own": [{"sparsity": [0.5], "train": {"steps": 20}}],
        "sparse_train.steps": 20,
        "sparse_train.eval_batch": 8192,
        "small.train.steps": 20,
    },
    "learning-dynamics": {
        "model.train.steps": 400,
        "model.n_instances": 2,
        "digons.train.steps": 400,
        "digons.n_instances": 2,
        "eval_batch": 256,
    },
}

# Paper claims that do not hold in our quick runs (reported as failing, with numbers, in claims.json;
# see the experiment modules).
# test_known_failing_still_fail keeps this list honest: a listed claim that holds fails it.
KNOWN_FAILING = {
    # A hump from the average over inputs, not from the weights: vulnerability peaks at S = 0.95
    # (14.5) and falls to 8.7 at S = 0.999 while features per dimension rise (4.99 → 5.92); r =
    # 0.79 < 0.8. The interference the attack uses, mean ‖(WᵀW)_i‖², rises throughout (r = 0.991),
    # but most sparse inputs are all zero (non-zero: 66 % at S = 0.95, 2.3 % at 0.999) and no attack
    # of 0.1 × the mean input norm passes the output bias (≈ −0.36) there; over non-zero inputs
    # vulnerability stays 13–15 (r = 0.94). The paper does not say which inputs it averages.
    "adversarial": {"vulnerability-tracks-features-per-dimension"},
    # abs-value holds 6/6 (S = 0.5 and 0.97 train on their own in the quick form);
    # top-features-monosemantic, judged from the features' side, holds at seeds 0–4 on this kernel
    # and the one before, p < 0.0005 (its neuron-level form failed 2 of 5 on each: see the module
    # note).
}


@pytest.mark.parametrize("name", NAMES)
def test_smoke_run_writes_claims_and_figures(name, tmp_path):
    exp = get_experiment(name)
    cfg = exp.quick.replace(**SMOKE[name])
    rec = run_experiment(exp, RunContext(tmp_path, quick=True, progress=False), cfg)
    assert rec["status"] == "ok", rec.get("traceback")
    claims = json.loads((tmp_path / "claims.json").read_text())
    assert claims and all(isinstance(c["passed"], bool) for c in claims)
    assert rec["figures"] and all((tmp_path / f).is_file() for f in rec["figures"])


@pytest.fixture(scope="module")
def quick_records(tmp_path_factory):
    """Each experiment's quick run, made once for the two tests that read it."""
    cache: dict[str, dict] = {}

    def get(name: str) -> dict:
        if name not in cache:
            exp = get_experiment(name)
            ctx = RunContext(tmp_path_factory.mktemp(name), quick=True, progress=False)
            cache[name] = run_experiment(exp, ctx)
        return cache[name]

    return get


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_quick_form_claims_hold(name, quick_records):
    rec = quick_records(name)
    assert rec["status"] == "ok", rec.get("traceback")
    failed = {c["id"] for c in rec["claims"] if not c["passed"]}
    assert failed <= KNOWN_FAILING.get(name, set()), rec["claims"]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(KNOWN_FAILING))
def test_known_failing_still_fail(name, quick_records):
    """No stale entry: every listed claim exists and still does not hold in the quick form."""
    rec = quick_records(name)
    assert rec["status"] == "ok", rec.get("traceback")
    passed = {c["id"]: c["passed"] for c in rec["claims"]}
    listed = KNOWN_FAILING[name]
    assert listed <= set(passed), (
        f"{name}: listed claims that no longer exist: {listed - set(passed)}"
    )
    stale = {i for i in listed if passed[i]}
    assert not stale, f"{name}: KNOWN_FAILING entries that hold now (remove them): {stale}"
