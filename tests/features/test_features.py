import pytest
import torch

from superpose.base.errors import SuperposeError
from superpose.features import FeatureConfig, FeatureDistribution


def sample(batch=20000, n_instances=3, n_features=6, seed=0, **kw):
    dist = FeatureDistribution(FeatureConfig(**kw), n_instances, n_features)
    return dist, dist.sample(batch, torch.Generator().manual_seed(seed))


def test_independent_density_and_values():
    dist, x = sample(sparsity=[0.0, 0.5, 0.9])
    assert x.shape == (3, 20000, 6)
    density = (x != 0).float().mean(1)
    assert torch.allclose(density, dist.marginal_density(), atol=0.015)
    active = x[x != 0]
    assert active.min() >= 0 and active.max() <= 1
    # active values are uniform on [0, 1]: mean 1/2, variance 1/12
    assert abs(active.mean() - 0.5) < 0.01 and abs(active.var() - 1 / 12) < 0.005


def test_per_feature_sparsity_and_signed_values():
    sp = [[0.0, 0.9, 0.5, 0.5, 0.5, 0.5]] * 2
    dist, x = sample(n_instances=2, sparsity=sp, values="signed")
    assert torch.allclose((x != 0).float().mean(1), dist.marginal_density(), atol=0.015)
    active = x[x != 0]
    assert active.min() >= -1 and active.max() <= 1 and abs(active.mean()) < 0.02


def test_boolean_values_are_zero_or_one():
    _, x = sample(sparsity=0.7, values="boolean")
    assert set(x.unique().tolist()) == {0.0, 1.0}


def test_independent_features_are_uncorrelated():
    _, x = sample(n_instances=1, sparsity=0.5)
    on = (x[0] != 0).float()
    corr = torch.corrcoef(on.T)
    assert (corr - torch.eye(6)).abs().max() < 0.03


def test_correlated_sets_switch_together():
    dist, x = sample(structure="correlated", set_size=3, sparsity=0.8)
    on = (x != 0).view(3, 20000, 2, 3)
    # values are nonzero almost surely when active, so a set is all-on or all-off
    assert ((on.all(-1)) | (~on.any(-1))).all()
    assert torch.allclose((x != 0).float().mean(1), dist.marginal_density(), atol=0.015)
    # different sets are independent
    sets = on.any(-1).float()[0]
    assert abs(torch.corrcoef(sets.T)[0, 1]) < 0.03


def test_anticorrelated_sets_have_at_most_one_member():
    dist, x = sample(structure="anticorrelated", set_size=3, sparsity=0.4)
    on = (x != 0).view(3, 20000, 2, 3)
    assert on.sum(-1).max() == 1
    assert abs(on.any(-1).float().mean() - 0.6) < 0.015  # set active w.p. 1 - S
    # members equally likely
    assert torch.allclose((x != 0).float().mean(1), dist.marginal_density(), atol=0.015)


def test_exactly_k_active():
    dist, x = sample(structure="exactly_k", k=2)
    assert ((x != 0).sum(-1) == 2).all()
    assert torch.allclose((x != 0).float().mean(1), dist.marginal_density(), atol=0.015)


def test_same_seed_same_draws():
    _, a = sample(seed=5, sparsity=0.9)
    _, b = sample(seed=5, sparsity=0.9)
    _, c = sample(seed=6, sparsity=0.9)
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_repeat_keeps_per_instance_density():
    dist = FeatureDistribution(FeatureConfig(sparsity=[0.0, 0.9]), 2, 4).repeat(3)
    assert dist.n_instances == 6
    assert torch.allclose(dist.density[:, 0], torch.tensor([1, 1, 1, 0.1, 0.1, 0.1]))


@pytest.mark.parametrize(
    "kw, n_instances, n_features, msg",
    [
        ({"sparsity": [0.1, 0.2]}, 3, 4, "expected 3"),
        ({"sparsity": [[0.1] * 3] * 2}, 2, 4, "does not match"),
        ({"structure": "correlated", "set_size": 3}, 1, 4, "multiple"),
        ({"structure": "exactly_k", "k": 5}, 1, 4, "at most"),
    ],
)
def test_bad_shapes_are_clear_errors(kw, n_instances, n_features, msg):
    with pytest.raises(SuperposeError, match=msg):
        FeatureDistribution(FeatureConfig(**kw), n_instances, n_features)
