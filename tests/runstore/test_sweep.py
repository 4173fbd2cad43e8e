"""Sweeps: map_grid with a store (resume, failures, pools), specs (axes, errors), and the CLI face."""

import csv
import json
from pathlib import Path

import pytest
import torch
import yaml
from typer.testing import CliRunner

from superpose.base.errors import SuperposeError
from superpose.cli import app
from superpose.store import RunStore
from superpose.sweep import map_grid
from superpose.sweep.driver import GridError
from superpose.sweep.spec import SweepSpec, axis_values, expand, load_plan

CALLS: list[int] = []


def _fn(point):
    """Counts its calls (serial runs are in-process); x == 3 fails; returns a tensor too."""
    CALLS.append(point["x"])
    if point["x"] == 3 and not point.get("fixed"):
        raise ValueError("three is bad")
    return {"y": point["x"] ** 2, "t": torch.arange(point["x"] + 1, dtype=torch.float32) / 3}


def _sq(point):
    return {"y": point["x"] ** 2, "t": torch.full((2,), point["x"] / 7)}


def test_map_grid_store_resumes_keeps_failures_and_round_trips_tensors(tmp_path):
    store = tmp_path / "g.db"
    points = [{"x": i} for i in range(5)]
    CALLS.clear()
    with pytest.raises(GridError, match="1 of 5 points failed; first: ValueError: three is bad"):
        map_grid(_fn, points, store=store, progress=False)
    assert sorted(CALLS) == [0, 1, 2, 3, 4]
    with RunStore(store) as db:
        assert db.counts() == {"pending": 0, "ok": 4, "error": 1}
        assert "three is bad" in db.get("3").error
    CALLS.clear()
    with pytest.raises(GridError):  # the failure is kept, nothing is redone
        map_grid(_fn, points, store=store, progress=False)
    assert CALLS == []
    CALLS.clear()
    with pytest.raises(GridError):  # retried on request: only the failed point runs again
        map_grid(_fn, points, store=store, progress=False, retry_failed=True)
    assert CALLS == [3]
    # results from the store equal fresh ones, tensors and dtypes included
    fresh = map_grid(_fn, [{"x": 2}], progress=False)
    ok = [p for p in points if p["x"] != 3]
    with RunStore(store) as db:
        stored = {r.point["x"]: r for r in db.runs()}
    assert stored[2].metrics["y"] == fresh[0]["y"] == 4
    CALLS.clear()
    again = map_grid(_fn, ok, store=tmp_path / "h.db", progress=False)
    resumed = map_grid(_fn, ok, store=tmp_path / "h.db", progress=False)
    assert len(CALLS) == 4  # the second call ran nothing
    for a, b in zip(again, resumed, strict=True):
        assert a["y"] == b["y"] and torch.equal(a["t"], b["t"]) and b["t"].dtype == torch.float32


