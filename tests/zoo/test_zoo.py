"""The zoo: every fast entry loads, its plain module and plain sampler agree with superpose, its
ground truth scores ~1 as a dictionary (and a random dictionary does not), exports and errors."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest
import torch

import superpose as sp
import superpose.zoo as zoo
from superpose.base.errors import SuperposeError
from superpose.scoring import random_dictionary, truth_dictionary

FAST = ("cis2", "compiled-mix", "cis1", "uand", "deep-boolean", "tms-5-2", "resid-mlp-naive")
PLAIN = Path(zoo.__file__).parent / "plain"


def _plain(name: str):
    spec = importlib.util.spec_from_file_location(f"plain_{name}", PLAIN / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def entries():
    return {name: zoo.load(name) for name in FAST}


@pytest.mark.parametrize("name", FAST)
def test_plain_module_and_sampler_agree_with_superpose(entries, name):
    entry = entries[name]
    s = entry.sample(48, seed=7)
    # the plain sampler (no superpose) draws the same inputs and the same exact values
    plain = _plain("sampler").sample_from(
        entry.sampler, {**entry.sampler_tensors}, 48, seed=7, active=None
    )
    assert torch.equal(plain["x"].float(), s["x"].float())
    for a, b in zip(plain["exact"], s["exact"], strict=True):
        assert (a is None) == (b is None)
        if a is not None:
            torch.testing.assert_close(a.float(), b.float())
    ours = entry.forward(s["x"])
    theirs = entry.module()(s["x"])
    assert [a.shape[1] for a in ours] == [l.width for l in entry.layers]
    for a, b in zip(ours, theirs, strict=True):
        assert (a - b).abs().max() <= 1e-4 * (1 + a.abs().max())
    # a different seed draws different inputs (the comparison above could fail)
    assert not torch.equal(entry.sample(48, seed=8)["x"], s["x"])


@pytest.mark.parametrize("name", FAST)
def test_truth_scores_one_and_random_scores_low(entries, name):
    entry = entries[name]
    layer = next(i + 1 for i, l in enumerate(entry.layers) if l.truth)
    truth = entry.truth(layer, samples=256)
    true = sp.score(truth_dictionary(truth), truth, null_draws=0)
    assert true.mmcs > 0.999 and true.mcc > 0.999
    if truth.dim > 2 * truth.n_groups or truth.dim >= 50:  # a random dictionary has room to miss
        rand = sp.score(random_dictionary(truth.n_groups, truth.dim), truth, null_draws=0)
        assert rand.mmcs < 0.9


def test_exact_values_are_what_the_network_reads_out(entries):
    """The sampler's exact values are the circuits the network computes: CiS2's readout of every
    layer, U-AND's and the deep circuit's output layer (where the ground truth is the identity)."""
    cis2 = entries["cis2"]
    s = cis2.sample(64, seed=1)
    reads = cis2.source.readout(cis2.source.forward(s["x"]))
    on = s["active"][0]
    for l, r in enumerate(reads):
        exact = s["exact"][l].view(64, -1, 4)
        err = (r - exact)[on].square().mean() / exact[on].square().mean()
        assert err < 0.1, (l, float(err))
    for name in ("uand", "deep-boolean"):
        entry = entries[name]
        s = entry.sample(64, seed=1)
        out = entry.forward(s["x"])[-1]
        assert ((out > 0.5) == s["active"][-1]).float().mean() > 0.99, name


def test_names_versions_hashes(entries):
    assert set(FAST) <= set(zoo.names())
    again = zoo.load("tms-5-2")  # cached: the same bytes, the same hash
    assert again.content_hash == entries["tms-5-2"].content_hash
    hashes = {e.content_hash for e in entries.values()}
    assert len(hashes) == len(entries)
    truth = entries["cis1"].ground_truth()
    assert truth["version"] == 1 and len(truth["content_sha256"]) == 64
    json.dumps(truth)


def test_cache_is_written_whole_and_read_back(tmp_path, monkeypatch):
    monkeypatch.setenv("SUPERPOSE_ZOO_CACHE", str(tmp_path))
    spec = zoo.SPECS["tms-5-2"]
    calls = []

    def fit():
        calls.append(1)
        return {"W": torch.ones(1, 2, 5), "b": torch.zeros(1, 5)}, {"loss": 0.5}

    from superpose.zoo.registry import _cached

    cfg = spec.config()
    first = _cached(spec, cfg, fit)
    second = _cached(spec, cfg, fit)
    assert calls == [1]
    assert torch.equal(first[0]["W"], second[0]["W"]) and second[1] == {"loss": 0.5}
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    (next(tmp_path.iterdir())).write_bytes(b"garbage")  # damaged: retrained, never trusted
    _cached(spec, cfg, fit)
    assert calls == [1, 1]


def test_resid_mlp_naive_is_the_baseline(entries):
    """The half-identity network's loss on clean labels is the formula (F − N)/F · p/6."""
    m = entries["resid-mlp-naive"].metrics
    assert abs(m["loss_clean_labels"] / m["naive_loss"] - 1) < 0.05
    assert not m["beats_naive"]


