"""Resume after a real crash: kill -9 a real `superpose sweep` mid-run, rerun the same command,
and check that every run ends up stored exactly once and no finished run was redone."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

# Runs of ~0.5 s here, longer than the store's commit window (store.COMMIT_SECONDS, 0.2 s), so a
# commit holds about one run and a kill lands with runs left even on a machine several times faster:
# 500-step runs (0.05 s here) let one commit take every run left, and a kill find nothing to cut.
SPEC = {
    "name": "resume",
    "toy": {"n_features": 4, "n_hidden": 2, "train": {"steps": 5000, "batch_size": 1024}},
    "axes": {"features.sparsity": [0.0, 0.3, 0.6, 0.9]},
    "seeds": 2,
}
TOTAL = 8


def _cmd(spec: Path, store: Path, workers: int) -> list[str]:
    return [sys.executable, "-m", "superpose", "sweep", str(spec), "--store", str(store),
            "--workers", str(workers), "--no-progress"]  # fmt: skip


def _env() -> dict[str, str]:
    src = str(Path(__file__).resolve().parents[2] / "src")
    return {**os.environ, "PYTHONPATH": src, "OMP_NUM_THREADS": "1"}


def _finished(store: Path) -> dict[str, tuple]:
    """key → (finished time, metrics) of every run stored as ok (read-only, WAL readers welcome)."""
    if not store.exists():
        return {}
    try:
        con = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=5)
        rows = con.execute("SELECT key, finished, metrics FROM runs WHERE status='ok'").fetchall()
        con.close()
    except sqlite3.OperationalError:  # tables not made yet
        return {}
    return {k: (f, m) for k, f, m in rows}


def ctrl_c_as_at_a_terminal() -> None:
    """In the child: SIGINT handled as at a terminal, even when the tests run in a background job or
    under nohup (which start everything with SIGINT ignored, so Python would not turn it into
    KeyboardInterrupt)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _kill_after(spec: Path, store: Path, workers: int, at_least: int, sig=signal.SIGKILL):
    """Start a sweep, wait until `at_least` runs are stored, send `sig`; return the process."""
    proc = subprocess.Popen(
        _cmd(spec, store, workers),
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=ctrl_c_as_at_a_terminal,
    )
    deadline = time.monotonic() + 120
    while len(_finished(store)) < at_least and proc.poll() is None:
        assert time.monotonic() < deadline, "sweep made no progress"
        time.sleep(0.05)
    proc.send_signal(sig)
    proc.communicate(timeout=60)
    return proc


