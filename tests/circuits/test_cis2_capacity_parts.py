"""cis2-capacity's parts: the laws-based frontier and the fixed-load claims (each can fail)."""

import torch

from superpose.circuits.cis2 import CiS2Config
from superpose.circuits.cis2_regime import frontier, predicted_frontier
from superpose.experiments.cis2_capacity import fixed_load_claims

SMALL = CiS2Config(
    width=400,
    circuit_width=4,
    redundancy=4,
    circuits=60,
    layers=3,
    max_active=1,
    embedding="linked",
    value_margin=1 / 3,
)


def test_laws_frontier_brackets_a_pass_and_a_fail():
    out = frontier(SMALL, rel=0.1, test="laws", batch=32)
    assert out["predicted_T"] == predicted_frontier(SMALL) > 0
    assert out["T"] > 0 and out["tested"][str(out["T"])] is None
    if out["first_fail_T"] is not None:
        assert out["first_fail_T"] > out["T"] and out["tested"][str(out["first_fail_T"])]


def _row(width, first, growth, pred):
    return {
        "width": width,
        "T": width,
        "hosted c": width / 100,
        "measured_switch_on": [0.0, first],
        "predicted_switch_on": [0.0, first],
        "predicted_noise_growth": pred,
        "inactive_last_over_first": growth,
    }


def test_fixed_load_claims_flip():
    good = [_row(1000, 0.05, 1.3, 1.2), _row(2000, 0.06, 5.0, 3.0)]
    assert all(c.passed for c in fixed_load_claims(good, 1.5))
    spread, flat = fixed_load_claims([_row(1000, 0.02, 1.3, 1.2), _row(2000, 0.06, 5.0, 3.0)], 1.5)
    assert not spread.passed and flat.passed
    _, flat = fixed_load_claims([_row(1000, 0.05, 1.3, 1.2), _row(2000, 0.06, 1.3, 3.0)], 1.5)
    assert not flat.passed  # the null: no compounding, growth flat


