"""Every registered experiment runs in its quick form and writes its claims and figures."""

import json

import pytest

from superpose.experiments import RunContext, registry, run_experiment


def test_registry_covers_the_three_papers():
    names = set(registry())
    assert {"tms-basic", "phase-2x1", "uniform-geometry", "abs-value"} <= names
    assert {"cis2-errors", "cis2-scaling", "cis2-capacity", "cis1-vs-cis2"} <= names
    assert {"uand-errors", "uand-scaling", "uand-deep", "chosen-gates-capacity"} <= names
    for exp in registry().values():
        assert exp.quick_seconds > 0 and exp.full_seconds >= exp.quick_seconds
        assert exp.quick.config_hash() != exp.full.config_hash(), exp.name


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(registry()))
def test_quick_form_runs(name, tmp_path):
    exp = registry()[name]
    rec = run_experiment(exp, RunContext(tmp_path, quick=True, progress=False))
    assert rec["status"] == "ok", rec.get("traceback")
    assert rec["claims"], "an experiment checks at least one claim"
    assert json.loads((tmp_path / "claims.json").read_text()) == rec["claims"]
    for fig in rec["figures"]:
        assert (tmp_path / fig).read_bytes()[:4] == b"\x89PNG"


def test_one_module_per_experiment_named_as_the_experiment():
    from pathlib import Path

    import superpose.experiments as pkg

    folder = Path(pkg.__file__).parent
    for name in registry():
        assert (folder / f"{name.replace('-', '_')}.py").is_file(), name
