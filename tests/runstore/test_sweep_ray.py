"""The same sweep through Ray (a local Ray instance) stores the same results as the local executor."""

import pytest
import torch

from superpose.store import RunStore
from superpose.sweep import map_grid
from superpose.sweep.driver import run_tasks
from superpose.sweep.runners import run_point
from superpose.sweep.spec import SweepSpec, expand

pytest.importorskip("ray")

TOY = {"n_features": 3, "n_hidden": 2, "train": {"steps": 50, "batch_size": 32}, "device": "cpu"}


def _sq(point):
    return {"y": point["x"] ** 2, "t": torch.full((2,), point["x"] / 7)}


def _metrics(path):
    with RunStore(path) as db:
        return {r.key: (r.status, r.metrics) for r in db.runs()}


@pytest.mark.slow
def test_ray_matches_local_pool(tmp_path):
    plan = expand(SweepSpec(name="r", toy=TOY, axes={"features.sparsity": [0.0, 0.9]}, seeds=2))
    for name, executor in (("local.db", "local"), ("ray.db", "ray")):
        out = run_tasks(
            run_point,
            plan.tasks,
            workers=2,
            store=tmp_path / name,
            executor=executor,
            progress=False,
            sweep_id=plan.sweep_id,
            sweep_info=plan.info(),
        )
        assert not out.errors and out.ran == 4
    local, ray_ = _metrics(tmp_path / "local.db"), _metrics(tmp_path / "ray.db")
    assert local.keys() == ray_.keys()
    for key in local:  # same seed, same device, one thread each: identical numbers
        a, b = local[key][1], ray_[key][1]
        a.pop("train_seconds"), b.pop("train_seconds")
        assert local[key][0] == ray_[key][0] == "ok" and a == b
    pts = [{"x": i} for i in range(3)]
    got = map_grid(_sq, pts, workers=2, executor="ray", progress=False)
    assert [r["y"] for r in got] == [0, 1, 4] and torch.equal(got[2]["t"], _sq(pts[2])["t"])
