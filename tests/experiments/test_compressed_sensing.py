import math

import torch

from superpose.experiments import RunContext, get_experiment, run_experiment
from superpose.experiments.compressed_sensing import (
    bound_scale,
    claim_log_factor,
    reversed_within_k,
)

SIZES = [(4, 1), (16, 1), (64, 1), (256, 1), (1024, 1), (12, 3), (48, 3), (192, 3)]


def test_log_factor_claim_holds_when_m_star_grows_with_n_and_not_otherwise():
    grows = [round(2 + 1.5 * bound_scale(n, k)) for n, k in SIZES]
    assert claim_log_factor(grows, SIZES).passed
    # m* ∝ k alone (what passed the old claims): constant in n at fixed k → fails
    assert not claim_log_factor([4.0 * k for _, k in SIZES], SIZES).passed
    # its null: the same m* in reverse order of n
    assert not claim_log_factor(reversed_within_k(grows, SIZES), SIZES).passed
    # noise around a constant does not pass either
    noisy = [5, 6, 5, 6, 5, 15, 16, 15]
    assert not claim_log_factor(noisy, SIZES).passed
    # one n per k: no degrees of freedom → fails, never divides by zero
    assert not claim_log_factor([3, 6, 9], [(8, 1), (8, 2), (12, 3)]).passed
    assert not claim_log_factor([3, math.inf, 9, 12], [(4, 1), (16, 1), (64, 1), (256, 1)]).passed


def test_reversed_within_k_keeps_each_k_apart():
    assert reversed_within_k([1, 2, 3, 10, 20], [(4, 1), (8, 1), (16, 1), (6, 2), (12, 2)]) == [
        3,
        2,
        1,
        20,
        10,
    ]


def test_compressed_sensing_runs_small(tmp_path):
    exp = get_experiment("compressed-sensing")
    cfg = exp.quick.replace(
        sizes=[(8, 1), (8, 2), (12, 3)], hidden=[2, 4, 6], **{"model.train.steps": 30}
    )
    rec = run_experiment(exp, RunContext(tmp_path, device=torch.device("cpu"), progress=False), cfg)
    assert rec["status"] == "ok", rec.get("error")
    assert rec["claims"] and rec["claims"][0]["null"]
    assert (tmp_path / "compressed_sensing.png").is_file()
