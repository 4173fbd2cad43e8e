"""The command line under bad usage, bad files and corrupt stores: one line on stderr, a non-zero
exit, no traceback, and nothing written or deleted outside --out. Each reproduction command of
issue 15 runs here through the entry point in a subprocess (`python -m superpose`, the tree under
test; `superpose` installed from it runs the same `main`)."""

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from superpose.base.errors import SuperposeError

# run by `make faults` (the `faults` marker; CI runs it after `make test`), not by the default `pytest`
pytestmark = pytest.mark.faults

SRC = str(Path(__file__).resolve().parents[2] / "src")
TOY = "n_features: 5\nn_hidden: 2\ntrain: {steps: 5, batch_size: 16}\n"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": SRC, "OMP_NUM_THREADS": "1", "COLUMNS": "80"}
    env.pop("SUPERPOSE_TRACEBACK", None)
    return subprocess.run(
        [sys.executable, "-m", "superpose", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def one_line(proc: subprocess.CompletedProcess, code: int | None = None) -> str:
    """The single stderr line of a failed command."""
    lines = proc.stderr.splitlines()
    assert "Traceback" not in proc.stderr, proc.stderr
    assert len(lines) == 1, proc.stderr
    assert proc.returncode != 0
    if code is not None:
        assert proc.returncode == code
    return lines[0]


def tree(root: Path) -> dict[str, bytes]:
    """Every file below root with its content (to show nothing was written or deleted)."""
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


# 1. data loss ------------------------------------------------------------------------------------
def test_train_into_a_folder_of_other_files_refuses_and_keeps_them(tmp_path):
    (tmp_path / "v" / "sub").mkdir(parents=True)
    (tmp_path / "v" / "keep.txt").write_text("x")
    (tmp_path / "c.yaml").write_text(TOY)
    before = tree(tmp_path)
    line = one_line(run("train", "c.yaml", "--out", "v", "--no-progress", cwd=tmp_path), 2)
    assert "keep.txt" in line and "nothing was changed" in line
    assert tree(tmp_path) == before and (tmp_path / "v" / "sub").is_dir()


def test_a_save_over_another_construction_keeps_none_of_its_files(tmp_path):
    """cis1 writes no errors.json: the cis2 save's would have stayed, describing other weights."""
    common = "width: 64\ncircuit_width: 4\ncircuits: 4\nlayers: 2\nmax_active: 1\n"
    (tmp_path / "c2.yaml").write_text("construction: cis2\nredundancy: 3\n" + common)
    (tmp_path / "c1.yaml").write_text(
        "construction: cis1\nneurons: 64\ncircuit_neurons: 4\n" + common
    )
    assert run("build", "c2.yaml", "--out", "net", cwd=tmp_path).returncode == 0
    assert (tmp_path / "net" / "errors.json").exists()
    assert run("build", "c1.yaml", "--out", "net", cwd=tmp_path).returncode == 0
    names = sorted(p.name for p in (tmp_path / "net").iterdir())
    assert names == ["config.yaml", "ground_truth.json", "weights.safetensors"]


def test_a_folder_of_a_users_files_with_saved_names_is_refused(tmp_path):
    """The user's own config.yaml (and nothing else) in --out was replaced by the save's."""
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "config.yaml").write_text(TOY + "# my notes\n")
    (tmp_path / "c.yaml").write_text(TOY)
    before = tree(tmp_path)
    line = one_line(run("train", "c.yaml", "--out", "proj", "--no-progress", cwd=tmp_path))
    assert "proj: holds config.yaml but is not a previous save" in line
    assert tree(tmp_path) == before


def test_a_folder_where_the_save_writes_a_file_is_refused_before_any_work(tmp_path):
    """Replacing the others first and failing on it left a mixed folder (old weights, new config)."""
    (tmp_path / "v" / "weights.safetensors").mkdir(parents=True)
    (tmp_path / "v" / "metrics.json").write_text('{"schema_version": 1}')
    (tmp_path / "c.yaml").write_text(TOY)
    before = tree(tmp_path)
    line = one_line(run("train", "c.yaml", "--out", "v", "--no-progress", cwd=tmp_path))
    assert "weights.safetensors: is a folder where the save writes a file" in line
    assert tree(tmp_path) == before


def test_train_out_dot_never_empties_the_folder(tmp_path):
    (tmp_path / "c.yaml").write_text(TOY)
    (tmp_path / "notes.txt").write_text("mine")
    before = tree(tmp_path)
    one_line(run("train", "c.yaml", "--out", ".", "--no-progress", cwd=tmp_path), 2)
    assert tree(tmp_path) == before


def test_train_out_naming_a_file_is_one_line(tmp_path):
    (tmp_path / "c.yaml").write_text(TOY)
    (tmp_path / "f").write_text("file")
    line = one_line(run("train", "c.yaml", "--out", "f", "--no-progress", cwd=tmp_path), 2)
    assert "not a folder" in line and (tmp_path / "f").read_text() == "file"


def test_train_replaces_a_previous_save_whole_with_umask_permissions(tmp_path):
    (tmp_path / "c.yaml").write_text(TOY)
    for _ in range(2):  # the second run replaces the first save in place
        proc = run("train", "c.yaml", "--out", "v", "--no-progress", cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
    names = sorted(p.name for p in (tmp_path / "v").iterdir())
    assert names == ["config.yaml", "metrics.json", "weights.safetensors"]
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "v").stat().st_mode & 0o777 == 0o777 & ~umask
    for p in (tmp_path / "v").iterdir():
        assert p.stat().st_mode & 0o777 == 0o666 & ~umask, p


# 2. usage errors -----------------------------------------------------------------------------------
def test_bad_device_option_names_the_option(tmp_path):
    (tmp_path / "c.yaml").write_text(TOY)
    for args in (["train", "c.yaml", "--out", "v"], ["reproduce", "--only", "tms-basic"]):
        line = one_line(run(*args, "--device", "nope", cwd=tmp_path), 2)
        assert "'--device'" in line and "cuda:N" in line and "<replace>" not in line
    assert [p.name for p in tmp_path.iterdir()] == ["c.yaml"]


@pytest.mark.parametrize(
    "args",
    [
        ["reproduce", "--bogus"],
        ["sweep"],
        ["sweep", "s.yaml", "--store", "s.db", "--workers", "abc"],
        ["nonsense"],
        ["runs", "show"],
    ],
)
def test_usage_errors_are_one_line(tmp_path, args):
    line = one_line(run(*args, cwd=tmp_path), 2)
    assert "--help" in line
    assert list(tmp_path.iterdir()) == []


# 7, 8, 9: bad values ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ('device: "[/red]"\n', "[/red]"),
        ("features: {sparsity: -0.5}\n", "got -0.5"),
        ("train: {lr: .nan}\n", "finite"),
        ("seed: 18446744073709551616\n", "seed"),
        ("n_features: 100000\nn_hidden: 100000\nn_instances: 1000000\n", "memory"),
        ("[1, 2\n", "YAML"),
        ("n_features: 5\nn_hidden: 2\ntrain: {steps: 20, l1_hidden: 1.0e308}\n", "diverged"),
        ("n_features: " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
        ("n_features: 5\nn_hidden: 2\nn_hidden: 3\n", "'n_hidden' given twice (lines 2 and 3)"),
        ("n_features: true\nn_hidden: 2\n", "field 'n_features': true/false is not allowed"),
        ("features: {sparsity: [0.5, false]}\n", "field 'features.sparsity': true/false"),
        (
            "a: &a [x, x, x, x, x, x, x, x, x, x]\n"  # an alias bomb: 10^7 values from 7 lines
            + "".join(
                f"{b}: &{b} [{', '.join(['*' + a] * 10)}]\n"
                for a, b in zip("abcdef", "bcdefg", strict=True)
            )
            + "n_features: *g\n",
            "expand to over 1,000,000 values",
        ),
    ],
)
def test_bad_config_values_are_one_line_naming_the_file(tmp_path, text, expect):
    (tmp_path / "c.yaml").write_text(text)
    line = one_line(run("train", "c.yaml", "--out", "v", "--no-progress", cwd=tmp_path), 2)
    assert "c.yaml" in line or "memory" in line
    assert expect in line
    assert line.count("got ") <= 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml"]


