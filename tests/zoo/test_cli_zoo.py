"""`superpose zoo list|export` and `superpose score` on a zoo entry, end to end in a subprocess."""

from __future__ import annotations

import json

import torch
from safetensors.torch import save_file

from tests.cli.test_cli import assert_one_line_error, run_cli


def test_zoo_list_and_export(tmp_path):
    proc = run_cli("zoo", "list")
    assert proc.returncode == 0, proc.stderr
    for name in ("cis2", "tms-40-10", "resid-mlp-clean", "resid-mlp-naive"):
        assert name in proc.stdout
    proc = run_cli("zoo", "export", "tms-5-2", "--out", str(tmp_path / "tms"))
    assert proc.returncode == 0, proc.stderr
    truth = json.loads((tmp_path / "tms" / "ground_truth.json").read_text())
    assert truth["name"] == "tms-5-2" and truth["content_sha256"][:16] in proc.stdout + proc.stderr


def test_score_trains_a_topk_sae_on_a_zoo_entry(tmp_path):
    (tmp_path / "tms-5-2").mkdir()  # a folder named like the entry (an export) does not hide it
    proc = run_cli(
        "score", "tms-5-2", "--train-sae", "topk", "--k", "1", "--latents", "5",
        "--steps", "200", "--samples", "500", "--out", str(tmp_path / "s"), cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "MMCS (circuits)" in proc.stdout and "layer 2" in proc.stdout
    scores = json.loads((tmp_path / "s" / "score.json").read_text())
    assert set(scores) == {"layer1", "layer2"}
    assert (tmp_path / "s" / "sae_layer1.safetensors").is_file()


def test_score_bad_input_is_one_line(tmp_path):
    assert_one_line_error(
        run_cli("score", "nope", "--train-sae", "topk"), "'nope'", "zoo entry", "tms-5-2"
    )
    bad = tmp_path / "wide.safetensors"
    save_file({"W_dec": torch.randn(10, 7)}, str(bad))
    assert_one_line_error(
        run_cli("score", "tms-5-2", "--dictionary", str(bad), "--layer", "1"),
        str(bad), "[10, 7]", "tms-5-2 layer 1", "D = 2",
    )  # fmt: skip
    assert_one_line_error(
        run_cli("score", "resid-mlp-naive", "--dictionary", str(bad), "--layer", "3"),
        "layer 3 (resid_post) has no ground truth",
    )
    assert_one_line_error(run_cli("zoo", "export", "nope", "--out", str(tmp_path / "x")), "nope")
    assert not (tmp_path / "x").exists()
    for option, value in (("--l1", "inf"), ("--k", "1000000000"), ("--seed", str(10**20))):
        assert_one_line_error(
            run_cli("score", "tms-5-2", "--train-sae", "topk", option, value), option
        )
    mine = tmp_path / "mine"  # someone's folder: refused before any scoring, nothing replaced
    mine.mkdir()
    (mine / "score.json").write_text("my notes")
    (mine / "notes.txt").write_text("mine")
    proc = run_cli("score", "tms-5-2", "--dictionary", str(bad), "--out", str(mine))
    assert_one_line_error(proc, "notes.txt", "not a previous save")
    assert (mine / "score.json").read_text() == "my notes"
