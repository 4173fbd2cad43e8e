"""base.files: atomic writes and staged save folders."""

import json

import pytest

from superpose.base.errors import SuperposeError
from superpose.base.files import atomic_write, staged_folder


def test_atomic_write_through_a_symlink_keeps_the_link(tmp_path):
    """A symlinked output path (e.g. `runs export --out link.csv`) updates the file it points
    to; the link stays a link (it used to be replaced by a regular file, the target left stale)."""
    real = tmp_path / "data" / "real.csv"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    atomic_write(link, "new")
    assert link.is_symlink() and real.read_text() == "new"
    plain = tmp_path / "plain.csv"
    atomic_write(plain, "x")
    assert plain.read_text() == "x" and not plain.is_symlink()


def _save(out, names=("config.yaml", "record.json")):
    """A toy save: config.yaml and its record (the marker), written through staged_folder."""
    with staged_folder(out, names, ("record.json", "schema_version")) as tmp:
        (tmp / "config.yaml").write_text("new")
        (tmp / "record.json").write_text(json.dumps({"schema_version": 1}))


def test_a_users_file_with_a_saved_name_is_not_taken_for_a_save(tmp_path):
    """A folder holding only the user's config.yaml was replaced (the name alone made it a save)."""
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "config.yaml").write_text("my notes")
    with pytest.raises(SuperposeError, match="is not a previous save"):
        _save(tmp_path / "mine")
    assert [p.name for p in (tmp_path / "mine").iterdir()] == ["config.yaml"]
    assert (tmp_path / "mine" / "config.yaml").read_text() == "my notes"


def test_a_save_replaces_a_previous_save_whole(tmp_path):
    """A file of the previous save that this one does not write (another construction's errors)
    goes with it; a new save and a save over a save both end as one save."""
    out = tmp_path / "s"
    names = ("config.yaml", "record.json", "errors.json")
    _save(out, names)
    (out / "errors.json").write_text("{}")  # as a save that measured errors leaves it
    _save(out, names)
    assert sorted(p.name for p in out.iterdir()) == ["config.yaml", "record.json"]
    (out / "config.yaml").unlink()
    (out / "config.yaml").mkdir()  # a folder where the save writes a file: refused, not half-done
    (out / "record.json").write_text(json.dumps({"schema_version": 0}))
    with pytest.raises(SuperposeError, match="is a folder where the save writes a file"):
        _save(out, names)
    assert json.loads((out / "record.json").read_text()) == {"schema_version": 0}