def test_axis_form_error_keeps_its_brackets(tmp_path):
    spec = "name: s\ntoy: {n_features: 3}\naxes: {n_hidden: {range: [1, 2]}}\n"
    (tmp_path / "s.yaml").write_text(spec)
    line = one_line(run("sweep", "s.yaml", "--store", "s.db", cwd=tmp_path))
    assert "[a, b, n]" in line or "[1, 2]" in line


@pytest.mark.parametrize(
    "text",
    [
        "construction: deep_boolean\nm: 1000000\nd: 1000\n",  # was killed by the OOM killer
        "construction: cis1\nwidth: 1000000\nneurons: 1000\n",
        "construction: cis1\ncircuits: 1000000\n",
    ],
)
def test_build_too_big_for_memory_is_refused_before_allocating(tmp_path, text):
    (tmp_path / "b.yaml").write_text(text)
    line = one_line(run("build", "b.yaml", "--out", "o", cwd=tmp_path), 2)
    assert "memory" in line and "lower" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.yaml"]


def _damage_weights(folder: Path) -> None:
    (folder / "weights.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{garbage")


def _drop_a_tensor(folder: Path) -> None:
    from safetensors.torch import load_file, save_file

    tensors = load_file(str(folder / "weights.safetensors"))
    tensors.pop(sorted(tensors)[0])
    save_file(tensors, str(folder / "weights.safetensors"))