@pytest.mark.parametrize("workers", [1, pytest.param(2, marks=pytest.mark.slow)])
def test_kill_9_then_rerun_finishes_only_the_rest(tmp_path, workers):
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(SPEC))
    store = tmp_path / "runs.db"
    seen: dict[str, tuple] = {}
    for at_least in (2, 4):  # two crashes at different points
        proc = _kill_after(spec, store, workers, at_least)
        assert proc.returncode == -signal.SIGKILL, "the sweep ended before it could be killed"
        now = _finished(store)
        assert len(now) < TOTAL, "the sweep finished before the kill; make runs slower"
        for key, rec in seen.items():  # nothing finished before a crash was lost or redone
            assert now[key] == rec
        seen = now
    done = subprocess.run(
        _cmd(spec, store, workers), env=_env(), capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert f"({TOTAL - len(seen)} run now, {len(seen)} kept from before)" in done.stderr
    final = _finished(store)
    assert len(final) == TOTAL
    assert all(final[k] == v for k, v in seen.items())
    con = sqlite3.connect(store)
    assert con.execute("SELECT COUNT(*), COUNT(DISTINCT key) FROM runs").fetchone() == (
        TOTAL,
        TOTAL,
    )
    con.close()
    time.sleep(1.5)  # pool workers of the killed sweeps noticed their parent is gone
    orphans = subprocess.run(["pgrep", "-f", f"spawn_main.*{tmp_path.name}"], capture_output=True)
    assert orphans.stdout == b""


def test_ctrl_c_stops_cleanly_and_keeps_finished_runs(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(SPEC))
    store = tmp_path / "runs.db"
    proc = _kill_after(spec, store, 1, 1, sig=signal.SIGINT)
    assert proc.returncode == 130
    kept = _finished(store)
    assert 1 <= len(kept) < TOTAL
    done = subprocess.run(
        _cmd(spec, store, 1), env=_env(), capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0 and f"{len(kept)} kept from before" in done.stderr


# A grid of short runs (~5 ms) in a child process: each run appends its point to a side file as it
# finishes, so the test knows which runs finished whether or not their batch was committed. The
# first run waits until the store is made and planned: a new store is made by the store thread
# while the first runs go, and its making syncs the disk several times, so on a slow disk (a fresh
# machine writing back what it just installed) it outlasted the whole 3 s grid and no batch was
# committed before its end. Run 20 waits until a first batch is committed (at ~0.2 s, with runs
# 0–19 in it): on a fresh clone's CI the 600-run grid once ended before the test saw a batch
# committed with 10 runs finished after it; with the pause, every batch after the first is open
# while the test looks. The runs timed from then on are the grid the tests are about.
_BATCH_CHILD = """
import sqlite3, sys, time
from superpose.sweep import map_grid

def count(where):
    try:
        con = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
        try:
            return con.execute(f"SELECT COUNT(*) FROM runs {where}").fetchone()[0]
        finally:
            con.close()
    except sqlite3.OperationalError:  # not made yet
        return -1

def wait_until(done):
    deadline = time.monotonic() + 60
    while not done() and time.monotonic() < deadline:
        time.sleep(0.01)

def run(point):
    if point["x"] == 0:
        wait_until(lambda: count("") == len(seconds))
    if point["x"] == 20:
        wait_until(lambda: count("WHERE status = 'ok'") > 0)
    t = time.perf_counter()
    while time.perf_counter() - t < point["seconds"]:
        pass
    with open(sys.argv[2], "a") as f:
        f.write(f"{point['x']}\\n")
    return {"y": 2 * point["x"]}

seconds = [float(s) for s in sys.argv[3].split(",")]
map_grid(run, [{"x": i, "seconds": s} for i, s in enumerate(seconds)], store=sys.argv[1],
         progress=False)
"""


def _batch_child(tmp_path: Path, seconds: list[float]) -> subprocess.Popen:
    script = tmp_path / "grid.py"
    script.write_text(_BATCH_CHILD)
    args = [str(tmp_path / "runs.db"), str(tmp_path / "finished.txt"), ",".join(map(str, seconds))]
    return subprocess.Popen([sys.executable, str(script), *args], env=_env())


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_kill_9_mid_batch_loses_only_the_open_batch_and_resumes_to_the_same_results(tmp_path):
    """Runs are committed in batches (every 0.2 s): kill -9 with finished runs not yet committed
    leaves a whole store holding the committed ones; the rerun runs exactly the rest."""
    seconds = [0.005] * 600
    store, finished = tmp_path / "runs.db", tmp_path / "finished.txt"
    proc = _batch_child(tmp_path, seconds)
    deadline, seen = time.monotonic() + 120, []
    while True:  # some runs committed, and more finished since the last commit
        ended = proc.poll() is not None or time.monotonic() > deadline
        assert not ended, f"the grid ended first; (committed, finished) as polled: {seen[-20:]}"
        committed = len(_finished(store))
        seen.append((committed, len(_lines(finished))))
        if committed and seen[-1][1] >= committed + 10:
            break
        time.sleep(0.01)
    proc.kill()
    proc.wait()
    kept, ran_before = _finished(store), _lines(finished)
    assert 0 < len(kept) < len(ran_before) < len(seconds)  # killed with a batch open
    con = sqlite3.connect(store)
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    statuses = dict(con.execute("SELECT status, COUNT(*) FROM runs GROUP BY status").fetchall())
    assert statuses == {"ok": len(kept), "pending": len(seconds) - len(kept)}
    con.close()
    rerun = _batch_child(tmp_path, seconds)
    assert rerun.wait(timeout=300) == 0
    again = _lines(finished)[len(ran_before) :]
    assert len(again) == len(seconds) - len(kept)  # exactly the runs not committed, once each
    final = _finished(store)
    assert all(final[k] == v for k, v in kept.items())
    con = sqlite3.connect(store)
    rows = con.execute("SELECT point, metrics FROM runs WHERE status='ok'").fetchall()
    con.close()
    assert len(rows) == len(seconds)
    assert all(json.loads(m) == {"y": 2 * json.loads(p)["x"]} for p, m in rows)


def test_runs_finished_before_a_long_run_are_committed_while_it_runs(tmp_path):
    """A batch is committed 0.2 s after its first run finished, whatever runs next: short runs
    followed by a long one are in the store (and safe from a kill) while the long one runs."""
    proc = _batch_child(tmp_path, [0.001] * 5 + [30.0])
    try:
        deadline = time.monotonic() + 60
        while len(_lines(tmp_path / "finished.txt")) < 5:
            assert proc.poll() is None and time.monotonic() < deadline, "the short runs stalled"
            time.sleep(0.01)
        time.sleep(1.0)  # well past the batch's 0.2 s, well inside the long run
        assert proc.poll() is None
        assert len(_finished(tmp_path / "runs.db")) == 5
    finally:
        proc.kill()
        proc.wait()