def test_export_files_and_refusals(entries, tmp_path):
    paths = zoo.export(entries["tms-5-2"], tmp_path / "tms")
    assert sorted(p.name for p in (tmp_path / "tms").iterdir()) == sorted(paths)
    readme = (tmp_path / "tms" / "README.md").read_text()
    assert entries["tms-5-2"].content_hash in readme and "load_file" in readme
    zoo.export(entries["tms-5-2"], tmp_path / "tms")  # a previous export is replaced
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "mine.txt").write_text("keep")
    with pytest.raises(SuperposeError, match="not a previous save"):
        zoo.export(entries["tms-5-2"], tmp_path / "other")
    assert (tmp_path / "other" / "mine.txt").read_text() == "keep"


def test_an_export_is_the_same_bytes_every_time(entries, tmp_path):
    """Every file of two exports of an entry is byte-identical, and its tensors and metadata load
    as saved; the plain save_file orders the metadata differently between saves (the null)."""
    from safetensors import safe_open
    from safetensors.torch import save

    for name in ("tms-5-2", "cis2"):
        first, again = tmp_path / f"{name}1", tmp_path / f"{name}2"
        zoo.export(entries[name], first)
        zoo.export(entries[name], again)
        for path in first.iterdir():
            assert path.read_bytes() == (again / path.name).read_bytes(), path.name
        with safe_open(str(first / "weights.safetensors"), "pt") as fh:
            assert fh.metadata()["sha256"] == entries[name].content_hash
            assert all(torch.equal(fh.get_tensor(k), v) for k, v in entries[name].weights.items())
    meta = {"name": "x", "version": "1", "sha256": "0"}
    assert len({save({"w": torch.zeros(2)}, metadata=meta) for _ in range(20)}) > 1


def test_bad_input_is_one_line(entries):
    with pytest.raises(SuperposeError, match="unknown entry 'nope'; known: cis2"):
        zoo.load("nope")
    entry = entries["resid-mlp-naive"]
    with pytest.raises(SuperposeError, match=r"layer 3 \(resid_post\) has no ground truth"):
        entry.truth(3)
    with pytest.raises(SuperposeError, match="pass layer="):
        entry.truth()
    with pytest.raises(SuperposeError, match="layer 9 does not exist"):
        entries["cis2"].truth(9)
    with pytest.raises(
        SuperposeError, match=r"\[10, 999\] but cis2 layer 1 \(layer1\) has width D = 1000"
    ):
        sp.score(torch.randn(10, 999), entries["cis2"], layer=1)
    with pytest.raises(SuperposeError, match="dictionary: the tensor holds NaN"):  # was scipy's
        sp.score(torch.full((10, 1000), float("nan")), entries["cis2"], layer=1, samples=16)
    with pytest.raises(SuperposeError, match="leave active unset"):
        entries["tms-5-2"].sample(4, active=2)
    truth = entries["cis2"].truth(1, samples=16)  # already sampled: these were ignored silently
    for given in ({"samples": 64}, {"active": 1}, {"layer": 2}):
        with pytest.raises(SuperposeError, match="a Truth already holds its own"):
            sp.score(torch.randn(10, 1000), truth, **given)


