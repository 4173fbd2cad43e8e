"""`superpose compile SPEC --out DIR`: families and a user's .safetensors circuit in one verified
network; bad specs and bad circuit files end in one line."""

import hashlib
import json

import pytest
import torch
import yaml
from safetensors.torch import save_file
from torch import nn

from superpose.circuits.construction import load_construction

from .test_cli import assert_one_line_error, run_cli


def write_spec(tmp_path, circuits, **fields):
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump({"width": 500, "max_active": 2, "circuits": circuits, **fields}))
    return spec


def test_compile_families_and_a_user_file(tmp_path):
    torch.manual_seed(0)
    mine = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 2), nn.ReLU())
    save_file(mine.state_dict(), str(tmp_path / "mine.safetensors"))
    spec = write_spec(
        tmp_path,
        [
            {"name": "mine", "family": "user", "file": "mine.safetensors"},
            {"name": "x", "family": "xor", "count": 3},
            {"name": "r", "family": "rotation", "layers": 2, "count": 3},
        ],
    )
    proc = run_cli("compile", str(spec), "--out", "net", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "compiled 7 circuits" in proc.stderr
    truth = json.loads((tmp_path / "net" / "ground_truth.json").read_text())
    assert truth["verified"] and truth["construction"] == "compiled"
    assert [c["name"] for c in truth["compiled_circuits"]][:3] == ["mine", "x.0", "x.1"]
    saved = yaml.safe_load((tmp_path / "net" / "config.yaml").read_text())
    assert saved["circuits"][0]["widths"] == [2, 3, 2] and len(saved["circuits"][0]["sha256"]) == 64
    net = load_construction(tmp_path / "net")  # loads without the user's file
    x = torch.rand(4, 2)
    out = net.outputs(net.embed({"mine": x}), exact=True)["mine"]
    assert torch.allclose(out, mine(x), atol=1e-5)


@pytest.mark.parametrize(
    ("circuits", "fields", "words"),
    [
        ([{"name": "a", "family": "nand"}], {}, ["spec.yaml", "family"]),
        ([{"name": "a", "family": "user"}], {}, ["'a'", "needs `file:`"]),
        ([{"name": "a", "family": "modadd"}], {}, ["not a multiple", "d = 11"]),
        ([{"name": "a", "family": "and"}], {"construction": "cis2"}, ["spec.yaml"]),
    ],
)
def test_bad_spec_is_one_line(tmp_path, circuits, fields, words):
    spec = write_spec(tmp_path, circuits, **fields)
    proc = run_cli("compile", str(spec), "--out", str(tmp_path / "net"))
    assert_one_line_error(proc, *words)
    assert not (tmp_path / "net").exists()


def test_bad_circuit_file_is_one_line(tmp_path):
    bad = {"0.weight": torch.ones(3, 2), "0.bias": torch.zeros(3), "2.weight": torch.ones(2, 2)}
    save_file(bad, str(tmp_path / "bad.safetensors"))
    spec = write_spec(tmp_path, [{"name": "b", "family": "user", "file": "bad.safetensors"}])
    proc = run_cli("compile", str(spec), "--out", "net", cwd=tmp_path)
    assert_one_line_error(proc, "bad.safetensors", "layer 2", "3 outputs")


def test_compile_chains_user_circuits_in_series(tmp_path):
    """A chain of two user files and a family (issue 13): the later stages read the earlier ones'
    outputs; ground_truth.json names the stage of every layer; the saved network loads without the
    files and a doctored stage is refused."""
    torch.manual_seed(1)
    first = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    second = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 2), nn.ReLU())
    save_file(first.state_dict(), str(tmp_path / "first.safetensors"))
    save_file(second.state_dict(), str(tmp_path / "second.safetensors"))
    stages = [
        {"name": "a", "family": "user", "file": "first.safetensors"},
        {"name": "b", "family": "user", "file": "second.safetensors"},
        {"name": "r", "family": "random_mlp", "layers": 1, "width": 2, "seed": 3},
    ]
    spec = write_spec(
        tmp_path,
        [
            {"name": "ch", "family": "chain", "stages": stages},
            {"name": "x", "family": "xor", "count": 2},
        ],
    )
    proc = run_cli("compile", str(spec), "--out", "net", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    truth = json.loads((tmp_path / "net" / "ground_truth.json").read_text())
    chained = truth["compiled_circuits"][0]
    assert chained["kind"] == "chain" and chained["widths"] == [2, 3, 2, 2, 2]
    assert [l["computes"] for l in chained["layers"]] == ["ch/a:1", "ch/b:1", "ch/b:2", "ch/r:1"]
    saved = yaml.safe_load((tmp_path / "net" / "config.yaml").read_text())
    recorded = saved["circuits"][0]["stages"]
    assert recorded[0]["widths"] == [2, 3] and len(recorded[1]["sha256"]) == 64
    (tmp_path / "first.safetensors").unlink()
    (tmp_path / "second.safetensors").unlink()
    net = load_construction(tmp_path / "net")
    x = torch.rand(5, 2)
    out = net.outputs(net.embed({"ch": x}), exact=True)["ch"]
    w, b = net.circuits[0].weights[3], net.circuits[0].biases[3]
    assert torch.allclose(out, torch.relu(second(first(x)) @ w.T + b), atol=1e-5)
    assert torch.allclose(net.outputs(net.embed({"ch": x}))["ch"], out, atol=0.3)
    from safetensors.torch import load_file

    tensors = load_file(str(tmp_path / "net" / "weights.safetensors"))
    tensors["user0.1.weight"] = tensors["user0.1.weight"] + 0.5
    save_file(tensors, str(tmp_path / "net" / "weights.safetensors"))
    proc = run_cli("score", "net", "--dictionary", "none.safetensors", cwd=tmp_path)
    assert_one_line_error(proc, "weights_sha256 differs")
    truth["weights_sha256"] = hashlib.sha256(  # doctored with its hash: the stage checks
        (tmp_path / "net" / "weights.safetensors").read_bytes()
    ).hexdigest()
    (tmp_path / "net" / "ground_truth.json").write_text(json.dumps(truth))
    proc = run_cli("score", "net", "--dictionary", "none.safetensors", cwd=tmp_path)
    assert_one_line_error(proc, "circuits[0].stages[1]", "'b'", "doctored")


@pytest.mark.parametrize(
    ("stages", "words"),
    [
        (
            [("a", 2, 3), ("b", 2, 2)],
            ["spec.yaml", "circuits[0].stages", "'b' reads 2 inputs but 'a' gives 3"],
        ),
        ([("a", 2, 3), ("b", None, None)], ["spec.yaml", "circuits[0].stages[1]", "`file:`"]),
        ([], ["spec.yaml", "circuits[0]", "needs `stages`"]),
    ],
)
def test_bad_chain_is_one_line(tmp_path, stages, words):
    specs = []
    for name, n_in, n_out in stages:
        entry = {"name": name, "family": "user"}
        if n_in is not None:
            lin = nn.Sequential(nn.Linear(n_in, n_out), nn.ReLU())
            save_file(lin.state_dict(), str(tmp_path / f"{name}.safetensors"))
            entry["file"] = f"{name}.safetensors"
        specs.append(entry)
    spec = write_spec(tmp_path, [{"name": "ch", "family": "chain", "stages": specs}])
    proc = run_cli("compile", str(spec), "--out", "net", cwd=tmp_path)
    assert_one_line_error(proc, *words)
    assert not (tmp_path / "net").exists()
