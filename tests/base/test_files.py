"""base.files: atomic writes."""

from superpose.base.files import atomic_write


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