def _fewer_circuits(folder: Path) -> None:
    text = (folder / "config.yaml").read_text().replace("circuits: 30", "circuits: 29")
    (folder / "config.yaml").write_text(text)


@pytest.mark.parametrize("damage", [_damage_weights, _drop_a_tensor, _fewer_circuits])
def test_score_on_a_damaged_built_network_is_one_line(tmp_path, damage):
    import torch
    from safetensors.torch import save_file

    (tmp_path / "c.yaml").write_text(
        "construction: cis2\nwidth: 400\ncircuits: 30\nlayers: 2\nmax_active: 1\n"
    )
    assert run("build", "c.yaml", "--out", "net", cwd=tmp_path).returncode == 0
    save_file({"W_dec": torch.randn(40, 400)}, str(tmp_path / "sae.safetensors"))
    damage(tmp_path / "net")
    line = one_line(run("score", "net", "--dictionary", "sae.safetensors", cwd=tmp_path), 2)
    assert "net/" in line or "net:" in line


def test_a_config_kept_in_out_is_not_replaced_by_the_save(tmp_path):
    (tmp_path / "proj").mkdir()
    mine = "# my notes\n" + TOY
    (tmp_path / "proj" / "config.yaml").write_text(mine)
    line = one_line(run("train", "proj/config.yaml", "--out", "proj", cwd=tmp_path), 2)
    assert "would replace it" in line
    assert (tmp_path / "proj" / "config.yaml").read_text() == mine
    assert [p.name for p in (tmp_path / "proj").iterdir()] == ["config.yaml"]
    # a previous save's own config.yaml (the dump the save writes) may be trained again in place
    assert run("train", "proj/config.yaml", "--out", "p2", cwd=tmp_path).returncode == 0
    proc = run("train", "p2/config.yaml", "--out", "p2", "--no-progress", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize(
    ("command", "text", "words"),
    [
        ("build", "construction: cis2\nwidth: 2000\ncircuit_width: 1024\n", "divisible"),
        ("train", "n_features: 20\nn_hidden: 5\nimportance: [1, 2, 3]\n", "3 values per instance"),
    ],
)
def test_errors_of_the_work_a_config_asked_for_name_the_file(tmp_path, command, text, words):
    (tmp_path / "c.yaml").write_text(text)
    line = one_line(run(command, "c.yaml", "--out", "o", cwd=tmp_path), 2)
    assert line.startswith("error: c.yaml: ") and words in line


def test_build_with_a_bad_config_leaves_no_folder(tmp_path):
    (tmp_path / "b.yaml").write_text("construction: uand\nm: -3\n")
    line = one_line(run("build", "b.yaml", "--out", "o", cwd=tmp_path), 2)
    assert "b.yaml" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.yaml"]


# 4. --resume on damaged result.json ------------------------------------------------------------------
def test_resume_runs_again_over_a_damaged_result_json(tmp_path):
    folder = tmp_path / "r" / "nonlinear-compression"
    folder.mkdir(parents=True)
    (folder / "result.json").write_bytes(b'{"status": "ok", "conf')  # cut short by a kill
    proc = run("reproduce", "--only", "nonlinear-compression", "--out", "r", "--resume",
               "--no-progress", cwd=tmp_path)  # fmt: skip
    assert proc.returncode in (0, 1) and "Traceback" not in proc.stderr, proc.stderr
    assert "unreadable" in proc.stderr
    assert json.loads((folder / "result.json").read_text())["name"] == "nonlinear-compression"


@pytest.mark.parametrize(
    "args",
    [
        ["reproduce", "--only", "nonlinear-compression", "--out", "mine", "--no-progress"],
        ["report", "--store", "s.db", "--out", "mine"],
    ],
)
def test_a_report_into_a_users_folder_is_refused_before_anything_runs(tmp_path, args):
    _store(tmp_path / "s.db")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "index.html").write_text("my page")
    (tmp_path / "mine" / "notes.txt").write_text("mine")
    before = tree(tmp_path)
    line = one_line(run(*args, cwd=tmp_path), 2)
    assert "notes.txt" in line and "not a previous save" in line
    assert tree(tmp_path) == before


