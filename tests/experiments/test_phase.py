import torch

from superpose.experiments import RunContext, get_experiment, run_experiment
from superpose.experiments._phase import agreement_claim, constant_map, mc_claim, sampled_claim


def test_phase_experiment_runs_small(tmp_path):
    exp = get_experiment("phase-2x1")
    cfg = exp.quick.replace(
        n_importance=5,
        n_density=5,
        mc_samples=20_000,
        **{"exact.seeds": 3, "check_train.steps": 300},
    )
    rec = run_experiment(exp, RunContext(tmp_path, device=torch.device("cpu"), progress=False), cfg)
    assert rec["status"] == "ok", rec.get("error")
    assert {c["id"] for c in rec["claims"]} == {
        "closed-forms-match-monte-carlo",
        "empirical-matches-theory",
        "exact-training-matches-sampled",
    }
    assert (tmp_path / "phase_2x1.png").is_file()
    assert (tmp_path / "claims.json").is_file()


def test_claims_flip_on_doctored_input():
    theo = torch.zeros(10, 10, dtype=torch.long)
    theo[:, 8:] = 1  # 80 % one phase, like the 2x1 theory map
    assert agreement_claim((theo.clone(), theo)).passed
    wrong = theo.clone()
    wrong[:3] = 1 - wrong[:3]  # 30 % of points disagree
    assert not agreement_claim((wrong, theo)).passed
    const = agreement_claim((constant_map(theo), theo)).measured
    assert (
        abs(const["agreement"] - 0.8) < 1e-6 and const["kappa"] == 0.0
    )  # the old ≥ 80 % bar passed this
    assert mc_claim({"max_relative_error": 0.002}).passed
    assert not mc_claim({"max_relative_error": 0.05}).passed
    assert sampled_claim({"sampled": [0, 1, 2, 1], "exact": [0, 1, 2, 2]}).passed
    assert not sampled_claim({"sampled": [0, 0, 0, 0], "exact": [0, 1, 2, 2]}).passed
    assert sampled_claim({"sampled": [0, 2, 2, 2], "exact": [0, 2, 2, 2]}).passed
    assert not sampled_claim({"sampled": [2, 2, 2, 2], "exact": [0, 2, 2, 2]}).passed  # κ = 0
