import torch

from superpose.experiments import RunContext, get_experiment, run_experiment
from superpose.experiments._phase import (
    agreement_claim,
    constant_map,
    mc_bar,
    mc_check,
    mc_claim,
    mc_table,
    sampled_claim,
)


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
    assert mc_claim({"max_z": 3.5, "comparisons": 27}).passed
    assert not mc_claim({"max_z": 3.6, "comparisons": 27}).passed
    assert sampled_claim({"sampled": [0, 1, 2, 1], "exact": [0, 1, 2, 2]}).passed
    assert not sampled_claim({"sampled": [0, 0, 0, 0], "exact": [0, 1, 2, 2]}).passed
    assert sampled_claim({"sampled": [0, 2, 2, 2], "exact": [0, 2, 2, 2]}).passed
    assert not sampled_claim({"sampled": [2, 2, 2, 2], "exact": [0, 2, 2, 2]}).passed  # κ = 0


def test_mc_bar_is_the_monte_carlo_noise():
    """The closed forms are checked in standard errors of the Monte Carlo (from its samples): the
    z's of right closed forms are standard normal, about 1 % of fresh tables or fewer (Bonferroni)
    fail the bar, a closed form 2 % off passes at 1000 samples (within the noise) and fails at
    100,000, and the null (the next candidate's Monte Carlo loss) fails."""
    assert round(mc_bar(27), 2) == 3.56 and round(mc_bar(36), 2) == 3.64
    tables = [mc_table("2x1", 2000, 1000 + 10 * k) for k in range(40)]
    z = torch.cat([((c - m) / s).flatten() for c, m, s in tables])
    assert 0.9 < float(z.std()) < 1.1
    assert sum(not mc_claim(mc_check(t)).passed for t in tables) <= 2
    for samples, holds in ((1000, True), (100_000, False)):
        closed, mc, se = mc_table("2x1", samples, 0)
        off = closed.clone()
        off[4, 0] *= 1.02  # (r, p) = (1, 0.3), W=[1,0]
        assert mc_claim(mc_check((off, mc, se))).passed is holds
        assert mc_claim(mc_check((closed, mc, se))).passed
        assert not mc_claim(mc_check((closed, mc, se), shift=1)).passed
