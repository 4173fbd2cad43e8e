import json

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from superpose.base.errors import SuperposeError
from superpose.toy.config import ToyConfig
from superpose.toy.io import load_trained, save_trained
from superpose.toy.train import train


@pytest.fixture(scope="module")
def trained():
    cfg = ToyConfig(
        model="abs",
        n_features=6,
        n_hidden=3,
        features={"sparsity": [0.5, 0.9], "values": "signed"},
        train={"steps": 20, "batch_size": 32, "eval_batch": 256},
        device="cpu",
    )
    return train(cfg, progress=False)


def test_round_trip(tmp_path, trained):
    folder = save_trained(trained, tmp_path / "m")
    assert sorted(p.name for p in folder.iterdir()) == [
        "config.yaml",
        "metrics.json",
        "weights.safetensors",
    ]
    cfg, model, metrics = load_trained(folder)
    assert cfg == trained.config
    for name, value in trained.model.weights().items():
        assert torch.equal(getattr(model, name).detach(), value)
    assert metrics["final_loss"] == pytest.approx(trained.final_loss.tolist())
    assert len(metrics["measurements"]["feature_dimensionality"]) == 2
    assert metrics["seed"] == 0 and metrics["device"] == "cpu" and "library_version" in metrics


def test_corrupted_weights_are_refused(tmp_path, trained):
    folder = save_trained(trained, tmp_path / "m")
    blob = bytearray((folder / "weights.safetensors").read_bytes())
    blob[-1] ^= 0xFF
    (folder / "weights.safetensors").write_bytes(bytes(blob))
    with pytest.raises(SuperposeError, match="hash does not match"):
        load_trained(folder)


def test_schema_mismatch_and_missing_files(tmp_path, trained):
    folder = save_trained(trained, tmp_path / "m")
    metrics = json.loads((folder / "metrics.json").read_text())
    (folder / "metrics.json").write_text(json.dumps({**metrics, "schema_version": 99}))
    with pytest.raises(SuperposeError, match="schema_version"):
        load_trained(folder)
    (folder / "config.yaml").unlink()
    with pytest.raises(SuperposeError, match=r"missing config\.yaml"):
        load_trained(folder)


def test_config_that_does_not_fit_the_weights(tmp_path, trained):
    folder = save_trained(trained, tmp_path / "m")
    text = (folder / "config.yaml").read_text().replace("n_hidden: 3", "n_hidden: 4")
    (folder / "config.yaml").write_text(text)
    with pytest.raises(SuperposeError, match="not the config these weights were trained with"):
        load_trained(folder)
    metrics = json.loads((folder / "metrics.json").read_text())
    del metrics["config_hash"]  # a save from before config hashes: the shapes still disagree
    (folder / "metrics.json").write_text(json.dumps(metrics))
    with pytest.raises(SuperposeError, match="shape"):
        load_trained(folder)


def test_failed_save_leaves_no_half_written_folder(tmp_path, trained, monkeypatch):
    import superpose.toy.io as io

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(io, "save_file", boom)
    with pytest.raises(SuperposeError):
        save_trained(trained, tmp_path / "m")
    assert list(tmp_path.iterdir()) == []


@settings(max_examples=40, deadline=None)
@given(
    which=st.sampled_from(["config.yaml", "metrics.json", "weights.safetensors"]),
    data=st.binary(max_size=200),
)
def test_malformed_files_end_in_one_clean_error(tmp_path_factory, trained, which, data):
    folder = save_trained(trained, tmp_path_factory.mktemp("io") / "m")
    (folder / which).write_bytes(data)
    with pytest.raises(SuperposeError) as info:
        load_trained(folder)
    assert "\n" not in str(info.value)


def test_an_edited_config_is_refused(tmp_path, trained):
    """config.yaml changed after training (sparsity 0.9 → 0.5) loaded as if the weights were its."""
    folder = save_trained(trained, tmp_path / "m")
    path = folder / "config.yaml"
    path.write_text(path.read_text().replace("0.9", "0.5"))
    with pytest.raises(SuperposeError, match="not the config these weights were trained with"):
        load_trained(folder)


def test_a_device_that_is_not_here_is_one_line(tmp_path, trained):
    folder = save_trained(trained, tmp_path / "m")
    with pytest.raises(SuperposeError, match="'gpu' is not a device"):
        load_trained(folder, device="gpu")
