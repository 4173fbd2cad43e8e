"""The CUDA benchmark skips in one line without a GPU; the sweep-store reference keeps results."""

import json

import pytest
import torch

from superpose.bench import run_benchmarks
from superpose.bench.sweep_store import _keeping_loop, _work


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the machine without a GPU")
def test_cuda_bench_is_one_line_without_a_gpu(capsys):
    assert run_benchmarks(["toy-train-cuda"]) == []
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["toy-train-cuda: skipped, no CUDA device here"]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_bench_times_cuda_beside_the_cpu():
    from superpose.bench.gpu import cuda_rows

    rows = cuda_rows(quick=True)
    assert rows and all(r.ours_s > 0 and r.reference_s > 0 for r in rows)


def test_the_keeping_loop_leaves_every_finished_result_on_disk(tmp_path):
    points = [{"x": i} for i in range(5)]
    path = tmp_path / "loop.jsonl"
    out = _keeping_loop(points, path)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert out == [_work(p) for p in points]
    assert [row["result"] for row in lines] == out