def test_resuming_after_the_function_changed_says_so(tmp_path, monkeypatch, capsys):
    """The store kept results of f before an edit and handed them back without a word."""
    import importlib
    import sys

    module = tmp_path / "gridfn.py"
    module.write_text("def f(p):\n    return {'y': p['a'] * 10}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    gridfn = importlib.import_module("gridfn")
    store, points = tmp_path / "s.db", [{"a": 1}, {"a": 2}]
    assert map_grid(gridfn.f, points, store=store, progress=False) == [{"y": 10}, {"y": 20}]
    map_grid(gridfn.f, points, store=store, progress=False)
    assert "changed" not in capsys.readouterr().err
    module.write_text("def f(p):\n    return {'y': p['a'] * 10 + 1}\n")
    gridfn = importlib.reload(gridfn)
    assert map_grid(gridfn.f, points, store=store, progress=False) == [{"y": 10}, {"y": 20}]
    err = capsys.readouterr().err
    assert f"{store}: gridfn.f changed since its stored runs were made" in err
    sys.modules.pop("gridfn")


def test_map_grid_pool_equals_serial_and_dedupes(tmp_path):
    points = [{"x": i} for i in range(4)] + [{"x": 1}]
    serial = map_grid(_sq, points, progress=False)
    pooled = map_grid(_sq, points, workers=2, store=tmp_path / "p.db", progress=False)
    assert [r["y"] for r in pooled] == [r["y"] for r in serial]
    assert all(torch.equal(a["t"], b["t"]) for a, b in zip(serial, pooled, strict=True))
    with RunStore(tmp_path / "p.db") as db:
        assert len(db.runs()) == 4  # the repeated point is one run
    # many short runs go to the workers in batches: each still stored once, in grid order
    many = [{"x": i} for i in range(300)]
    pooled = map_grid(_sq, many, workers=2, store=tmp_path / "m.db", progress=False)
    assert [r["y"] for r in pooled] == [p["x"] ** 2 for p in many]
    with RunStore(tmp_path / "m.db") as db:
        runs = db.runs("ok")
        assert [r.point["x"] for r in runs] == list(range(300))


def test_map_grid_bad_arguments(tmp_path):
    with pytest.raises(SuperposeError, match="executor 'dask' is not known"):
        map_grid(_sq, [{"x": 1}], executor="dask", progress=False)
    with pytest.raises(SuperposeError, match="workers must be"):
        map_grid(_sq, [{"x": 1}], workers=0, progress=False)
    map_grid(_sq, [{"x": 1}], store=tmp_path / "a.db", progress=False)
    with pytest.raises(SuperposeError, match="holds another sweep"):
        map_grid(_sq, [{"x": 2}], store=tmp_path / "a.db", progress=False)
    assert map_grid(_sq, [], progress=False) == []
    with pytest.raises(SuperposeError, match="point 1 is of type int"):  # was 'int' not iterable
        map_grid(_sq, [{"x": 1}, 2], progress=False)
    assert map_grid(_sq, ({"x": i} for i in range(2)), progress=False)[1]["y"] == 1  # any iterable


def test_axis_forms():
    assert axis_values("a", [1, "b"]) == [1, "b"]
    assert axis_values("a", {"range": [0, 10, 3]}) == [0, 3, 6, 9]
    assert axis_values("a", {"linspace": [0.0, 0.3, 4]}) == [0.0, 0.1, 0.2, 0.3]
    assert axis_values("a", {"logspace": [1e-4, 1e-2, 3]}) == [1e-4, 1e-3, 1e-2]
    for bad, msg in [
        ([], "no values: empty grid"),
        ({"range": [5, 0, 1]}, "no values: empty grid"),
        ({"range": [0, 5, 0]}, "step must not be 0"),
        ({"logspace": [0, 1, 3]}, "must be > 0"),
        ({"steps": [0, 1, 3]}, "give a list or one of"),
        ({"linspace": [0, 1]}, "three numbers"),
    ]:
        with pytest.raises(SuperposeError, match=msg):
            axis_values("a", bad)


TOY = {"n_features": 3, "n_hidden": 2, "train": {"steps": 30, "batch_size": 32}, "device": "cpu"}


def test_expand_grid_and_errors():
    spec = SweepSpec(
        name="t", toy=TOY, axes={"features.sparsity": [0.0, 0.5], "n_hidden": [1]}, seeds=2
    )
    plan = expand(spec)
    assert len(plan.tasks) == 4 and len({t.key for t in plan.tasks}) == 4
    assert plan.tasks[1].point == {"features.sparsity": 0.0, "n_hidden": 1, "seed": 1}
    assert plan.tasks[1].payload["config"]["seed"] == 1
    assert expand(spec).sweep_id == plan.sweep_id
    for kwargs, msg in [
        ({"axes": {"n_hiden": [1]}}, "unknown axis 'n_hiden'"),
        ({"axes": {"n_hidden": []}}, "empty grid"),
        ({"axes": {"features.sparsity": [0.5, 1.5]}}, r'point \{"features.sparsity": 1.5\}'),
        ({"base": {"nope": 1}}, "base: unknown field 'nope'"),
    ]:
        with pytest.raises(SuperposeError, match=msg):
            expand(SweepSpec(name="t", toy=TOY, **kwargs), "s.yaml")
    with pytest.raises(ValueError, match="exactly one of"):
        SweepSpec(name="t", toy=TOY, experiment="tms-basic")


def _write(path: Path, data) -> Path:
    path.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
    return path


def test_cli_sweep_runs_report_and_errors(tmp_path):
    runner = CliRunner()
    spec = _write(
        tmp_path / "s.yaml",
        {"name": "tiny", "toy": TOY, "axes": {"features.sparsity": [0.0, 0.9], "n_hidden": [1, 2]}},
    )
    store = tmp_path / "runs.db"
    res = runner.invoke(app, ["sweep", str(spec), "--store", str(store), "--no-progress"])
    assert res.exit_code == 0, res.output
    assert "4 ok, 0 failed (4 run now, 0 kept from before)" in res.output
    res = runner.invoke(app, ["sweep", str(spec), "--store", str(store), "--no-progress"])
    assert "(0 run now, 4 kept from before)" in res.output
    with RunStore(store) as db:
        run = db.runs()[0]
    assert run.status == "ok" and run.metrics["loss"] >= 0
    assert (Path(run.artifact) / "model" / "weights.safetensors").is_file()

    res = runner.invoke(app, ["runs", "ls", str(store)])
    assert res.exit_code == 0 and "4 ok" in res.output
    res = runner.invoke(app, ["runs", "show", str(store), run.key[:6]])
    assert json.loads(res.output)["key"] == run.key
    res = runner.invoke(app, ["runs", "export", str(store), "--out", str(tmp_path / "r.csv")])
    rows = list(csv.DictReader((tmp_path / "r.csv").open()))
    assert len(rows) == 4 and {"features.sparsity", "n_hidden", "loss"} <= set(rows[0])
    runner.invoke(app, ["runs", "export", str(store), "--out", str(tmp_path / "r.jsonl")])
    lines = (tmp_path / "r.jsonl").read_text().splitlines()
    assert len(lines) == 4 and json.loads(lines[0])["config"]["kind"] == "toy"
    kept = store.read_bytes()
    for out, fmt in ((store, "csv"), (store.with_name("runs.db-wal"), "jsonl")):
        res = runner.invoke(app, ["runs", "export", str(store), "--out", str(out), "--format", fmt])
        assert isinstance(res.exception, SuperposeError) and "is the run store" in str(
            res.exception
        )
    res = runner.invoke(app, ["runs", "export", str(store), "--out", str(tmp_path / "x.jsonl"),
                              "--format", "csv"])  # fmt: skip
    assert isinstance(res.exception, SuperposeError) and "make them agree" in str(res.exception)
    assert store.read_bytes() == kept and not (tmp_path / "x.jsonl").exists()
    res = runner.invoke(app, ["report", "--store", str(store), "--out", str(tmp_path / "rep")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "rep" / "figures" / "loss.png").is_file()
    assert "4 ok" in (tmp_path / "rep" / "index.html").read_text()

    # another sweep into the same store: refused, one line, nothing changed
    other = _write(tmp_path / "o.yaml", {"name": "other", "toy": TOY, "axes": {"n_hidden": [1, 2]}})
    before = store.stat().st_mtime_ns, len(RunStore(store).runs())
    res = runner.invoke(app, ["sweep", str(other), "--store", str(store), "--no-progress"])
    assert isinstance(res.exception, SuperposeError) and "holds another sweep" in str(res.exception)
    assert len(RunStore(store).runs()) == before[1]


@pytest.mark.parametrize(
    ("text", "msg"),
    [
        ("name: [unclosed", "not valid YAML"),
        ("name: x\ntoy: {}\naxes: {n_hiden: [1]}\n", "unknown axis 'n_hiden'"),
        ("name: x\ntoy: {}\naxes: {n_hidden: []}\n", "empty grid"),
        ("name: x\ntoy: {}\nsweeps: 3\n", "field 'sweeps': unknown field"),
        ("name: x\nexperiment: nope\n", "unknown experiment 'nope'"),
        ("name: x\ntoy: {}\naxes: {n_hidden: {range: [0, 1e300, 1e-300]}}\n", "no finite count"),
        ("name: x\ntoy: {}\naxes: {n_hidden: {linspace: [1, 2, 1000000000]}}\n", "1,000,000"),
        ("name: " + "[" * 5000 + "x" + "]" * 5000 + "\n", "nested too deeply"),
    ],
)
def test_cli_bad_specs_give_one_line_errors(tmp_path, text, msg):
    spec = _write(tmp_path / "bad.yaml", text)
    res = CliRunner().invoke(app, ["sweep", str(spec), "--store", str(tmp_path / "r.db")])
    assert isinstance(res.exception, SuperposeError), res.output
    assert msg in str(res.exception) and "\n" not in str(res.exception)
    assert not (tmp_path / "r.db").exists()  # nothing created for a bad spec


def test_cli_unwritable_store_and_bad_executor(tmp_path):
    spec = _write(tmp_path / "s.yaml", {"name": "t", "toy": TOY})
    (tmp_path / "no").write_text("a file where the store's folder should be")
    res = CliRunner().invoke(app, ["sweep", str(spec), "--store", str(tmp_path / "no/r.db")])
    assert "cannot make folder" in str(res.exception)
    res = CliRunner().invoke(
        app, ["sweep", str(spec), "--store", str(tmp_path / "r.db"), "--executor", "slurm"]
    )
    assert "executor 'slurm' is not known" in str(res.exception)


def test_experiment_sweep_metrics_are_the_claims(tmp_path):
    from superpose.sweep.runners import run_point

    plan = expand(
        SweepSpec(
            name="e",
            experiment="tms-basic",
            base={
                "model.train.steps": 40,
                "model.train.batch_size": 64,
                "model.features.sparsity": [0.0, 0.99],
            },
        )
    )
    metrics = run_point(plan.tasks[0].payload)
    passed_keys = [k for k in metrics if k.endswith(".passed")]
    assert metrics["claims_total"] == len(passed_keys) >= 2
    assert isinstance(metrics["relu-superposition-when-sparse.passed"], bool)
    # a claim's measured numbers are metrics: one number as the claim's id, named ones as id.name
    assert isinstance(metrics["relu-superposition-when-sparse.represented"], int)
    assert metrics["claims_held"] == sum(v for k, v in metrics.items() if k.endswith(".passed"))


def test_cli_failing_run_is_recorded_and_the_sweep_carries_on(tmp_path, monkeypatch):
    import superpose.sweep.runners as runners

    real = runners._run_toy

    def flaky(config):
        if config["n_hidden"] == 2:
            raise RuntimeError("simulated failure")
        return real(config)

    monkeypatch.setattr(runners, "_run_toy", flaky)
    spec = _write(tmp_path / "s.yaml", {"name": "f", "toy": TOY, "axes": {"n_hidden": [1, 2, 3]}})
    store = tmp_path / "runs.db"
    res = CliRunner().invoke(app, ["sweep", str(spec), "--store", str(store), "--no-progress"])
    assert res.exit_code == 1 and "2 ok, 1 failed" in res.output
    with RunStore(store) as db:
        bad = db.get("1")
    assert bad.status == "error" and "RuntimeError: simulated failure" in bad.error
    monkeypatch.setattr(runners, "_run_toy", real)
    res = CliRunner().invoke(
        app, ["sweep", str(spec), "--store", str(store), "--no-progress", "--retry-failed"]
    )
    assert res.exit_code == 0 and "(1 run now, 2 kept from before)" in res.output


def test_render_sweep_draws_lines_for_one_axis(tmp_path):
    from superpose.report import render_sweep

    map_grid(_sq, [{"x": i} for i in range(4)], store=tmp_path / "g.db", progress=False)
    index = render_sweep(tmp_path / "g.db", tmp_path / "rep")
    assert (tmp_path / "rep" / "figures" / "y.png").is_file()
    assert "4 ok" in index.read_text()


def test_spec_toy_base_from_a_file_next_to_the_spec(tmp_path):
    from superpose.sweep.spec import load_plan

    _write(tmp_path / "toy.yaml", TOY)
    spec = _write(tmp_path / "s.yaml", {"name": "f", "toy": "toy.yaml", "axes": {"seed": [0, 1]}})
    plan = load_plan(spec)
    assert [t.payload["config"]["seed"] for t in plan.tasks] == [0, 1]
    assert plan.tasks[0].payload["config"]["n_features"] == 3


def test_construction_target_builds_every_point(tmp_path):
    """`construction:` sweeps build (and so verify) each point and report its verification."""
    from superpose.sweep.runners import run_point

    spec = tmp_path / "c.yaml"
    spec.write_text(
        "name: c\n"
        "construction: {construction: cis2, width: 480, redundancy: 6, circuits: 60, layers: 2,"
        " max_active: 1, embedding: linked}\n"
        "axes: {circuits: [40, 60]}\n"
    )
    plan = load_plan(spec)
    assert (plan.kind, plan.target, len(plan.tasks)) == ("construction", "cis2", 2)
    metrics = run_point(plan.tasks[1].payload)
    assert metrics["n_circuits"] == 60 and metrics["min_decoded_r2"] >= 0.9


def test_seeds_go_into_a_nested_seed_field():
    root = Path(__file__).resolve().parents[2]
    plan = load_plan(root / "configs" / "sweep-tms-basic-seeds.yaml")
    assert plan.axes["model.seed"] == [0, 1] and len(plan.tasks) == 4
    assert {t.payload["config"]["model"]["seed"] for t in plan.tasks} == {0, 1}
    with pytest.raises(SuperposeError, match="no field 'seed'"):
        expand(SweepSpec(name="s", experiment="tms-basic", seeds=2))
