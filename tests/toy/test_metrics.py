import math

import torch

from superpose.toy import metrics


def polygon(k: int) -> torch.Tensor:
    """k unit vectors evenly spaced on a circle: [1, 2, k]."""
    a = torch.arange(k) * 2 * math.pi / k
    return torch.stack([a.cos(), a.sin()])[None]


def test_orthogonal_features_have_dimensionality_one_and_no_interference():
    W = torch.eye(3)[None]
    assert torch.allclose(metrics.feature_dimensionality(W), torch.ones(1, 3))
    assert torch.allclose(metrics.interference(W), torch.zeros(1, 3))
    assert torch.allclose(metrics.dimensions_per_feature(W), torch.tensor([1.0]))


def test_antipodal_pair_is_one_half():
    W = torch.tensor([[[1.0, -1.0]]])  # m=1, n=2
    assert torch.allclose(metrics.feature_dimensionality(W), torch.full((1, 2), 0.5))
    assert torch.allclose(metrics.interference(W), torch.ones(1, 2))
    assert torch.allclose(metrics.dimensions_per_feature(W), torch.tensor([0.5]))


def test_triangle_is_two_thirds_and_pentagon_two_fifths():
    assert torch.allclose(metrics.feature_dimensionality(polygon(3)), torch.full((1, 3), 2 / 3))
    assert torch.allclose(metrics.feature_dimensionality(polygon(5)), torch.full((1, 5), 2 / 5))


def test_unrepresented_feature_has_dimensionality_zero():
    W = torch.tensor([[[1.0, 0.0], [0.0, 0.0]]])
    d = metrics.feature_dimensionality(W)
    assert d[0, 0] == 1 and d[0, 1] == 0
    assert metrics.represented(W).tolist() == [[True, False]]


def test_dimensionalities_sum_to_m_for_tight_frames():
    for k in (3, 4, 5, 7):
        assert torch.allclose(metrics.feature_dimensionality(polygon(k)).sum(), torch.tensor(2.0))


def test_polysemanticity_counts_features_per_neuron():
    W = torch.tensor([[[1.0, 0.0, 0.0], [0.7, 0.7, 0.0], [0.0, 0.0, 0.0]]])
    assert metrics.polysemanticity(W).tolist() == [[1, 2, 0]]


def test_summarize_is_per_instance():
    W = torch.randn(4, 3, 6)
    out = metrics.summarize(W, torch.zeros(4, 6))
    assert out["feature_dimensionality"].shape == (4, 6)
    assert out["dimensions_per_feature"].shape == (4,)


def test_nan_weights_give_nan_dimensionality_not_zero():
    """NaN failed the `denom > EPS` test and read as an unrepresented feature (0)."""
    W = torch.zeros(2, 2, 3)
    W[1] = float("nan")
    D = metrics.feature_dimensionality(W)
    assert torch.equal(D[0], torch.zeros(3)) and D[1].isnan().all()


def test_the_public_measures_take_numpy_and_refuse_other_shapes_in_one_line():
    """A NumPy W raised AttributeError ('norm'), an int or 1-D tensor a torch/IndexError."""
    import pytest

    from superpose.base.errors import SuperposeError

    W = torch.randn(2, 3, 5)
    assert torch.allclose(metrics.interference(W.numpy()), metrics.interference(W))
    for bad in (torch.zeros(5), torch.zeros(1, 3, 5, dtype=torch.int64), [[1.0]], None):
        with pytest.raises(SuperposeError, match=r"W must be a float tensor \[instances, hidden"):
            metrics.feature_dimensionality(bad)
