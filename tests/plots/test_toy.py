import re
from pathlib import Path

import torch

from superpose.plots import toy as plots

PNG = b"\x89PNG"


def test_every_toy_figure_writes_a_png(tmp_path):
    W = torch.randn(3, 2, 5)
    labels = ["a", "b", "c"]
    paths = [
        plots.wtw_and_norms(W, labels, tmp_path / "wtw.png", "t"),
        plots.feature_geometry_2d(W, labels, tmp_path / "geo.png", "t"),
        plots.dimensionality_vs_sparsity(
            torch.tensor([0.0, 0.9, 0.99]), W, tmp_path / "d.png", "t"
        ),
        plots.neuron_stacks(W, labels, tmp_path / "stack.png", "t"),
    ]
    for p in paths:
        assert p.read_bytes()[:4] == PNG and p.stat().st_size > 5000


def test_readme_python_examples_run(tmp_path, monkeypatch):
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    code = "\n".join(re.findall(r"```python\n(.*?)```", readme, re.S))
    code = re.sub(r"steps=\d+", "steps=50", code)
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {})
    assert (tmp_path / "runs" / "relu" / "weights.safetensors").is_file()
