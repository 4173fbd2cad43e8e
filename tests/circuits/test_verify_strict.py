"""Strict verification of CiS1, U-AND, chosen gates and deep boolean (issue 12 item 1): a network that
computes its circuits passes; the same network with doctored biases is refused with one line naming
the figure, the layer/z and the config field; allow_unverified returns it marked unverified in what
it exports; every preset of these constructions passes or is a labelled study refused by default."""

import json
from pathlib import Path

import pytest
import torch

from superpose.base.errors import SuperposeError
from superpose.circuits.construction import (
    build,
    construction_config,
    load_construction,
    load_construction_config,
    save_construction,
)

SMALL = {
    "cis1": {"width": 200, "neurons": 200, "circuits": 10, "layers": 2, "max_active": 2},
    "uand": {"m": 10, "d": 200, "s": 2, "p": 0.25},
    "chosen_gates": {"m": 30, "d": 200, "k": 4, "s": 3, "n_gates": 20},
    "deep_boolean": {"m": 16, "d": 120, "s": 2, "depth": 2, "k": 4, "k_correct": 4},
}


def _build(name, **extra):
    return build(construction_config({"construction": name, **SMALL[name], **extra}, "test"))


def _doctor(net):
    """Biases that break each construction (neurons fire whatever the input)."""
    if net.name == "cis1":
        net.net.circuits.bias.fill_(1.0)
    elif net.name in ("uand", "chosen_gates"):
        net.layer.bias = 0.0
    else:
        for layer in net.net.compute:
            layer.bias.zero_()


@pytest.mark.parametrize("name", sorted(SMALL))
def test_verification_passes_then_flips_on_doctored_biases(name):
    net = _build(name)
    assert net.verify()  # passes: returns its worst figures
    _doctor(net)
    with pytest.raises(SuperposeError) as err:
        net.verify()
    line = str(err.value)
    assert "\n" not in line and "verification failed" in line
    assert "z=" in line and "`" in line  # names where (z, layer) and the config field to change
    if name in ("cis1", "deep_boolean"):
        assert "layer" in line


def test_cis1_checks_every_z_and_inactive_circuits():
    net = _build("cis1")
    per_z = net.net.verification["per_z"]
    assert sorted(per_z) == ["1", "2"]
    assert all(len(r["r2"]) == 2 and len(r["inactive_mse_over_var"]) == 2 for r in per_z.values())
    # more circuits on than the network carries: refused, naming the R² and max_active
    with pytest.raises(
        SuperposeError, match=r"CiS1 verification failed: decoded R² .* `max_active`"
    ):
        _build("cis1", circuits=150, max_active=6)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_allow_unverified_is_marked_in_ground_truth(name, tmp_path):
    net = _build(name, allow_unverified=True)
    _doctor(net)
    report = net.check() if hasattr(net, "check") else None
    if name == "cis1":
        from superpose.circuits.cis1 import verify_cis1

        report = verify_cis1(net.net, net.config)
        net.net.verification = report
    else:
        net.verification = report
    assert not report["passed"] and report["failure"]
    paths = save_construction(net, tmp_path)
    truth = json.loads(paths["ground_truth"].read_text())
    assert truth["verified"] is False and truth["verification"]["failure"] == report["failure"]
    back = load_construction(tmp_path)  # loaded networks are verified again: still failing
    marked = back.net.verification if name == "cis1" else back.verification
    assert not marked["passed"]


def test_deep_boolean_comparator_keeps_wires_on():
    net = build(construction_config({"construction": "deep_boolean", "depth": 5}, "test"))
    x = net.sample(32, 2, torch.Generator().manual_seed(0)).x
    assert all(bool((t.sum(1) == 2).all()) for t in net.exact(x))
    rows = net.verification["per_z"]["2"]
    assert len(rows["wrong_per_input"]) == 5 and max(rows["wrong_per_input"]) <= 0.5


def _presets():
    names = ("cis1", "uand", "chosen_gates", "deep_boolean")
    out = []
    for path in sorted(Path(__file__).parents[2].joinpath("configs").glob("*.yaml")):
        text = path.read_text()
        if any(f"construction: {n}\n" in text for n in names):
            slow = "m: 1000" in text or "m: 2000" in text or "cis1" in path.name
            out.append(pytest.param(path, marks=pytest.mark.slow) if slow else path)
    return out


@pytest.mark.parametrize("path", _presets(), ids=lambda p: p.name)
def test_every_preset_passes_or_is_a_refused_study(path):
    cfg = load_construction_config(path)
    if path.read_text().startswith("# STUDY"):
        with pytest.raises(SuperposeError, match="verification failed") as err:
            build(cfg)
        assert "\n" not in str(err.value)
    else:
        build(cfg)


def test_residual_form_carries_the_same_circuits():
    from superpose.circuits.cis1 import residual_form
    from superpose.circuits.small import make_circuits, sample_inputs

    mlp = make_circuits("rotation", 12, 4, 4, seed=0)
    x, _ = sample_inputs(mlp, 16, 3, torch.Generator().manual_seed(0))
    for a, b in zip(residual_form(mlp).forward(x), mlp.forward(x), strict=True):
        assert torch.allclose(a, b, atol=1e-5)
