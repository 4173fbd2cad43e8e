"""`superpose compile SPEC --out DIR`: families and a user's .safetensors circuit in one verified
network; bad specs and bad circuit files end in one line."""

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
