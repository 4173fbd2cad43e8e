"""Every registered construction: built from its config, verified, saved and loaded back unchanged;
the dense module computes what the structured forward does; a bad config is one line."""

import json

import pytest
import torch

from superpose.base.errors import SuperposeError
from superpose.circuits.construction import (
    build,
    construction_config,
    known_constructions,
    load_construction,
    save_construction,
)

SMALL = {
    "cis1": {"width": 200, "neurons": 200, "circuits": 10, "layers": 2},
    "cis2": {
        "width": 480,
        "redundancy": 6,
        "circuits": 60,
        "layers": 2,
        "max_active": 1,
        "embedding": "linked",
    },
    "uand": {"m": 10, "d": 200, "s": 2, "p": 0.25},
    "chosen_gates": {"m": 30, "d": 200, "k": 4, "s": 3, "n_gates": 20},
    "deep_boolean": {"m": 16, "d": 120, "s": 2, "depth": 2, "k": 4, "k_correct": 4},
    "compiled": {
        "width": 400,
        "max_active": 2,
        "circuits": [
            {"name": "x", "family": "xor", "count": 4},
            {"name": "r", "family": "rotation"},
        ],
    },
}


def test_every_construction_has_a_small_config():
    assert sorted(SMALL) == known_constructions()


@pytest.mark.parametrize("name", sorted(SMALL))
def test_build_save_load_round_trip(name, tmp_path):
    cfg = construction_config({"construction": name, **SMALL[name]}, "test")
    net = build(cfg)
    assert net.name == name and net.config is cfg
    s = net.sample(6, min(2, net.max_active), torch.Generator().manual_seed(0))
    assert s.active.shape == (6, net.n_circuits) and s.active.dtype == torch.bool
    acts = net.forward(s.x)
    reads, exact = net.readout(acts), net.exact(s.x)
    assert len(reads) == len(exact) == net.n_layers
    assert all(r.shape == e.shape for r, e in zip(reads, exact, strict=True))
    paths = save_construction(net, tmp_path, {"note": 1})
    truth = json.loads(paths["ground_truth"].read_text())
    assert truth["construction"] == name and len(truth["weights_sha256"]) == 64
    back = load_construction(tmp_path)
    assert type(back) is type(net) and back.config == cfg
    for a, b in zip(back.readout(back.forward(s.x)), reads, strict=True):
        assert torch.allclose(a, b, atol=1e-6)
    back.verify()


@pytest.mark.parametrize("name", ["cis1", "cis2", "deep_boolean"])
def test_dense_module_matches_structured_forward(name):
    net = build(construction_config({"construction": name, **SMALL[name]}, "test"))
    x = net.sample(5, 1, torch.Generator().manual_seed(1)).x
    dense = net.dense_module()
    with torch.no_grad():
        out = dense(x.reshape(len(x), -1) if name == "cis2" else x)
    want = net.forward(x)[-1] if name != "deep_boolean" else net.readout(net.forward(x))[-1]
    got = out[-1] if isinstance(out, list) else out
    assert torch.allclose(got, want, atol=1e-4)


def test_unknown_or_missing_construction_is_one_line():
    with pytest.raises(SuperposeError, match=r"field 'construction'.*known: chosen_gates, cis1"):
        construction_config({"construction": "nope"}, "c.yaml")
    with pytest.raises(SuperposeError, match=r"c\.yaml: field 'construction' is missing"):
        construction_config({"width": 3}, "c.yaml")


def test_weights_edited_after_the_save_are_refused(tmp_path):
    """CiS2 reads its structure, not the dense layers a plain-torch user reads: a flipped layer
    there loaded as verified. Now the saved hash is checked (and a damaged record refused)."""
    from safetensors.torch import load_file, save_file

    net = build(construction_config({"construction": "cis2", **SMALL["cis2"]}, "test"))
    paths = save_construction(net, tmp_path)
    tensors = load_file(paths["weights"])
    tensors["layer2.weight"] = -tensors["layer2.weight"]
    save_file(tensors, paths["weights"])
    with pytest.raises(SuperposeError, match="not the weights saved with"):
        load_construction(tmp_path)
    paths["ground_truth"].write_text("{")
    with pytest.raises(SuperposeError, match="not the ground truth a save writes"):
        load_construction(tmp_path)


def test_the_public_builders_return_verified_networks():
    """sp.build_uand / build_deep / build_chosen_gates returned the bare layer, never checked
    (a config that `superpose build` refuses came back as if it worked)."""
    import superpose as sp

    for name, builder in [("uand", sp.build_uand), ("deep_boolean", sp.build_deep),
                          ("chosen_gates", sp.build_chosen_gates)]:  # fmt: skip
        cfg = construction_config({"construction": name, **SMALL[name]}, "test")
        assert builder(cfg).verified
    bad = construction_config({"construction": "deep_boolean", "m": 400, "d": 200, "s": 3}, "t")
    with pytest.raises(SuperposeError, match="deep boolean verification failed"):
        sp.build_deep(bad)
    cfg = construction_config({"construction": "chosen_gates", **SMALL["chosen_gates"]}, "test")
    mine = torch.tensor([[0, 1], [2, 3]])
    with pytest.raises(SuperposeError, match="2 given, the config's n_gates is 20"):
        sp.build_chosen_gates(cfg, mine)
    net = sp.build_chosen_gates(cfg.replace(n_gates=2), mine)
    assert net.verified and net.layer.gates.tolist() == mine.tolist()
    assert sp.build is build