@pytest.mark.parametrize("data", [b'{"status": "ok"', b"[1, 2]", b"\xff\xfe\x00binary", b"{}"])
def test_read_record_treats_damaged_results_as_not_done(tmp_path, data):
    from superpose.report import load_records, read_record, render

    (tmp_path / "e").mkdir()
    (tmp_path / "e" / "result.json").write_bytes(data)
    assert read_record(tmp_path / "e" / "result.json") is None
    assert load_records(tmp_path) == []
    render(tmp_path)


# 5, 6: stores ----------------------------------------------------------------------------------------
def _store(path: Path) -> Path:
    from superpose.store import Outcome, RunStore

    with RunStore(path, writer=True, create=True) as db:
        db.claim("id", {"description": "d [/red]", "axes": ["x"]})
        db.plan([(f"k{i}", i, {"x": i}, {"x": i}) for i in range(3)])
        db.finish("k0", Outcome(status="ok", metrics={"y": 1.0}, started=0.0, finished=1.0))
    return path


def _bad_cell(path: Path) -> None:
    con = sqlite3.connect(path)
    con.execute("UPDATE runs SET metrics='{\"y\": 1' WHERE key='k0'")
    con.commit()
    con.close()


def _bad_page(path: Path) -> None:
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    data = bytearray(path.read_bytes())
    for i in range(100, len(data), 7):  # keep the header, scramble the pages
        data[i] = (data[i] * 31 + 17) % 256
    path.write_bytes(bytes(data))


def test_a_store_of_another_schema_is_one_line_for_readers_too(tmp_path):
    _store(tmp_path / "s.db")
    con = sqlite3.connect(tmp_path / "s.db")
    con.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    con.commit()
    con.close()
    before = tree(tmp_path)
    for args in (["runs", "ls", "s.db"], ["runs", "export", "s.db", "--out", "o.csv"]):
        line = one_line(run(*args, cwd=tmp_path), 2)
        assert "store schema 99" in line
    assert tree(tmp_path) == before


@pytest.mark.parametrize("damage", [_bad_cell, _bad_page])
@pytest.mark.parametrize(
    "args",
    [
        ["runs", "ls", "s.db"],
        ["runs", "show", "s.db", "0"],
        ["runs", "export", "s.db", "--out", "o.csv"],
        ["report", "--store", "s.db", "--out", "rep"],
    ],
)
def test_corrupt_store_is_one_line(tmp_path, damage, args):
    damage(_store(tmp_path / "s.db"))
    before = tree(tmp_path)
    line = one_line(run(*args, cwd=tmp_path))
    assert "s.db" in line
    assert tree(tmp_path) == before


