"""Repeatable options read the README's way (`--only a b`), and outputs make their folders."""

import csv
import re

import pytest
import yaml
from typer.testing import CliRunner

from superpose.base.errors import SuperposeError
from superpose.cli import app
from superpose.cli._lists import spread

FLAGS = {"--only", "-o"}


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--only", "a", "b"], ["--only", "a", "--only", "b"]),
        (["--only", "a", "--only", "b"], ["--only", "a", "--only", "b"]),
        (
            ["--only", "a", "b", "--out", "x", "--full"],
            ["--only", "a", "--only", "b", "--out", "x", "--full"],
        ),
        (["--only=a", "b"], ["--only=a", "--only", "b"]),
        (["-o", "a", "b"], ["-o", "a", "-o", "b"]),
        (["--out", "x", "y"], ["--out", "x", "y"]),  # not repeatable: left to click
        (["--only", "a", "--", "b"], ["--only", "a", "--", "b"]),  # after `--`: positional
    ],
)
def test_spread_turns_one_flag_with_values_into_repeats(args, expected):
    assert spread(args, FLAGS) == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["S", "--metric", "a", "b"], ["S", "--metric", "a", "--metric", "b"]),
        (["--metric", "a", "S"], ["--metric", "a", "S"]),  # S is the store, not a metric
        (["--metric", "a", "b", "S"], ["--metric", "a", "--metric", "b", "S"]),
        (
            ["--metric", "a", "b", "S", "--status", "ok"],
            ["--metric", "a", "--metric", "b", "S", "--status", "ok"],
        ),
        (
            ["--status", "ok", "S", "--metric", "a", "b"],
            ["--status", "ok", "S", "--metric", "a", "--metric", "b"],
        ),
    ],
)
def test_spread_leaves_the_positional_argument_a_command_needs(args, expected):
    assert spread(args, {"--metric"}, valued={"--status"}, positional=1) == expected


def test_reproduce_reads_several_names_after_one_only(tmp_path):
    # every name is looked up before anything runs: the second name reached proves it was read
    res = CliRunner().invoke(
        app, ["reproduce", "--only", "tms-basic", "no-such", "--out", str(tmp_path)]
    )
    assert isinstance(res.exception, SuperposeError), res.output
    assert "unknown experiment 'no-such'" in str(res.exception)
    assert "\n" not in str(res.exception)
    res = CliRunner().invoke(app, ["bench", "--only", "toy-train", "no-such"])
    assert "unknown benchmark 'no-such'" in str(res.exception)


@pytest.mark.parametrize("command", [["reproduce"], ["bench"], ["runs", "ls"]])
def test_help_shows_the_list_form(command):
    res = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
    flag = "--metric" if command[0] == "runs" else "--only"
    assert res.exit_code == 0 and f"{flag} a b, or {flag} a {flag} b" in res.output
    assert re.search(rf"{flag}\s+NAME…", res.output), res.output


def test_sweep_store_and_outputs_make_their_folders(tmp_path):
    spec = tmp_path / "s.yaml"
    toy = {"model": "relu_output", "n_features": 3, "n_hidden": 2, "train": {"steps": 5}}
    spec.write_text(
        yaml.safe_dump({"name": "t", "toy": {**toy, "device": "cpu"}, "axes": {"n_hidden": [1, 2]}})
    )
    store = tmp_path / "runs" / "deep" / "r.db"
    runner = CliRunner()
    res = runner.invoke(app, ["sweep", str(spec), "--store", str(store), "--no-progress"])
    assert res.exit_code == 0, res.output
    ls = ["runs", "ls", str(store), "--metric", "loss", "n_represented"]
    res = runner.invoke(app, ls, env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "n_represented" in res.output and "interference" not in res.output  # only those two
    res = runner.invoke(app, ["runs", "ls", "--metric", "loss", "n_represented", str(store)])
    assert res.exit_code == 0 and "n_represented" in res.output, res.output  # store typed last
    res = runner.invoke(app, [*ls, "los"])
    assert "--metric 'los' is not a metric here; known: " in str(res.exception)
    out = tmp_path / "a" / "b" / "r.csv"
    res = runner.invoke(app, ["runs", "export", str(store), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert len(list(csv.DictReader(out.open()))) == 2
    res = runner.invoke(app, ["report", "--store", str(store), "--out", str(tmp_path / "c" / "d")])
    assert res.exit_code == 0 and (tmp_path / "c" / "d" / "index.html").is_file()


def test_bench_out_makes_its_folders(tmp_path, monkeypatch):
    import superpose.bench

    monkeypatch.setattr(superpose.bench, "run_benchmarks", lambda names, quick: [])
    out = tmp_path / "a" / "b" / "rows.json"
    res = CliRunner().invoke(app, ["bench", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert out.read_text() == "[]"


def test_every_repeatable_option_reads_the_list_form():
    """A command with a repeatable option must be a ListCommand, or `--opt a b` is a usage error."""
    import typer.main

    from superpose.cli._lists import ListCommand

    def walk(cmd):
        yield cmd
        for sub in getattr(cmd, "commands", {}).values():
            yield from walk(sub)

    repeating = [
        c
        for c in walk(typer.main.get_command(app))
        if any(getattr(p, "multiple", False) for p in c.params)
    ]
    assert {"reproduce", "bench", "ls"} <= {c.name for c in repeating}
    assert all(isinstance(c, ListCommand) for c in repeating), [c.name for c in repeating]