def test_active_above_max_active_is_refused():
    """z above what the network is verified for is one line (was sampled and scored)."""
    small = zoo.load("cis2", width=400, circuits=60, layers=2)
    assert small.max_active == 1 and small.truth(2, samples=16, active=1).active.sum() == 16
    words = "verified for at most 1 active circuits"
    with pytest.raises(SuperposeError, match=words):
        small.truth(layer=2, samples=16, active=20)
    with pytest.raises(SuperposeError, match=words):
        small.sample(16, active=2)
    with pytest.raises(SuperposeError, match=words):
        sp.score(torch.randn(8, 400), small, layer=1, samples=16, active=2)


@pytest.mark.parametrize("bad", [0, -3, 2.5, "8", True, 2**70])
def test_sample_counts_and_seeds_are_checked(bad):
    """Counts and seeds outside their range are one line naming the argument (were torch's
    reshape, negative-dimension, rand() and manual_seed errors)."""
    small = zoo.load("cis2", width=400, circuits=60, layers=2)
    rng = r"must be an integer in \[1, 10000000\]"
    with pytest.raises(SuperposeError, match=f"batch = .*{rng}"):
        small.sample(bad)
    with pytest.raises(SuperposeError, match=f"samples = .*{rng}"):
        small.truth(2, samples=bad)
    with pytest.raises(SuperposeError, match=f"score: samples = .*{rng}"):
        sp.score(torch.randn(8, 400), small, layer=1, samples=bad)
    if bad != 0:  # seed 0 is a seed
        seeds = r"seed = .*must be an integer in \[0, 18446744073709551615\]"
        with pytest.raises(SuperposeError, match=seeds):
            small.sample(8, seed=bad)
        with pytest.raises(SuperposeError, match=seeds):
            small.truth(2, samples=8, seed=bad)
        with pytest.raises(SuperposeError, match=seeds):
            sp.score(torch.randn(8, 400), small, layer=1, samples=8, seed=bad)


def test_score_accepts_an_entry_and_its_name(entries):
    truth = entries["tms-5-2"].truth(1, samples=128)
    dic = truth.directions.clone()
    a = sp.score(dic, entries["tms-5-2"], layer=1, samples=128, null_draws=0)
    b = sp.score(dic, "tms-5-2", layer="hidden", samples=128, null_draws=0)
    assert a.mmcs == b.mmcs > 0.999


def test_root_exports_zoo_lazily():
    assert sp.zoo.load is zoo.load
    assert "superpose.zoo" in sys.modules


def test_a_variant_is_a_smaller_network_of_the_same_family():
    small = zoo.load("cis2", width=400, circuits=60, layers=2)
    assert small.name == "cis2[circuits=60,layers=2,width=400]" and small.family == "cis2"
    assert [l.width for l in small.layers] == [400, 400]
    assert small.directions(1)[0].shape == (60 * 4, 400)
    # its description (README.md, ground_truth.json) states its own numbers, not the default's
    # "150 rotation circuits … width 1000"
    text = small.description
    assert "60 rotation circuits" in text and "2-layer MLP of width 400" in text, text
    assert small.ground_truth()["description"] == text
    assert "150 rotation circuits" in zoo.SPECS["cis2"].description
    tms = zoo.SPECS["tms-5-2"]
    text = tms.describe(tms.config().replace(n_features=6, **{"train.steps": 2000}))
    assert "6 features in 2 dimensions" in text and "2000 steps" in text and "pentagon" not in text
    with pytest.raises(SuperposeError, match="zoo cis2: unknown config field 'wdth'"):
        zoo.load("cis2", wdth=400)
