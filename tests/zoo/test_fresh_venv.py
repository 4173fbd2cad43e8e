"""Exports load in a fresh venv with only torch + safetensors, and compute what superpose computes.

The default test makes a venv (`python -m venv --without-pip`) whose only packages are torch,
safetensors and their own dependencies, linked from this environment (superpose, pydantic, typer, …
are absent: the script checks `import superpose` fails) — seconds instead of a ~2 min torch install.
The slow test does the real thing: `pip install torch==<this torch> safetensors` into a new venv
(from PyPI, or the local wheels where pip is set up with them).
"""

from __future__ import annotations

import importlib.metadata as md
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

import superpose.zoo as zoo

ENTRIES = ("cis2", "deep-boolean", "tms-5-2", "resid-mlp-naive")

SCRIPT = """
import json, sys
try:
    import superpose  # noqa: F401
    sys.exit("superpose is importable in the fresh venv")
except ImportError:
    pass
import torch
out = {}
for folder in sys.argv[1:]:
    sys.path.insert(0, folder)
    from model import load
    from sampler import sample
    model = load(folder)
    s = sample(folder, batch=32, seed=5)
    with torch.no_grad():
        acts = model(s["x"])
    name = json.load(open(folder + "/ground_truth.json"))["name"]
    out[name + ".x"] = s["x"].float().clone()
    for l, a in enumerate(acts):
        out[f"{name}.act{l}"] = a.clone()
    for l, e in enumerate(s["exact"]):
        if e is not None:
            out[f"{name}.exact{l}"] = e.float().clone()
    for l, on in enumerate(s["active"]):
        if on is not None:
            out[f"{name}.active{l}"] = on.to(torch.uint8).clone()
    for mod in ("model", "sampler"):
        del sys.modules[mod]
    sys.path.pop(0)
torch.save(out, folder + "/../outputs.pt")  # safetensors saving needs numpy; loading does not
"""


def _requires(dist: md.Distribution) -> list[str]:
    names = []
    for req in dist.requires or []:
        if "extra ==" in req:
            continue
        names.append(re.split(r"[ ;<>=!~\[(]", req, maxsplit=1)[0])
    return names


def _closure(roots: tuple[str, ...]) -> list[md.Distribution]:
    """The installed distributions `roots` need (their non-optional requirements, recursively)."""
    seen: dict[str, md.Distribution] = {}
    todo = list(roots)
    while todo:
        name = todo.pop().lower().replace("_", "-")
        if name in seen:
            continue
        try:
            dist = md.distribution(name)
        except md.PackageNotFoundError:
            continue  # a platform-only requirement not installed here
        seen[name] = dist
        todo += _requires(dist)
    return list(seen.values())


def _link_only(site: Path, roots: tuple[str, ...]) -> None:
    """Link the top-level modules of `roots` and their dependencies into `site`."""
    for dist in _closure(roots):
        for f in dist.files or []:
            top = f.parts[0]
            if top.endswith((".dist-info", ".data")) or top == "..":
                continue
            src = Path(dist.locate_file(top))
            dest = site / top
            if src.exists() and not dest.exists():
                dest.symlink_to(src)


def _venv(root: Path, install: bool) -> Path:
    if install:
        subprocess.run([sys.executable, "-m", "venv", str(root)], check=True)
        py = root / "bin" / "python"
        subprocess.run(
            [
                str(py),
                "-m",
                "pip",
                "install",
                "-q",
                f"torch=={torch.__version__.split('+')[0]}",
                "safetensors",
            ],
            check=True,
        )
        return py
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    py = root / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    _link_only(site, ("torch", "safetensors"))
    return py


@pytest.fixture(scope="module")
def entries():
    return {name: zoo.load(name) for name in ENTRIES}


def _check(tmp_path: Path, install: bool, entries: dict) -> float:
    folders = []
    for name in ENTRIES:
        zoo.export(entries[name], tmp_path / "exports" / name)
        folders.append(str(tmp_path / "exports" / name))
    start = time.perf_counter()
    py = _venv(tmp_path / "venv", install)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    proc = subprocess.run(
        [str(py), "-I", "-c", SCRIPT, *folders],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    seconds = time.perf_counter() - start
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = torch.load(tmp_path / "exports" / "outputs.pt")
    for name in ENTRIES:
        entry = entries[name]
        s = entry.sample(32, seed=5)
        assert torch.equal(got[f"{name}.x"], s["x"].float()), name
        ours = entry.forward(s["x"])  # superpose's own forward (structured path for cis2)
        for l, a in enumerate(ours):
            b = got[f"{name}.act{l}"]
            assert b.shape == a.shape, (name, l)
            assert (a - b).abs().max() <= 1e-4 * (1 + a.abs().max()), (name, l)
        for l, e in enumerate(s["exact"]):
            assert (e is None) == (f"{name}.exact{l}" not in got), (name, l)
            if e is not None:
                torch.testing.assert_close(got[f"{name}.exact{l}"], e.float())
                assert torch.equal(got[f"{name}.active{l}"].bool(), s["active"][l])
        truth = json.loads((tmp_path / "exports" / name / "ground_truth.json").read_text())
        assert truth["content_sha256"] == entry.content_hash
    return seconds


def test_export_runs_in_a_venv_with_only_torch_and_safetensors(tmp_path, entries):
    _check(tmp_path, install=False, entries=entries)


@pytest.mark.slow
def test_export_runs_in_a_venv_with_torch_installed_by_pip(tmp_path, entries):
    seconds = _check(tmp_path, install=True, entries=entries)
    print(f"pip-installed venv + run: {seconds:.0f} s")
