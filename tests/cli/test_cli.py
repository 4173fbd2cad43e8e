import json
import os
import subprocess
import sys

import yaml


def cli_env() -> dict[str, str]:
    """The environment with this tree's src first on PYTHONPATH (the code under test)."""
    return {**os.environ, "PYTHONPATH": os.path.join(os.path.dirname(__file__), "..", "..", "src")}


def run_cli(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "superpose", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=cli_env(),
        timeout=600,
    )


def assert_one_line_error(proc, *words):
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    for word in words:
        assert word in lines[0]


def test_help_explains_every_command():
    proc = run_cli("--help")
    assert proc.returncode == 0
    for cmd in ("train", "experiments", "reproduce"):
        assert cmd in proc.stdout


def test_version_names_superpose_python_torch_and_numpy_without_importing_torch():
    """One line on stdout, the versions read from the package metadata; torch is not imported."""
    import platform
    from importlib.metadata import version

    from superpose.base.version import __version__

    proc = run_cli("--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == (
        f"superpose {__version__} (Python {platform.python_version()}, torch {version('torch')}, "
        f"numpy {version('numpy')})\n"
    )
    probe = (
        "import sys; from superpose.cli import main; sys.argv = ['superpose', '--version']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\nprint('torch' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=cli_env()
    )
    assert done.stdout.splitlines()[-1] == "False", done.stdout + done.stderr


def test_train_bad_config_is_one_line(tmp_path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(yaml.safe_dump({"model": "relu_output", "n_hidden": -1}))
    proc = run_cli("train", str(cfg), "--out", str(tmp_path / "out"))
    assert_one_line_error(proc, "bad.yaml", "n_hidden", "greater than or equal to 1")
    assert not (tmp_path / "out").exists()


def test_train_writes_a_model_folder(tmp_path):
    cfg = tmp_path / "good.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "model": "relu_output",
                "n_features": 4,
                "n_hidden": 2,
                "features": {"sparsity": [0.0, 0.9]},
                "train": {"steps": 30, "batch_size": 64, "eval_batch": 256},
            }
        )
    )
    proc = run_cli("train", str(cfg), "--out", str(tmp_path / "out"), "--no-progress")
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert len(metrics["final_loss"]) == 2


def test_unknown_experiment_is_one_line(tmp_path):
    proc = run_cli("reproduce", "--only", "no-such-thing", "--out", str(tmp_path))
    assert_one_line_error(proc, "no-such-thing")


def test_experiments_lists_tms_basic():
    proc = run_cli("experiments")
    assert proc.returncode == 0 and "tms-basic" in proc.stdout


def test_reproduce_tms_basic_quick_end_to_end(tmp_path):
    proc = run_cli(
        "reproduce", "--quick", "--only", "tms-basic", "--out", str(tmp_path), "--no-progress"
    )
    assert proc.returncode == 0, proc.stderr
    html = (tmp_path / "index.html").read_text()
    assert "tms-basic" in html and "data:image/png;base64," in html
    claims = json.loads((tmp_path / "tms-basic" / "claims.json").read_text())
    assert {c["id"] for c in claims} >= {"linear-top-m", "relu-superposition-when-sparse"}
    for c in claims:
        assert set(c) == {"id", "statement", "measured", "expected", "passed", "null"}
        assert isinstance(c["passed"], bool) and c["null"]["passed"] is False
    # the science holds in the quick run
    assert all(c["passed"] for c in claims), claims
    # a second run with --resume keeps the finished experiment
    again = run_cli("reproduce", "--only", "tms-basic", "--out", str(tmp_path), "--resume")
    assert again.returncode == 0 and "done before, kept" in again.stderr


def test_reproduce_runs_a_name_given_twice_once(tmp_path):
    proc = run_cli("reproduce", "--only", "nonlinear-compression", "--only",
                   "nonlinear-compression", "--out", str(tmp_path / "r"), "--no-progress")  # fmt: skip
    assert proc.returncode in (0, 1), proc.stderr
    assert "[1/1] nonlinear-compression" in proc.stderr and "[2/2]" not in proc.stderr


def test_score_scores_a_dictionary_file_against_a_built_network(tmp_path):
    import torch
    from safetensors.torch import save_file

    cfg = tmp_path / "cis2.yaml"
    cfg.write_text("construction: cis2\nwidth: 400\ncircuits: 30\nlayers: 2\nmax_active: 1\n")
    assert run_cli("build", str(cfg), "--out", str(tmp_path / "net")).returncode == 0
    W = torch.randn(120, 400)
    save_file({"W_dec": W, "W_enc": W.T.contiguous()}, str(tmp_path / "sae.safetensors"))
    proc = run_cli(
        "score", str(tmp_path / "net"), "--dictionary", str(tmp_path / "sae.safetensors"),
        "--samples", "64", "--out", str(tmp_path / "score"),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "MMCS" in proc.stdout and "chance" in proc.stdout
    scores = json.loads((tmp_path / "score" / "score.json").read_text())
    assert set(scores) == {"layer1", "layer2"}
    band = scores["layer1"]["chance"]["mmcs_band"]
    assert band[0] - 0.05 <= scores["layer1"]["mmcs"] <= band[1] + 0.05  # a random dictionary
    assert_one_line_error(run_cli("score", str(tmp_path / "net")), "exactly one of")
    bad = run_cli("score", str(tmp_path / "net"), "--dictionary", str(tmp_path / "nope.st"))
    assert_one_line_error(bad, "nope.st")
