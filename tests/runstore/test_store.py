"""The run store: atomic rows keyed by config hash, one writer, one sweep per store, exact round trips."""

import math
import os
import sqlite3

import pytest
import torch

from superpose.base.errors import SuperposeError
from superpose.base.serial import from_jsonable, to_jsonable
from superpose.store import Outcome, RunStore, artifacts_dir


def _store(tmp_path, sweep="s1"):
    db = RunStore(tmp_path / "runs.db", writer=True, create=True)
    db.claim(sweep, {"description": sweep})
    return db


def test_encode_decode_round_trip_is_exact():
    value = {
        "w": torch.randn(2, 3, generator=torch.Generator().manual_seed(0)),
        "n": torch.tensor([1, 2], dtype=torch.int64),
        "s": 0.1,
        "nan": float("nan"),
        "list": [1, (2, 3)],
    }
    back = from_jsonable(to_jsonable(value, exact=True))
    assert torch.equal(back["w"], value["w"]) and back["w"].dtype == torch.float32
    assert torch.equal(back["n"], value["n"]) and back["n"].dtype == torch.int64
    assert back["s"] == 0.1 and math.isnan(back["nan"]) and back["list"] == [1, [2, 3]]


def test_plan_finish_and_no_duplicates(tmp_path):
    with _store(tmp_path) as db:
        db.plan([("a", 0, {"x": 1}, {"x": 1}), ("b", 1, {"x": 2}, {"x": 2})])
        db.plan([("a", 0, {"x": 1}, {"x": 1})])  # planned again: ignored, not duplicated
        db.finish("a", Outcome(status="ok", metrics={"y": 1.5}, started=1.0, finished=3.0))
        db.finish("b", Outcome(status="error", started=1.0, finished=2.0, error="E: boom"))
        with pytest.raises(SuperposeError, match="not planned"):
            db.finish("zzz", Outcome(status="ok", metrics={}, started=0.0, finished=0.0))
        runs = db.runs()
        assert [r.key for r in runs] == ["a", "b"]
        assert runs[0].metrics == {"y": 1.5} and runs[0].seconds == 2.0
        assert runs[1].error == "E: boom" and db.counts() == {"pending": 0, "ok": 1, "error": 1}
        assert db.get("1").key == "b" and db.get("a").idx == 0
        with pytest.raises(SuperposeError, match="no run"):
            db.get("q")
    assert artifacts_dir(tmp_path / "runs.db") == tmp_path / "runs-artifacts"
    mode = sqlite3.connect(tmp_path / "runs.db").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_store_of_another_sweep_is_refused_and_left_unchanged(tmp_path):
    with _store(tmp_path, "s1") as db:
        db.plan([("a", 0, {}, {})])
    with RunStore(tmp_path / "runs.db", writer=True) as db:
        with pytest.raises(SuperposeError, match="holds another sweep"):
            db.claim("s2", {})
        assert [r.key for r in db.runs()] == ["a"] and db.meta()["sweep_id"] == "s1"


def test_second_writer_is_locked_out_until_the_first_closes(tmp_path):
    first = _store(tmp_path)
    with pytest.raises(SuperposeError, match="in use by another sweep process"):
        RunStore(tmp_path / "runs.db", writer=True)
    reader = RunStore(tmp_path / "runs.db")  # readers are always welcome (WAL)
    assert reader.counts()["ok"] == 0
    reader.close()
    first.close()
    RunStore(tmp_path / "runs.db", writer=True).close()


def test_new_store_makes_its_folders(tmp_path):
    RunStore(tmp_path / "no" / "such" / "runs.db", writer=True, create=True).close()
    assert (tmp_path / "no" / "such" / "runs.db").is_file()
    with pytest.raises(SuperposeError, match="no run store here"):  # readers never create
        RunStore(tmp_path / "other" / "runs.db")
    assert not (tmp_path / "other").exists()


def test_bad_store_paths_give_one_line_errors(tmp_path):
    (tmp_path / "file").write_text("in the way")
    with pytest.raises(SuperposeError, match="cannot make folder"):
        RunStore(tmp_path / "file" / "runs.db", writer=True, create=True)
    assert (tmp_path / "file").read_text() == "in the way"
    with pytest.raises(SuperposeError, match="is a folder"):
        RunStore(tmp_path, writer=True, create=True)
    with pytest.raises(SuperposeError, match="no run store here"):
        RunStore(tmp_path / "absent.db")
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(SuperposeError, match="cannot open as a run store"):
        RunStore(junk)
    assert junk.read_bytes().startswith(b"not a database")  # nothing overwritten
    with pytest.raises(SuperposeError, match="cannot open as a run store"):
        RunStore(junk, writer=True, create=True)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE people (name TEXT)").connection.commit()
    with pytest.raises(SuperposeError, match="not a superpose run store"):
        RunStore(other, writer=True, create=True)
    tables = sqlite3.connect(other).execute("SELECT name FROM sqlite_master").fetchall()
    assert tables == [("people",)]
    # a refused file gets no lock file beside it; one that was there before stays
    assert not (tmp_path / "junk.db.lock").exists() and not (tmp_path / "other.db.lock").exists()
    (tmp_path / "other.db.lock").write_text("")
    with pytest.raises(SuperposeError, match="not a superpose run store"):
        RunStore(other, writer=True, create=True)
    assert (tmp_path / "other.db.lock").exists()
    if os.geteuid() != 0:  # root writes anywhere
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        with pytest.raises(SuperposeError, match="not writable"):
            RunStore(ro / "runs.db", writer=True, create=True)
