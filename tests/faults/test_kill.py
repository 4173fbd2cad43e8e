"""Fault tests (`make faults`): kill -9 a real `superpose` during start-up, mid-run and during a
write, then check the state is resumable (every run stored exactly once), whole (old or new files,
never half) and that no process is left running."""

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.runstore.test_sweep_resume import ctrl_c_as_at_a_terminal

pytestmark = pytest.mark.faults

SPEC = {
    "name": "faults",
    "toy": {"n_features": 4, "n_hidden": 2, "train": {"steps": 4000, "batch_size": 64}},
    "axes": {"features.sparsity": [0.0, 0.5, 0.9]},
    "seeds": 2,
}
TOTAL = 6
SRC = str(Path(__file__).resolve().parents[2] / "src")


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": SRC, "OMP_NUM_THREADS": "1"}


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "superpose", *args]


def _stat(pid: int) -> tuple[int, str] | None:
    """(parent pid, state) of a live process; None when gone (zombies count as gone)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    state, ppid = text.rsplit(")", 1)[1].split()[:2]
    return None if state in "ZX" else (int(ppid), state)


def _workers_of(pid: int) -> list[int]:
    """Spawned pool workers whose parent is `pid`."""
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        st = _stat(int(d.name))
        if st is None or st[0] != pid:
            continue
        try:
            cmd = (d / "cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in cmd:
            out.append(int(d.name))
    return out


def _gone(pids: list[int], within: float = 30.0) -> list[int]:
    """The pids still alive after `within` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        alive = [p for p in pids if _stat(p) is not None]
        if not alive:
            return []
        time.sleep(0.1)
    return alive


def _stored(store: Path) -> list[str]:
    con = sqlite3.connect(store)
    keys = [k for (k,) in con.execute("SELECT key FROM runs WHERE status='ok'")]
    con.close()
    return keys


def _sweep(spec: Path, store: Path, workers: int = 2) -> list[str]:
    return _cli("sweep", str(spec), "--store", str(store), "--workers", str(workers),
                "--no-progress")  # fmt: skip


def _finish_and_check(spec: Path, store: Path) -> None:
    done = subprocess.run(_sweep(spec, store), env=_env(), capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr.decode()
    keys = _stored(store)
    assert len(keys) == TOTAL and len(set(keys)) == TOTAL
    con = sqlite3.connect(store)
    assert con.execute("SELECT COUNT(*) FROM runs").fetchone() == (TOTAL,)
    con.close()


def test_kill_9_during_start_up_leaves_no_worker(tmp_path):
    """The sweep dies right after its first worker is spawned (before the worker could register
    its parent): the worker must die too, every try."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(SPEC))
    store = tmp_path / "runs.db"
    for _ in range(3):
        proc = subprocess.Popen(_sweep(spec, store), env=_env(), stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        workers: list[int] = []
        while not workers and proc.poll() is None:
            assert time.monotonic() < deadline, "no worker started"
            workers = _workers_of(proc.pid)
        proc.kill()
        proc.wait()
        workers = sorted(set(workers))
        assert workers, "the sweep ended before it could be killed"
        # an orphan dies once it has imported superpose and reached its initializer (seconds)
        assert _gone(workers, within=90) == [], "workers outlived their sweep"
    _finish_and_check(spec, store)


def test_kill_9_mid_run_then_rerun_stores_each_run_once(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(SPEC))
    store = tmp_path / "runs.db"
    proc = subprocess.Popen(_sweep(spec, store), env=_env(), stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    seen: list[int] = []
    while proc.poll() is None:
        assert time.monotonic() < deadline, "sweep made no progress"
        seen = sorted(set(seen) | set(_workers_of(proc.pid)))
        if store.exists() and len(_stored_safe(store)) >= 2:
            break
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    kept = _stored_safe(store)
    assert 2 <= len(kept) < TOTAL, "the sweep finished before the kill"
    assert seen and _gone(seen) == []
    _finish_and_check(spec, store)
    assert set(kept) <= set(_stored(store))


def _stored_safe(store: Path) -> list[str]:
    try:
        return _stored(store)
    except sqlite3.OperationalError:  # tables not made yet
        return []


WRITER = """
import sys
from superpose.base.files import atomic_write
path = sys.argv[1]
i = 0
while True:
    i += 1
    atomic_write(path, bytes([i % 251]) * 3_000_000)
"""


def test_kill_9_during_writes_leaves_whole_files(tmp_path):
    """A process replacing a 3 MB file in a loop is killed at random moments: the file is always
    one whole version, with the umask's permissions; no temp file is mistaken for it."""
    target = tmp_path / "data.bin"
    rng = random.Random(0)
    for _ in range(6):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], env=_env())
        while not target.exists():
            assert proc.poll() is None, "the writer died"
            time.sleep(0.01)
        time.sleep(rng.random() * 0.5)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        data = target.read_bytes()
        assert len(data) == 3_000_000 and data.count(data[:1]) == len(data)
        umask = os.umask(0)
        os.umask(umask)
        assert target.stat().st_mode & 0o777 == 0o666 & ~umask
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith(".")] == ["data.bin"]


TRAIN = "n_features: 5\nn_hidden: 2\ntrain: {steps: 300, batch_size: 16}\n"


def test_kill_9_of_train_keeps_the_previous_save(tmp_path):
    """`train --out v` into a previous save, killed at several moments: v is always a whole save
    that loads (old or new); nothing else in the folder around it changes."""
    from superpose.toy.io import load_trained

    cfg = tmp_path / "c.yaml"
    cfg.write_text(TRAIN)
    out = tmp_path / "v"
    run = _cli("train", str(cfg), "--out", str(out), "--no-progress")
    first = subprocess.run(run, env=_env(), capture_output=True, timeout=120)
    assert first.returncode == 0, first.stderr.decode()
    rng = random.Random(1)
    for _ in range(3):
        proc = subprocess.Popen(run, env=_env(), stderr=subprocess.DEVNULL)
        time.sleep(2.0 + rng.random() * 3.0)
        proc.kill()
        proc.wait()
        load_trained(out)  # raises unless whole
        assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml", "v"]


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_reproduce_jobs_2_killed_or_interrupted_leaves_no_worker(tmp_path, sig):
    """`reproduce --jobs 2` with both experiments running: kill -9 of the main process, or Ctrl-C
    (SIGINT to the whole process group, as a terminal sends it), leaves no worker running; Ctrl-C
    ends in exit status 130. Both experiments run 14–20 s of CPU (quick), well past the 3 s wait on
    a faster machine (phase-2x1's 3 s could end inside it)."""
    run = _cli("reproduce", "--only", "learning-dynamics", "uand-scaling", "--jobs", "2", "--out",
               str(tmp_path / "report"), "--no-progress")  # fmt: skip
    proc = subprocess.Popen(
        run,
        env=_env(),
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=ctrl_c_as_at_a_terminal,
    )
    deadline = time.monotonic() + 120
    workers: list[int] = []
    while len(workers) < 2:
        assert proc.poll() is None and time.monotonic() < deadline, "workers did not start"
        workers = sorted(set(workers) | set(_workers_of(proc.pid)))
        time.sleep(0.05)
    time.sleep(3.0)  # into the experiments
    assert proc.poll() is None, "reproduce finished before it could be stopped"
    if sig == signal.SIGINT:
        os.killpg(proc.pid, sig)
    else:
        proc.kill()
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == (130 if sig == signal.SIGINT else -signal.SIGKILL), err
    assert _gone(workers) == [], "workers outlived reproduce"
