"""Property-based fuzz (issue 15): every config model and every command's arguments, generated.
No input may end in a traceback; every failure is one line; no half-written folder is left and no
file outside --out is changed. Heavy work (training, experiments, benchmarks, sweeps, CiS2
builds) is replaced by stubs: the fuzz is of the argument and file handling around it."""

import contextlib
import importlib
import io
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import superpose
from superpose.base.config import FrozenConfig, validate
from superpose.base.errors import SuperposeError
from superpose.base.files import TEMP_SUFFIX


def _configs() -> list[type[FrozenConfig]]:
    ex = importlib.import_module("superpose.experiments")  # (the package attribute is a function)
    ex.registry()  # imports every experiment module, so every config class is defined
    for name in ("superpose.sweep.spec", "superpose.circuits.cis1", "superpose.circuits.cis2",
                 "superpose.circuits.uand", "superpose.circuits.boolean_deep"):  # fmt: skip
        importlib.import_module(name)
    seen, todo = [], [FrozenConfig]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            if sub not in seen:
                seen.append(sub)
                todo.append(sub)
    return sorted(seen, key=lambda c: f"{c.__module__}.{c.__qualname__}")


CONFIGS = _configs()
ODD_TEXT = st.sampled_from(["[/red]", "[bold]x", "", " ", "auto", "cpu", "cuda:7", "nan", "é\n"])
SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, 2, 3, 5, 8, 1000, 2**31, 2**63 - 1, 2**63, -1]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, 0.5, 0.999, 1.0, -0.5, 1e300]),
    ODD_TEXT,
)
VALUE = st.recursive(
    SCALAR,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def config_data(draw) -> tuple[type[FrozenConfig], dict[str, Any]]:
    cls = draw(st.sampled_from(CONFIGS))
    names = [*cls.model_fields, "bogus"]
    keys = draw(st.lists(st.sampled_from(names), max_size=5, unique=True))
    return cls, {k: draw(VALUE) for k in keys}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=config_data())
def test_every_config_model_validates_or_fails_in_one_line(case):
    cls, data = case
    try:
        cfg = validate(cls, data, source="fuzz.yaml")
    except SuperposeError as err:
        text = str(err)
        assert "\n" not in text and text.startswith("fuzz.yaml")
    else:
        assert validate(cls, cfg.to_dict(), source="again") == cfg  # round trip


# command line ---------------------------------------------------------------------------------------
# command → (positional arguments, options taking a value, flags)
COMMANDS: dict[tuple[str, ...], tuple[int, list[str], list[str]]] = {
    ("train",): (1, ["--out", "--device"], ["--no-progress"]),
    ("experiments",): (0, [], []),
    ("reproduce",): (0, ["--only", "--out", "--device"], ["--resume", "--full", "--no-progress"]),
    ("bench",): (0, ["--only", "--out"], ["--quick"]),
    ("sweep",): (1, ["--store", "--workers", "--executor"], ["--retry-failed", "--no-progress"]),
    ("report",): (0, ["--store", "--out"], []),
    ("runs", "ls"): (1, ["--status", "--metric"], []),
    ("runs", "show"): (2, [], []),
    ("runs", "export"): (1, ["--out", "--format"], []),
    ("build",): (1, ["--out", "--batch"], []),
    ("runs",): (0, [], []),
    (): (0, [], []),
}
VALUES = ["good.yaml", "uand.yaml", "bad.yaml", "binary.bin", "spec.yaml", "good.db", "corrupt.db", "missing",
          "keep", "new", "new/deeper", ".", "x.csv", "x.jsonl", "[/red]", "-1", "0", "2", "abc",
          "99999999999999999999", "nan", "cpu", "local", "ray", "tms-basic", "ok", "csv"]  # fmt: skip
STRAY = ["--bogus", "--help", "--out", "-x", "extra"]


@st.composite
def command_lines(draw) -> list[str]:
    """A command with mostly well-formed arguments drawn from files of every kind, and now and
    then a stray token."""
    command = draw(st.sampled_from(sorted(COMMANDS)))
    n_pos, options, flags = COMMANDS[command]
    value = st.sampled_from(VALUES)
    args = [draw(value) for _ in range(draw(st.integers(max(0, n_pos - 1), n_pos)))]
    for opt in draw(st.lists(st.sampled_from(options), unique=True)) if options else []:
        args += [opt, draw(value)]
    args += draw(st.lists(st.sampled_from(flags), unique=True)) if flags else []
    if draw(st.integers(0, 9)) == 0:
        args.insert(draw(st.integers(0, len(args))), draw(st.sampled_from(STRAY)))
    return [*command, *args]


PROTECTED = ["good.yaml", "uand.yaml", "bad.yaml", "binary.bin", "spec.yaml", "keep/mine.txt"]


