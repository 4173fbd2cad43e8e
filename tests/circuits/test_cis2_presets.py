"""Every preset in configs/ that builds CiS2 passes the strict verification, or is a study outside
the regime: named so in its header and refused by default with one line."""

from pathlib import Path

import pytest

from superpose.base.errors import SuperposeError
from superpose.circuits.construction import build, load_construction_config

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
PRESETS = sorted(p for p in CONFIGS.glob("*.yaml") if "construction: cis2" in p.read_text())
STUDY = "STUDY OUTSIDE THE REGIME"


def test_there_are_cis2_presets_of_both_kinds():
    kinds = {STUDY in p.read_text() for p in PRESETS}
    assert kinds == {True, False}


@pytest.mark.slow
@pytest.mark.parametrize("path", PRESETS, ids=lambda p: p.stem)
def test_preset_verified_or_refused_as_a_study(path):
    cfg = load_construction_config(path)
    if STUDY in path.read_text():
        with pytest.raises(SuperposeError) as err:
            build(cfg)
        assert "\n" not in str(err.value) and "verification failed" in str(err.value)
        assert build(cfg.replace(allow_unverified=True)).net.verified is False
    else:
        assert build(cfg).net.verified
