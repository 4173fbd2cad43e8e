"""The toy-train benchmark's other feature kinds: the reference loop draws the same law as our
trainer, and whole runs time both loops on it."""

import pytest
import torch

from superpose.bench.reference import ReferenceLoop
from superpose.bench.toy import FEATURE_KINDS, whole_run
from superpose.features import FeatureConfig, FeatureDistribution


@pytest.mark.parametrize(("label", "features"), FEATURE_KINDS)
def test_reference_batches_have_the_trainers_feature_law(label, features):
    sparsity = torch.tensor([0.0, 0.5, 0.9])
    n, batch = 12, 20_000
    loop = ReferenceLoop(n, 3, 3, sparsity, torch.ones(n), features=features)
    x = loop.batch(batch).transpose(0, 1)  # [instances, batch, features]
    ours = FeatureDistribution(FeatureConfig(sparsity=sparsity.tolist(), **features), 3, n)
    expected = ours.marginal_density()
    z = ((x != 0).float().mean(1) - expected) / (expected * (1 - expected) / batch).sqrt()
    assert float(z.nan_to_num(0.0).abs().max()) < 5.5, label
    # the same statistic tells a sparser law apart
    sparser = expected * 0.8
    z = ((x != 0).float().mean(1) - sparser) / (sparser * (1 - sparser) / batch).sqrt()
    assert float(z.abs().max()) > 5.5, label
    y = ours.sample_dense(batch)
    pair = (x[..., 0] != 0).float() * (x[..., 1] != 0).float()  # features of one set
    same = (y[..., 0] != 0).float() * (y[..., 1] != 0).float()
    assert torch.allclose(pair.mean(1), same.mean(1), atol=0.02), label


def test_whole_run_times_a_feature_kind():
    r = whole_run(8, 3, 3, steps=4, chunks=2, ref_block=1, batch=16, features=FEATURE_KINDS[0][1])
    assert r["ours_steps_per_s"] > 0 and r["reference_steps_per_s"] > 0