def test_sweep_into_a_corrupt_store_is_one_line(tmp_path):
    _bad_page(_store(tmp_path / "s.db"))
    (tmp_path / "s.yaml").write_text("name: s\ntoy: {n_features: 3}\naxes: {n_hidden: [1]}\n")
    proc = run("sweep", "s.yaml", "--store", "s.db", "--no-progress", cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()  # the sweep's header line, then the error
    assert len(lines) == 2 and lines[-1].startswith("error: s.db: ")


def test_store_lock_is_keyed_on_the_resolved_path(tmp_path, monkeypatch):
    from superpose.store import RunStore, artifacts_dir

    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    (tmp_path / "alias.db").symlink_to(tmp_path / "real" / "s.db")
    monkeypatch.chdir(tmp_path)
    with RunStore(tmp_path / "real" / "s.db", writer=True, create=True) as first:
        for other in (tmp_path / "link" / "s.db", Path("real/s.db"), Path("alias.db")):
            with pytest.raises(SuperposeError, match="in use"):
                RunStore(other, writer=True, create=True)
        assert artifacts_dir(first.real) == tmp_path / "real" / "s-artifacts"


# smaller --------------------------------------------------------------------------------------------
def test_load_trained_refuses_edited_kind_int64_and_nan(tmp_path):
    import torch
    from safetensors.torch import load_file, save_file

    from superpose.toy.config import ToyConfig
    from superpose.toy.io import load_trained, save_trained, weights_hash
    from superpose.toy.train import train

    cfg = ToyConfig.model_validate({"n_features": 5, "n_hidden": 2, "train": {"steps": 5}})
    good = save_trained(train(cfg, progress=False), tmp_path / "m")

    def edit(change) -> Path:
        import shutil

        folder = tmp_path / f"e{len(list(tmp_path.iterdir()))}"
        shutil.copytree(good, folder)
        change(folder)
        return folder

    def kind(folder):
        text = (folder / "config.yaml").read_text().replace("relu_output", "linear")
        (folder / "config.yaml").write_text(text)

    def weights(fn):
        def change(folder):
            t = load_file(folder / "weights.safetensors")
            t["W"] = fn(t["W"])
            save_file(t, folder / "weights.safetensors")
            m = json.loads((folder / "metrics.json").read_text())
            m["weights_sha256"] = weights_hash(folder / "weights.safetensors")
            (folder / "metrics.json").write_text(json.dumps(m))

        return change

    for change, match in (
        (kind, "not the config these weights were trained with"),
        (weights(lambda w: w.to(torch.int64)), "int64"),
        (weights(lambda w: w.fill_(float("nan"))), "NaN"),
    ):
        with pytest.raises(SuperposeError, match=match):
            load_trained(edit(change))


def test_unreachable_ray_address_fails_in_seconds():
    """Refused, silent (accepts, never answers, as a proxy does) and malformed addresses fail
    within seconds; a server answering an HTTP/2 preface with SETTINGS (as gRPC does) passes."""
    import socket
    import threading
    import time

    from superpose.sweep.ray_executor import check_address

    def serve(reply: bytes) -> tuple[socket.socket, int]:
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen()

        def accept() -> None:
            conn, _ = srv.accept()
            conn.recv(100)
            conn.sendall(reply)
            time.sleep(3)
            conn.close()

        threading.Thread(target=accept, daemon=True).start()
        return srv, srv.getsockname()[1]

    start = time.monotonic()
    with pytest.raises(SuperposeError, match="cannot reach"):
        check_address("127.0.0.1:9", timeout=2)
    silent, port = serve(b"")
    with pytest.raises(SuperposeError, match="cannot reach"):
        check_address(f"127.0.0.1:{port}", timeout=1)
    with pytest.raises(SuperposeError, match="host:port"):
        check_address("nonsense")
    assert time.monotonic() - start < 10
    grpc, port = serve(b"\x00\x00\x00\x04\x00\x00\x00\x00\x00")
    check_address(f"ray://127.0.0.1:{port}", timeout=2)
    silent.close()
    grpc.close()


def test_workers_are_clamped_to_the_cores(capsys):
    from superpose.sweep.driver import clamp_workers

    cores = len(os.sched_getaffinity(0))
    assert clamp_workers(cores + 6) == cores
    assert capsys.readouterr().err.count("\n") == 1
    assert clamp_workers(1) == 1