def test_z_claim_flips():
    from superpose.experiments.cis2_capacity import z_claim

    law = [{"width": 1000, "active": z, "T": 600 // z} for z in (1, 2, 3)]
    assert z_claim(law, "linked", 0.2).passed
    steep = [{"width": 1000, "active": z, "T": 600 // z**3} for z in (1, 2, 3)]
    assert not z_claim(steep, "linked", 0.2).passed


def test_exchange_bar_is_sampling_noise():
    from superpose.experiments.cis2_capacity import exchange_bar

    same = [[0.0, 0.1] * 50, [0.05] * 100, [0.1, 0.0] * 50]
    assert 1.0 <= exchange_bar(same, 0.95) < 1.5
    noisy = [[0.0] * 9 + [1.0]] * 3  # ten inputs each: means swing widely under exchange
    assert exchange_bar(noisy, 0.95) > 2


def test_full_form_code_path_on_tiny_sizes(tmp_path):
    """The full form's branches (several z, both embeddings, noise-sized threshold at every z):
    pooled and 1/z claims get the rows first from with_null, so the run writes its claims."""
    from superpose.experiments.base import RunContext
    from superpose.experiments.cis2_capacity import FULL, run_capacity

    net = FULL.net.replace(layers=2, redundancy=4, verify_batch=16)
    cfg = FULL.replace(
        net=net,
        widths=[240, 480],
        active=[1, 2],
        batch=16,
        redundancies=[3, 4, 8],
        variants={},
        allocation={"named": [(100, 5)], "widths": [100], "sizes": [3], "balanced_widths": []},
    )
    res = run_capacity(cfg, RunContext(tmp_path, progress=False))
    ids = {c.id for c in res.claims}
    assert "frontier-slope-linked-z1-S-chosen-per-D" in ids  # S = 8 skipped at D = 240
    z_law = next(c for c in res.claims if c.id == "frontier-vs-z-linked").measured
    split = z_law["at T*(z): layer-L decoded MSE / payload variance, split by active overlap"]
    assert all(0 <= v["inputs sharing"] <= 1 for v in split.values())
    for e in ("linear", "linked"):
        assert {f"frontier-vs-capacity-law-{e}", f"frontier-vs-z-{e}"} <= ids
        assert {f"frontier-slope-{e}-z{z}" for z in (1, 2)} <= ids
    assert "linked-beats-linear-z1" in ids
    assert all(c.null is not None for c in res.claims)


def test_variant_slope_claim_is_its_own_and_flips():
    from superpose.experiments.cis2_capacity import VARIANTS, slope_claim

    x = [1000, 2000, 4000]
    law = slope_claim("linked", 1, x, [500, 2000, 8000], 0.2, variant="beta0.9-delta0.7")
    assert law.id == "frontier-slope-linked-z1-beta0.9-delta0.7" and law.passed
    assert "beta0.9-delta0.7" in law.statement
    assert not slope_claim("linked", 1, x, [500, 1000, 2000], 0.2, variant="snap4").passed
    ids = {slope_claim("linked", 1, x, [1, 2, 4], 0.2, variant=v).id for v in VARIANTS}
    assert len(ids) == len(VARIANTS)


def test_best_redundancy_takes_the_largest_T_and_reports_the_criterion():
    from superpose.experiments.cis2_capacity import best_redundancy

    rows = [
        {"width": 1000, "S": 4, "T": 250, "predicted_T": 360},
        {"width": 1000, "S": 6, "T": 280, "predicted_T": 300},
        {"width": 2000, "S": 4, "T": 650, "predicted_T": 930},
        {"width": 2000, "S": 6, "T": 740, "predicted_T": 820},
    ]
    best, cause = best_redundancy(rows, [1000, 2000])
    assert best == [280, 740] and cause["S with the largest T*"] == [6, 6]
    assert cause["regime criterion's S (largest predicted T*)"] == [4, 4]
    assert cause["T* at the criterion's S"] == [250, 650]


def test_overlap_split_no_shared_positions_at_T_below_N_over_S():
    from superpose.circuits.cis2 import build_cis2
    from superpose.experiments.cis2_capacity import overlap_split

    net = build_cis2(SMALL.replace(circuits=20, max_active=2), verify=False)  # N/S = 25
    out = overlap_split(net, 2, 64, 0)
    assert out["inputs sharing"] == 0 and out["overlap share"] == 0
    crowded = build_cis2(SMALL.replace(circuits=200, max_active=2, max_load=100), verify=False)
    out = overlap_split(crowded, 2, 64, 0)
    assert (
        0 < out["inputs sharing"] < 1
        and out["z=2, two active circuits sharing a position"] > out["z=2, disjoint"]
    )


def test_sharing_matches_each_inputs_positions():
    """`sharing` against a per-input check of the active circuits' positions at every layer."""
    from superpose.circuits.cis2 import build_cis2
    from superpose.circuits.small import sample_inputs
    from superpose.experiments.cis2_capacity import sharing

    net = build_cis2(SMALL.replace(circuits=120, max_active=3, max_load=100), verify=False)
    _, mask = sample_inputs(net.circuits, 64, 3, torch.Generator().manual_seed(1))
    got = sharing(net, mask)
    want = []
    for row in mask:
        a, b, c = row.nonzero()[:, 0].tolist()
        sets = [[set(net.positions[k, t].tolist()) for t in (a, b, c)] for k in range(net.L)]
        want.append(any(p & q for s in sets for p, q in ((s[0], s[1]), (s[0], s[2]), (s[1], s[2]))))
    assert got.tolist() == want and 0 < sum(want) < 64


def test_ceiling_point_splits_by_shared_positions():
    """Below N/S no position is shared (the two R² are one); crowded, the inputs sharing none hold
    a clearly higher R² than all of them (a split that ignored the positions would not)."""
    from superpose.experiments.cis2_capacity import ceiling_point

    point = {"net": SMALL.to_dict(), "width": 400, "active": 2, "embedding": "linked", "batch": 64}
    free = ceiling_point({**point, "T": 20})  # N/S = 25
    assert free["inputs sharing"] == 0
    assert (
        free["decoded R² per layer, all inputs"] == free["decoded R² per layer, no position shared"]
    )
    crowded = ceiling_point({**point, "T": 200})
    assert 0 < crowded["inputs sharing"] < 1
    gap = min(crowded["decoded R² per layer, no position shared"]) - min(
        crowded["decoded R² per layer, all inputs"]
    )
    assert gap > 0.1  # measured 0.24 (0.62 vs 0.39 at layer L); a position-blind split: about 0


def test_recentre_claim_flips_on_its_null():
    from superpose.experiments.cis2_capacity import recentre_claim

    run = {"without": [279, 741], "recentre": [412, 1090]}
    assert recentre_claim(run, [1000, 2000]).passed
    assert not recentre_claim({**run, "recentre": run["without"]}, [1000, 2000]).passed


def test_noise_sized_beta_is_the_fixed_network_below_its_threshold():
    """robustness_claim's measured β: below T = β₀²·D²/(16·S·z·d²) (81 at D = 1000, S = 6, z = 2,
    d = 4) the noise-sized threshold is β₀ and builds the same network, so T* there cannot move;
    above it β and the network differ (the null)."""
    from superpose.circuits.cis2 import Robustness, build_cis2, indicator_threshold

    base = CiS2Config(width=1000, redundancy=6, layers=2, max_active=2, embedding="linked")
    for T, same in ((53, True), (81, True), (82, False)):
        fixed = base.replace(circuits=T)
        noise = fixed.replace(robustness=Robustness(threshold="noise"))
        assert (indicator_threshold(noise) == 0.5) is same
        a, b = (build_cis2(c, verify=False).dense_module().state_dict() for c in (fixed, noise))
        assert all(torch.equal(a[k], b[k]) for k in a) is same
