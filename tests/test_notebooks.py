"""The notebooks in notebooks/ run top to bottom on a fresh kernel, each within its time budget."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="notebook tests need the dev extra (nbformat)")
nbclient = pytest.importorskip("nbclient", reason="notebook tests need the dev extra (nbclient)")

ROOT = Path(__file__).parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CELL_TIMEOUT_S = 180  # a generous ceiling; each notebook takes well under a minute unloaded


def test_there_are_the_three_notebooks():
    assert [p.stem for p in NOTEBOOKS] == ["01-tms-tour", "02-cis-network", "03-sweep"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path, tmp_path):
    """Every cell runs without error on a fresh kernel that imports this checkout's superpose;
    each notebook draws at least one figure, and the TMS and CiS ones show library objects as
    HTML tables (a trained result, a claims list, a built network)."""
    nb = nbformat.read(path, as_version=4)
    paths = [str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}
    env.pop("MPLBACKEND", None)  # the kernel's inline backend, so figures become outputs
    client = nbclient.NotebookClient(
        nb,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute(env=env)
    outputs = [o for c in nb.cells for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    data = [o.get("data", {}) for o in outputs]
    assert any("image/png" in d for d in data), f"{path.stem} drew no figure"
    if path.stem != "03-sweep":
        assert any("<table" in d.get("text/html", "") for d in data), path.stem
