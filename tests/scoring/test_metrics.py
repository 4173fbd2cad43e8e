"""The scorer: the true dictionary scores ~1, random ones land at their computed chance level."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import save_file

from superpose.base.errors import SuperposeError
from superpose.circuits.cis2 import CiS2Config, build_cis2
from superpose.circuits.small import sample_inputs
from superpose.scoring import (
    Dictionary,
    Truth,
    chance,
    cis2_truth,
    random_dictionary,
    score,
    truth_dictionary,
)
from superpose.scoring.metrics import unit_rows


@pytest.fixture(scope="module")
def net():
    return build_cis2(CiS2Config(width=1000, circuits=150, layers=2, max_active=1, seed=0))


@pytest.fixture(scope="module")
def truth0(net):
    x, mask = sample_inputs(net.circuits, 1500, 1, torch.Generator().manual_seed(0))
    return cis2_truth(net, 0, x, mask)


def test_true_dictionary_scores_one(truth0):
    s = score(truth_dictionary(truth0), truth0)
    assert s.mmcs == pytest.approx(1, abs=1e-5) and s.mcc == pytest.approx(1, abs=1e-5)
    assert s.recovered == truth0.n_groups
    assert s.uniqueness == 1.0
    assert s.precision == 1.0 and s.recall > 0.99 and s.f1 > 0.99
    assert s.f1_chance is not None and s.f1_chance < 0.05  # a detector blind to activity
    assert s.ml2r == pytest.approx(1, abs=1e-3)  # layer 1, one circuit on: exact
    assert s.explained_variance == pytest.approx(1, abs=1e-3)
    assert s.dead_fraction == 0.0


def test_random_dictionaries_land_at_chance(truth0):
    true = score(truth_dictionary(truth0), truth0, null_draws=0)
    for seed in range(4):
        for k in (150, 600):
            s = score(random_dictionary(k, truth0.dim, seed), truth0, null_draws=0)
            lo, hi = s.chance.band()
            assert lo <= s.mmcs <= hi, (seed, k, s.mmcs, lo, hi)
            assert abs(s.mmcs_latents - s.chance.mmcs_latents) < 0.01
            assert s.recovered == 0 and s.chance.recovered < 1e-6
            assert true.mmcs - hi > 0.5


def test_chance_matches_monte_carlo():
    """E[max projection norm] of k random unit vectors on random r-dim subspaces, by simulation."""
    gen = torch.Generator().manual_seed(0)
    for k, D, r in ((40, 20, 1), (25, 30, 3)):
        n = 4000
        lat = unit_rows(torch.randn(n, k, D, generator=gen).reshape(-1, D)).view(n, k, D)
        Q = torch.linalg.qr(torch.randn(n, D, r, generator=gen)).Q
        best = torch.einsum("nkd,ndr->nkr", lat, Q).norm(dim=-1).max(1).values
        c = chance(k, D, [r] * n)
        assert float(best.mean()) == pytest.approx(c.mmcs, abs=4 * c.mmcs_sd)
        assert c.mmcs_sd * n**0.5 == pytest.approx(float(best.std()), rel=0.1)


def test_shared_latent_lowers_uniqueness_and_mcc():
    """Two latents on one feature: MMCS stays 1, uniqueness and the one-to-one MCC drop."""
    dirs = torch.eye(6)[:4] * 2.0
    truth = Truth(dirs)
    dup = torch.stack([dirs[0], dirs[0], dirs[1], dirs[2]])
    s = score(dup, truth, null_draws=0)
    assert s.mmcs == pytest.approx(0.75) and s.mmcs_latents == pytest.approx(1.0)
    assert s.uniqueness == pytest.approx(3 / 4)
    assert s.mcc < 1


def test_subspace_similarity_counts_a_rotated_latent(net):
    """A latent mixing two neurons of one circuit lies in its subspace: similarity 1."""
    truth = cis2_truth(net, 1)
    d = net.d
    mixed = truth.directions[0] + truth.directions[1]  # circuit 0, neurons 0 and 1
    other = truth.directions[0] + truth.directions[d]  # circuits 0 and 1
    s = score(torch.stack([mixed, other]), truth, null_draws=0)
    assert float(s.similarity[0, 0]) == pytest.approx(1, abs=1e-5)
    # half in circuit 0, half in circuit 1 (plus at most one shared host neuron of overlap)
    assert 2**-0.5 - 1e-5 <= float(s.similarity[1, 0]) < 0.9


def test_parameter_components_and_safetensors(tmp_path, truth0):
    k = truth0.directions.shape[0]
    rank_one = torch.einsum("kd,ke->kde", truth0.directions, torch.randn(k, 5))
    assert score(rank_one, truth0, null_draws=0).mcc == pytest.approx(1, abs=1e-4)
    W = random_dictionary(300, truth0.dim, 3)
    tensors = {"W_dec": W, "W_enc": W.T.contiguous(), "b_enc": torch.zeros(300)}
    save_file(tensors, str(tmp_path / "sae.safetensors"))
    a = score(tmp_path, truth0, null_draws=0)
    b = score(tensors, truth0, null_draws=0)
    assert a.mcc == b.mcc and a.f1 == b.f1 and a.ml2r == b.ml2r


def test_bad_dictionaries_are_one_line_errors(tmp_path, truth0):
    with pytest.raises(SuperposeError, match=r"D = 1000"):
        score(torch.randn(10, 999), truth0)
    with pytest.raises(SuperposeError, match="W_enc must be"):
        score({"W_dec": torch.randn(10, 1000), "W_enc": torch.randn(10, 1000)}, truth0)
    W = torch.randn(10, 1000)
    for bad, words in (  # each was a traceback from deep in the scorer, or scored silently
        ({"W_dec": torch.full((10, 1000), float("nan"))}, "W_dec holds NaN"),
        ({"W_dec": torch.randn(0, 1000)}, "k, D ≥ 1"),
        ({"W_dec": W, "W_enc": W.T, "b_enc": torch.zeros(3)}, "b_enc must be"),
        ({"W_dec": W, "b_dec": torch.zeros(3)}, "b_dec must be"),
        ({"W_dec": W, "W_enc": torch.full((1000, 10), float("nan"))}, "W_enc holds NaN"),
        ({"W_dec": W, "W_enc": W.T, "k": torch.tensor(-3)}, "k must be"),
        ({"W_dec": W, "W_enc": W.T, "k": torch.tensor([1, 2])}, "k must be"),
        ({"W_dec": W, "W_enc": W.T, "k": torch.tensor(float("nan"))}, "k must be"),
    ):
        with pytest.raises(SuperposeError, match=words):
            score(bad, truth0)
    with pytest.raises(SuperposeError, match="no such dictionary"):
        score(tmp_path / "nope.safetensors", truth0)
    (tmp_path / "bad.safetensors").write_text("not a tensor file")
    with pytest.raises(SuperposeError, match="not a readable safetensors"):
        score(tmp_path / "bad.safetensors", truth0)
    with pytest.raises(SuperposeError, match="cannot score"):
        score(42, truth0)
    nan = W.clone()
    nan[3, 7] = float("nan")
    comp = torch.randn(4, 1000, 3)
    comp[0, 0, 0] = float("inf")

    class NanEncoder:  # an SAE whose encoder gives NaN
        W_dec = W

        def encode(self, x):
            return torch.full((x.shape[0], 10), float("nan"))

        def decode(self, z):
            return z @ W

    # were scipy's "matrix contains invalid numeric entries", SVD's error, a NaN explained variance
    for bad in (nan, comp):
        with pytest.raises(SuperposeError, match="dictionary: the tensor holds NaN or infinite"):
            score(bad, truth0)
    with pytest.raises(SuperposeError, match="dictionary: decoder holds NaN"):
        score(Dictionary(nan), truth0)
    with pytest.raises(SuperposeError, match="NanEncoder: latent activations hold NaN"):
        score(NanEncoder(), truth0)
    for kwargs, words in (  # were manual_seed's RuntimeError/overflow and range()'s TypeError
        ({"seed": 1.5}, r"score: seed = 1.5 \(float\): must be an integer in \[0, "),
        ({"seed": 2**70}, r"seed = 1180591620717411303424"),
        ({"null_draws": "2"}, r"null_draws = '2' \(str\): must be an integer in \[0, 1000\]"),
    ):
        with pytest.raises(SuperposeError, match=words):
            score(W, truth0, **kwargs)


def test_figures(tmp_path, truth0):
    from superpose.plots.scoring import recovery_vs_layer, similarity_matrix

    true = score(truth_dictionary(truth0), truth0, null_draws=0)
    rand = score(random_dictionary(300, truth0.dim), truth0, null_draws=0)
    assert similarity_matrix(true, tmp_path / "sim.png").stat().st_size > 1000
    p = recovery_vs_layer({"true": [true, true], "random": [rand, rand]}, tmp_path / "r.png", "t")
    assert p.stat().st_size > 1000


def test_network_truth(net):
    from superpose.scoring import network_truth

    truth = network_truth(net, 1, samples=64, active=2, seed=0)
    assert truth.acts.shape == (64, 1000) and int(truth.active.sum()) == 128
    with pytest.raises(SuperposeError, match="expected a built network"):
        network_truth(object(), 0, 8, 1)
    with pytest.raises(SuperposeError, match="active = 0"):
        network_truth(net, 0, 8, 0)


def test_bench_reference_computes_every_number_score_reports(truth0):
    """The `score` benchmark's plain reference (one circuit, one matched pair at a time) gives the
    same 11 numbers as `score`, so the benchmark times the same work; a dictionary with one latent
    changed moves the numbers, and the comparison sees it."""
    from superpose.bench.scoring import _naive
    from superpose.scoring.dictionary import sae_from_tensors

    W = random_dictionary(4 * truth0.n_groups, truth0.dim, seed=1)
    W[0] = unit_rows(truth0.directions[:1])[0]  # one latent on a true direction
    sae = sae_from_tensors(
        {"W_dec": W, "W_enc": W.T.contiguous(), "b_enc": torch.full((len(W),), -0.1)}
    )
    plain, s = _naive(sae, truth0), score(sae, truth0)
    assert len(plain) == 11 and all(abs(v - getattr(s, k)) < 1e-4 for k, v in plain.items())
    W2 = W.clone()
    W2[0] = W[1]
    other = _naive(
        sae_from_tensors(
            {"W_dec": W2, "W_enc": W2.T.contiguous(), "b_enc": torch.full((len(W),), -0.1)}
        ),
        truth0,
    )
    assert any(abs(v - getattr(s, k)) >= 1e-4 for k, v in other.items())


def test_score_encodes_the_activations_once(truth0):
    """The reconstruction reuses the latent activations: one encoding per score (two before), the
    same numbers as encoding again."""
    from dataclasses import replace

    from superpose.scoring.dictionary import sae_from_tensors

    W = random_dictionary(4 * truth0.n_groups, truth0.dim, seed=1)
    sae = sae_from_tensors(
        {"W_dec": W, "W_enc": W.T.contiguous(), "b_enc": torch.full((len(W),), -0.1)}
    )
    calls = []
    counted = replace(sae, encode=lambda x: calls.append(1) or sae.encode(x))
    s = score(counted, truth0)
    assert len(calls) == 1
    z = sae.latent_acts(truth0.acts)
    assert torch.equal(sae.reconstruct(truth0.acts, z), sae.reconstruct(truth0.acts))
    assert s.ml2r == score(sae, truth0).ml2r


def test_score_runs_on_threads_chosen_for_the_work(truth0, monkeypatch):
    """Small scoring work runs on one thread, not the process's two (on a busy machine a second
    thread only waits: 600 against 82 ms here), and the setting is restored."""
    import superpose.scoring.metrics as metrics

    seen, inner = [], metrics._score
    monkeypatch.setattr(
        metrics, "_score", lambda *a: seen.append(torch.get_num_threads()) or inner(*a)
    )
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        s = score(random_dictionary(4 * truth0.n_groups, truth0.dim, seed=1), truth0)
        assert seen == [1] and s.mcc > 0
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