def _prepare(root: Path) -> None:
    from superpose.store import Outcome, RunStore

    (root / "good.yaml").write_text("n_features: 3\nn_hidden: 2\ntrain: {steps: 2}\n")
    (root / "uand.yaml").write_text("construction: uand\nm: 6\nd: 40\ns: 2\n")
    (root / "bad.yaml").write_text("n_features: -3\n[/red]: 1\n")
    (root / "binary.bin").write_bytes(b"\xff\x00\xfe" * 50)
    (root / "spec.yaml").write_text("name: s\ntoy: {n_features: 3}\naxes: {n_hidden: [1, 2]}\n")
    (root / "keep").mkdir()
    (root / "keep" / "mine.txt").write_text("mine")
    with RunStore(root / "good.db", writer=True, create=True) as db:
        db.claim("id", {"description": "[/red] d", "axes": ["x"]})
        db.plan([("k0", 0, {"x": "[/red]"}, {"x": 0})])
        db.finish("k0", Outcome(status="ok", metrics={"y": 1.0}, started=0.0, finished=1.0))
    (root / "corrupt.db").write_bytes((root / "good.db").read_bytes()[:100] + b"\x13" * 5000)


@pytest.fixture(scope="module")
def stubs():
    """Replace the heavy work by stubs for the whole module (restored afterwards)."""
    bench = importlib.import_module("superpose.bench")
    construction = importlib.import_module("superpose.circuits.construction")
    ex = importlib.import_module("superpose.experiments")
    cli_ex = importlib.import_module("superpose.cli.experiments")
    driver = importlib.import_module("superpose.sweep.driver")
    toy_train = importlib.import_module("superpose.toy.train")
    from superpose.toy.config import ToyConfig

    tiny = toy_train.train(ToyConfig(n_features=3, n_hidden=2, train={"steps": 2}), False)

    def fake_experiment(exp, ctx, config=None):
        ctx.out_dir.mkdir(parents=True, exist_ok=True)
        return {"name": exp.name, "status": "ok", "claims": [], "seconds": 0.0, "cpu_seconds": 0.0}

    def fake_parallel(todo, total, out, quick, dev, workers):
        # `reproduce --jobs N` runs experiments in spawned workers, where the stub above does not
        # reach: stub the pool too
        for _, exp in todo:
            (out / exp.name).mkdir(parents=True, exist_ok=True)
        return [{"name": e.name, "status": "ok", "claims": [], "seconds": 0.0} for _, e in todo]

    def fake_build(*args, **kwargs):
        raise SuperposeError("stub: build skipped in the fuzz")

    saved = [
        (toy_train, "train", lambda cfg, *a, **k: tiny),
        (ex, "run_experiment", fake_experiment),
        (cli_ex, "_run_parallel", fake_parallel),
        (bench, "run_benchmarks", lambda *a, **k: []),
        (driver, "run_tasks", lambda *a, **k: driver.GridOutcome(results=[])),
        (construction, "build", fake_build),
    ]
    old = [(mod, name, getattr(mod, name)) for mod, name, _ in saved]
    for mod, name, new in saved:
        setattr(mod, name, new)
    yield
    for mod, name, value in old:
        setattr(mod, name, value)


def _snapshot(root: Path) -> dict[str, bytes]:
    return {p: (root / p).read_bytes() for p in PROTECTED if (root / p).is_file()}


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(argv=command_lines())
def test_every_command_ends_cleanly_on_generated_arguments(stubs, argv):
    from superpose.cli import main

    root = Path(tempfile.mkdtemp(prefix="fuzz-"))
    old_cwd, old_argv = os.getcwd(), list(os.sys.argv)
    err, out = io.StringIO(), io.StringIO()
    try:
        _prepare(root)
        before = _snapshot(root)
        os.chdir(root)
        os.sys.argv = ["superpose", *argv]
        code = 0
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            try:
                main()
            except SystemExit as stop:
                code = stop.code if isinstance(stop.code, int) else 1
        text = err.getvalue()
        event(f"exit {code}")
        assert "Traceback" not in text, text
        errors = [line for line in text.splitlines() if line.startswith("error:")]
        assert len(errors) <= 1, text
        if code not in (0, 130) and not errors:  # a bare group: its help, no error line
            assert not text.strip() or "Usage" in text + out.getvalue(), text
        stray = [p for p in root.rglob("*") if p.name.endswith(TEMP_SUFFIX)]
        assert stray == [], stray
        outs = {argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "--out"}
        changed = [p for p, data in before.items() if p not in outs and _read(root / p) != data]
        assert changed == [], changed
    finally:
        os.chdir(old_cwd)
        os.sys.argv = old_argv
        shutil.rmtree(root, ignore_errors=True)


def _read(path: Path) -> bytes | None:
    return path.read_bytes() if path.is_file() else None


def test_the_fuzz_covers_every_config_model():
    names = {c.__name__ for c in CONFIGS}
    assert {"ToyConfig", "TrainConfig", "CiS2Config", "UAndConfig", "SweepSpec"} <= names
    assert superpose.__version__
