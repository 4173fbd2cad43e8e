import torch

from superpose.experiments import RunContext, get_experiment, run_experiment
from superpose.experiments.compressed_sensing import bound_scale, ordering_claim, ratio_claim


def test_claims_hold_for_proportional_m_star_and_flip_otherwise():
    sizes = [(32, 1), (32, 4), (128, 2), (128, 8)]
    scales = [bound_scale(n, k) for n, k in sizes]
    prop = [2 * s for s in scales]
    assert ordering_claim(scales, prop).passed
    assert ratio_claim(scales, prop).passed
    reversed_ = list(reversed(sorted(prop)))  # m* shrinking as the bound grows
    order = sorted(range(4), key=lambda i: scales[i])
    doctored = [0.0] * 4
    for rank, i in enumerate(order):
        doctored[i] = reversed_[rank]
    assert not ordering_claim(scales, doctored).passed
    assert not ratio_claim(scales, [1.0, 1.0, 1.0, 40.0]).passed


def test_compressed_sensing_runs_small(tmp_path):
    exp = get_experiment("compressed-sensing")
    cfg = exp.quick.replace(
        sizes=[(8, 1), (8, 2), (12, 3)], hidden=[2, 4, 6], **{"train.steps": 30}
    )
    rec = run_experiment(exp, RunContext(tmp_path, device=torch.device("cpu"), progress=False), cfg)
    assert rec["status"] == "ok", rec.get("error")
    assert rec["claims"]
    assert (tmp_path / "compressed_sensing.png").is_file()
