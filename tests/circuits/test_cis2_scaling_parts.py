"""cis2-scaling's measured parts: the shared-position count Q and the cross/carried split."""

import torch

from superpose.circuits.cis2 import CiS2Config, build_cis2
from superpose.experiments.cis2_scaling import scaling_point, shared_positions

CFG = CiS2Config(
    width=240,
    circuit_width=4,
    redundancy=4,
    circuits=100,
    layers=2,
    max_active=2,
    circuit_kind="random",
    max_load=100,
    allow_unverified=True,
)


def test_shared_positions_counts_pairs_sharing_at_both_layers():
    net = build_cis2(CFG, verify=False)
    T, S = net.T, net.S
    brute = 0
    sets = [[set(net.positions[k, t].tolist()) for t in range(T)] for k in (0, 1)]
    for t in range(T):
        for u in range(T):
            if u != t:
                brute += len(sets[0][t] & sets[0][u]) * len(sets[1][t] & sets[1][u])
    assert abs(shared_positions(net) - brute / T) < 1e-6
    # the null: positions disjoint at layer 2 share nothing there
    disjoint = torch.arange(T * S).view(T, S) % net.block
    net.positions = torch.stack([net.positions[0], disjoint])
    assert shared_positions(net) < brute / T


def test_cross_propagation_is_all_of_it_at_one_active_and_splits_at_two():
    one = scaling_point({"net": CFG.replace(max_active=1).to_dict(), "batch": 32})
    assert one["carried"] < 1e-10 < one["propagation"]  # layer 1 is exact at z = 1
    two = scaling_point({"net": CFG.to_dict(), "batch": 32})
    assert two["carried"] > 1e-6 and two["propagation_total"] > two["propagation"]
