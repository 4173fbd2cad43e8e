"""Run store: one SQLite file (WAL mode) with a row per run, and an artifacts folder next to it.

Finished runs are committed in batches: a batch opens with the first run finished after a commit
and is committed COMMIT_SECONDS later (by a thread, whatever the sweep is doing then), and always
when the store closes (the sweep's end, an error, Ctrl-C). A sweep hands its runs to a store thread
(`start`, `submit`) that writes each batch in one statement, so the sweep's own thread only queues
them; a new store is made, claimed and planned by that thread while the first runs go, and it syncs
the write-ahead log after each commit. Closing returns once the last batch is committed and synced
(the results are on disk); the checkpoint and the unlock follow in the store thread. A crash
(kill -9 included) loses at most the runs in flight and those finished since the last commit,
which stay pending and run again on resume; SQLite never applies half a transaction. That is the
last COMMIT_SECONDS, plus the time the disk takes to sync the batch before (or to make a new store:
its first batch waits for that, a few ms on an idle disk, seconds on one busy writing back). Rows are keyed
by a hash of the run's config, so none is ever stored twice. A lock file held with `flock`
(released by the OS when the process dies) keeps a second writer out.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from .base.errors import SuperposeError
from .base.files import sync

SCHEMA_VERSION = 1
SIDE_FILES = ("-wal", "-shm", "-journal", ".lock")  # beside a store: SQLite's and the writer lock
# a batch of finished runs is committed this long after its first run finished: a transaction per
# run cost ~45 µs CPU and several writes, about 4% of a millisecond run's work
COMMIT_SECONDS = 0.2
STATUSES = ("pending", "ok", "error")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    key TEXT PRIMARY KEY,          -- hash of the run's config (or grid point)
    idx INTEGER NOT NULL,          -- position in the grid
    point TEXT NOT NULL,           -- JSON: the axis values of this run
    config TEXT NOT NULL,          -- JSON: everything the run was given
    status TEXT NOT NULL,          -- pending | ok | error
    metrics TEXT,                  -- JSON: what the run returned
    started REAL, finished REAL, seconds REAL,
    error TEXT, artifact TEXT, worker TEXT
);
CREATE INDEX IF NOT EXISTS runs_status ON runs(status);
"""


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """How one run ended (ok or error): what a worker returns and `RunStore.finish` writes."""

    status: str
    metrics: dict[str, Any] | None = None
    error: str | None = None
    started: float | None = None
    finished: float | None = None
    worker: str | None = None
    artifact: str | None = None

    @property
    def seconds(self) -> float | None:
        if self.started is None or self.finished is None:
            return None
        return self.finished - self.started


@dataclass(frozen=True, kw_only=True)
class Run(Outcome):
    """One row of the store: the planned run (key, grid position, point, config) and its outcome
    (status pending until it finishes)."""

    key: str
    idx: int
    point: dict[str, Any]
    config: Any

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in COLUMNS}

    def scalars(self) -> dict[str, float]:
        """Numeric scalar metrics (bools as 0/1), by name: what tables and heat-maps show."""
        out: dict[str, float] = {}
        for k, v in (self.metrics or {}).items():
            if isinstance(v, bool | int | float) and v is not None:
                out[k] = float(v)
            elif isinstance(v, dict) and "__tensor__" in v and len(v["__tensor__"]) == 1:
                out[k] = float(v["__tensor__"][0])
        return out


# the runs table's columns, in order: the planned run, then its outcome (seconds = finished − started)
PLANNED = ("key", "idx", "point", "config")
OUTCOME = ("status", "metrics", "started", "finished", "seconds", "error", "artifact", "worker")
COLUMNS = PLANNED + OUTCOME
# a batch's runs are written in one statement per _CHUNK runs (the store thread waits for the
# interpreter lock after each SQLite call; a statement per run would wait that many times)
_OUTCOME_ROW = ("key", *OUTCOME)
_CHUNK = 999 // len(_OUTCOME_ROW)  # SQLite before 3.32 takes at most 999 ? per statement
_PLAN_CHUNK = 999 // len(PLANNED)  # the grid is planned in one INSERT per this many runs


@functools.cache
def _plan_many(n: int) -> str:
    """INSERT of n planned (key, idx, point, config) runs as pending; ones present are left alone."""
    rows = ", ".join(["(" + "?, " * len(PLANNED) + "'pending')"] * n)
    return f"INSERT OR IGNORE INTO runs ({', '.join(PLANNED)}, status) VALUES {rows}"


@functools.cache
def _finish_many(n: int) -> str:
    """UPDATE of n runs' outcomes from (key, *OUTCOME) rows."""
    cols = ", ".join(f"{c}=u.column{i + 2}" for i, c in enumerate(OUTCOME))
    rows = ", ".join(["(" + ", ".join("?" * len(_OUTCOME_ROW)) + ")"] * n)
    return f"UPDATE runs SET {cols} FROM (VALUES {rows}) AS u WHERE runs.key = u.column1"


# columns holding JSON, with the type their value must have (None: any)
_JSON_COLUMNS: dict[str, type | None] = {"point": dict, "config": None, "metrics": dict}


_PLAIN = frozenset({str, int, float, bool, type(None)})


def plain(value: Any) -> bool:
    """A dict of str keys and plain scalars (a grid point, most runs' metrics): `to_jsonable` copies
    it unchanged and its JSON reads back equal."""
    return type(value) is dict and all(
        type(k) is str and type(v) in _PLAIN for k, v in value.items()
    )


# what `json.dumps(v, sort_keys=True, separators=(",", ":"))` builds on every call, built once
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"))


def encode(value: Any) -> str:
    """`serial.dumps(value)` (canonical exact JSON), straight through one JSON encoder for a `plain`
    value: a few µs per run less."""
    if plain(value):
        return _ENCODER.encode(value)
    from .base.serial import dumps

    return dumps(value)


def artifacts_dir(path: str | Path) -> Path:
    """The artifacts folder of the store at `path`: `runs.db` → `runs-artifacts/`."""
    path = Path(path)
    return path.with_name(path.stem + "-artifacts")


# stores this process closes in the background (`RunStore.close`): path → closing thread
_CLOSING: dict[Path, threading.Thread] = {}
_CLOSING_LOCK = threading.Lock()


_STARTED: weakref.WeakSet[RunStore] = weakref.WeakSet()  # stores whose store thread was started


@atexit.register
def _close_at_exit() -> None:
    """An exiting interpreter closes the stores left open (their last batch committed and synced)
    and waits for their store threads to close them (a minute at most)."""
    for store in list(_STARTED):
        with suppress(Exception):
            store.close()
        if store._thread is not None:
            store._thread.join(timeout=60)


def _wait_closing(real: Path) -> None:
    """Wait until a store at `real` this process was closing is closed (and its lock released)."""
    with _CLOSING_LOCK:
        thread = _CLOSING.get(real)
    if thread is not None and thread is not threading.current_thread():
        thread.join()


class _BadCell(ValueError):
    """A row whose JSON cells do not decode to what a run holds."""


class CorruptStore(SuperposeError):
    """The store file opened but its pages or cells cannot be read."""


def _guarded(method: Callable[..., Any]) -> Callable[..., Any]:
    """A store read or write whose SQLite or JSON failure becomes one line naming the store."""

    @functools.wraps(method)
    def wrapper(self: RunStore, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.DatabaseError as err:
            raise CorruptStore(
                f"{self.path}: run store unreadable ({err}); it is damaged"
            ) from None
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError, _BadCell) as err:
            raise CorruptStore(f"{self.path}: run store holds a damaged cell ({err})") from None

    return wrapper


class RunStore:
    """An open run store. `writer=True` takes the lock; readers may open it at any time.

    The lock, the database and the artifacts folder are keyed on the resolved path (`real`), so
    the same store reached through a symlink or another relative path is the same store.
    """

    def __init__(
        self, path: str | Path, *, writer: bool = False, create: bool = False, later: bool = False
    ):
        self.path = Path(path)
        self.real = Path(os.path.realpath(self.path))
        self.writer = writer
        self._lock_fd: int | None = None
        self._made_lock: Path | None = None  # the lock file, when this open made it
        self._batch = threading.RLock()  # the connection, shared with the store thread
        self._failed: BaseException | None = None  # the store thread's error, for the next call
        self._thread: threading.Thread | None = None  # the store thread (`start`), kept once
        # started: `close` then only asks it to finish
        self._queue: list[tuple[str, Outcome, str | None]] = []  # finished runs not yet written
        self._wake = threading.Condition()
        self._first = 0.0  # when the first run of the open batch was handed over (monotonic)
        self._closing = False
        self._durable = threading.Event()
        _wait_closing(self.real)
        if not self.path.exists() and not create:
            raise SuperposeError(f"{self.path}: no run store here (run a sweep into it first)")
        if self.path.is_dir():
            raise SuperposeError(f"{self.path}: is a folder, a run store must be a file path")
        if create and not self.path.exists():
            parent = self.path.parent
            try:  # like any output path: its folders are made as needed
                parent.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                raise SuperposeError(
                    f"{self.path}: cannot make folder {parent} ({err.strerror or err})"
                ) from None
            if not os.access(parent, os.W_OK):
                raise SuperposeError(f"{self.path}: folder {parent} is not writable")
        if writer:
            self._lock()
        # a writer holds the lock, so no other process makes the file between this and opening it
        self.new = not self.real.exists()
        if not (later and writer and self.new):  # else opened (its first syncs made) by `start`
            self._open()

    def _open(self) -> None:
        try:
            self.db = sqlite3.connect(
                self.real, timeout=30, isolation_level=None, check_same_thread=False
            )
            tables = self._tables()
            if tables and not {"meta", "runs"} <= tables:
                self.db.close()
                raise SuperposeError(
                    f"{self.path}: an SQLite file but not a superpose run store (tables: "
                    f"{', '.join(sorted(tables))}); nothing was changed"
                )
            if self.writer:  # NORMAL first: the switch to WAL then syncs once less
                self.db.execute("PRAGMA synchronous=NORMAL")
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.executescript(f"BEGIN; {_SCHEMA} COMMIT;")
            elif not tables:
                raise SuperposeError(f"{self.path}: not a superpose run store (no runs table)")
        except SuperposeError:
            self._unlock(refused=True)
            raise
        except sqlite3.DatabaseError as err:
            self._unlock(refused=True)
            raise SuperposeError(f"{self.path}: cannot open as a run store ({err})") from None

    # locking -----------------------------------------------------------------------------------
    def _lock(self) -> None:
        import fcntl

        lock_path = self.real.with_name(self.real.name + ".lock")
        try:
            try:  # made here: removed again if the store is refused (`_unlock(refused=True)`)
                fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
                self._made_lock = lock_path
            except FileExistsError:
                fd = os.open(lock_path, os.O_RDWR)
        except OSError as err:
            raise SuperposeError(
                f"{self.path}: cannot write a run store here ({err.strerror or err})"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise SuperposeError(
                f"{self.path}: in use by another sweep process (pid {holder}); wait or kill it"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._lock_fd = fd

    def _unlock(self, refused: bool = False) -> None:
        """Release the writer lock; `refused`: the file is no run store, so a lock file this open
        made goes too (removed while still held: no other writer can have it)."""
        if refused and self._made_lock is not None and self._lock_fd is not None:
            with suppress(OSError):
                self._made_lock.unlink()
        if self._lock_fd is not None:
            with suppress(OSError):
                os.close(self._lock_fd)  # closing releases the flock
            self._lock_fd = None

    def close(self, check: bool = False) -> None:
        """Commit the runs finished since the last commit, then close (and release the lock).

        With a store thread: returns once its last batch is committed and synced to disk; the
        thread then closes the database (its checkpoint) and releases the lock, and a later open of
        this store in this process waits for that. `check`: raise the store thread's error, if any.
        """
        if self._thread is not None:
            with self._wake:
                self._closing = True
                self._wake.notify()
            self._durable.wait()
            if check and self._failed is not None:
                raise self._failed
            return
        with self._batch:
            with suppress(Exception):
                self.db.close()
            self._unlock()

    # the store thread --------------------------------------------------------------------------
    def start(self, setup: Callable[[], None] | None = None) -> None:
        """Start the store thread: it opens a new store first if `RunStore(later=True)` left that
        to it, runs `setup` (claim and plan), then writes the runs handed to `submit` in batches,
        each committed COMMIT_SECONDS after its first run was handed over."""
        if self._thread is not None:
            raise RuntimeError("the store thread runs already")
        from .base import serial  # noqa: F401  imported here: `claim` needs it, and a thread
        # importing it at the interpreter's exit could not (nor could one importing it meanwhile)

        opened = hasattr(self, "db")
        self._thread = threading.Thread(
            target=self._serve, args=(opened, setup), name="superpose-store", daemon=True
        )
        self._thread.start()
        _STARTED.add(self)

    def submit(self, key: str, outcome: Outcome, metrics: str | None = None) -> None:
        """Hand a finished run (and its metrics as JSON text, when already made) to the store
        thread, to be written in the open batch; raises the store thread's error, if any."""
        if self._failed is not None:
            raise self._failed
        with self._wake:
            if not self._queue:
                self._first = time.monotonic()
                self._wake.notify()
            self._queue.append((key, outcome, metrics))

    def _serve(self, opened: bool, setup: Callable[[], None] | None) -> None:
        try:
            if not opened:
                self._open()
            if setup is not None:
                setup()
        except BaseException as err:  # given to the sweep's thread at its next call
            self._failed = err
        while True:
            with self._wake:
                while not self._queue and not self._closing:
                    self._wake.wait()
                due = self._first + COMMIT_SECONDS
                while not self._closing and (left := due - time.monotonic()) > 0:
                    self._wake.wait(left)
                rows, self._queue, closing = self._queue, [], self._closing
            if rows and self._failed is None:
                try:
                    self._write(rows)
                    if not closing:  # on disk now, here: the sync at the close has less to write
                        self._sync()
                except BaseException as err:
                    self._failed = err
            if closing:
                break
        if self._failed is None:
            try:
                self._sync()
            except BaseException as err:
                self._failed = err
        with _CLOSING_LOCK:
            _CLOSING[self.real] = threading.current_thread()
        self._durable.set()
        with self._batch:
            if hasattr(self, "db"):
                with suppress(Exception):
                    self.db.close()
            self._unlock()
        with _CLOSING_LOCK:
            _CLOSING.pop(self.real, None)

    @_guarded
    def _write(self, rows: list[tuple[str, Outcome, str | None]]) -> None:
        """Write a batch of finished runs, one UPDATE per `_CHUNK` runs, in one transaction."""
        values: list[Any] = []
        for key, o, text in rows:
            if text is None and o.metrics is not None:
                text = encode(o.metrics)
            values += (key, o.status, text, o.started, o.finished, o.seconds, o.error, o.artifact,
                       o.worker)  # fmt: skip
        with self._batch, self.db:
            self.db.execute("BEGIN IMMEDIATE")
            changed = self._chunked(_finish_many, values, len(_OUTCOME_ROW), _CHUNK)
            if changed != len(rows):
                raise SuperposeError(f"{self.path}: {len(rows) - changed} runs were not planned")

    def _chunked(
        self, statement: Callable[[int], str], values: list[Any], per: int, chunk: int
    ) -> int:
        """Run `statement(n)` on the rows of `values` (`per` values a row), at most `chunk` rows a
        statement (a statement per row would wait for the interpreter lock that many times); the
        number of rows changed."""
        changed, rows = 0, len(values) // per
        for at in range(0, rows, chunk):
            n = min(chunk, rows - at)
            changed += self.db.execute(statement(n), values[per * at : per * (at + n)]).rowcount
        return changed

    def _sync(self) -> None:
        """Put the committed runs on disk (the write-ahead log they are in; SQLite syncs the
        folder when it makes the log): after this, they survive a crash of the machine too."""
        with suppress(FileNotFoundError):
            sync(self.real.with_name(self.real.name + "-wal"), data_only=True)

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _tables(self) -> set[str]:
        rows = self.db.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall()
        return {r[0] for r in rows}

    # meta --------------------------------------------------------------------------------------
    @_guarded
    def meta(self) -> dict[str, Any]:
        meta = {k: json.loads(v) for k, v in self.db.execute("SELECT key, value FROM meta")}
        if "axes" in meta and not isinstance(meta["axes"], list):
            raise _BadCell("meta 'axes' is not a list")
        if meta and meta.get("schema_version") != SCHEMA_VERSION:  # read by no other version
            raise SuperposeError(
                f"{self.path}: store schema {meta.get('schema_version')!r}, "
                f"this superpose reads {SCHEMA_VERSION}"
            )
        return meta

    @_guarded
    def claim(self, sweep_id: str, info: dict[str, Any]) -> None:
        """Bind an empty store to a sweep, or check it holds this sweep; never mixes two sweeps."""
        from .base.serial import to_jsonable

        meta = self.meta()
        if not meta:
            with self.db:
                self.db.execute("BEGIN IMMEDIATE")
                rows = {"schema_version": SCHEMA_VERSION, "sweep_id": sweep_id, **info}
                rows.setdefault("created", time.time())
                self.db.executemany(
                    "INSERT INTO meta VALUES (?, ?)",
                    [(k, json.dumps(to_jsonable(v, exact=True))) for k, v in rows.items()],
                )
            return
        if meta.get("sweep_id") != sweep_id:
            raise SuperposeError(
                f"{self.path}: holds another sweep ({meta.get('description', '?')}, id "
                f"{meta.get('sweep_id')}); use a new --store path (nothing was changed)"
            )

    # runs --------------------------------------------------------------------------------------
    @_guarded
    def plan(
        self, rows: list[tuple[str, int, dict[str, Any], Any]], texts: list[str] | None = None
    ) -> None:
        """Add (key, idx, point, config) rows as pending; rows already present are left alone.
        `texts`: the points' `encode`d JSON, when already made (a row's config is its point)."""
        if texts is not None:
            values = [v for (k, i, _, _), t in zip(rows, texts, strict=True) for v in (k, i, t, t)]
        else:
            values = [
                v
                for k, i, p, c in rows
                for pt in [encode(p)]
                for v in (k, i, pt, pt if c is p else encode(c))
            ]
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self._chunked(_plan_many, values, len(PLANNED), _PLAN_CHUNK)

    def finish(self, key: str, outcome: Outcome) -> str | None:
        """Record one finished run's outcome, committed on return (a crash leaves the run either
        pending or finished, never half); a sweep hands its runs to the store thread instead
        (`submit`). Returns the metrics as stored (JSON text)."""
        metrics = None if outcome.metrics is None else encode(outcome.metrics)
        self._write([(key, outcome, metrics)])
        return metrics

    @_guarded
    def runs(self, status: str | None = None) -> list[Run]:
        """All runs in grid order (optionally only one status)."""
        sql = "SELECT * FROM runs" + (" WHERE status=?" if status else "") + " ORDER BY idx"
        cur = self.db.execute(sql, (status,) if status else ())
        names = [d[0] for d in cur.description]
        return [_row(dict(zip(names, r, strict=True))) for r in cur.fetchall()]

    def __iter__(self) -> Iterator[Run]:
        return iter(self.runs())

    def get(self, ref: str) -> Run:
        """A run by key (or unique key prefix) or by grid index."""
        runs = self.runs()
        if ref.isdigit():
            hits = [r for r in runs if r.idx == int(ref)]
        else:
            hits = [r for r in runs if r.key.startswith(ref)]
        if len(hits) != 1:
            what = "no run" if not hits else f"{len(hits)} runs"
            raise SuperposeError(f"{self.path}: {what} match {ref!r} (give a grid index or key)")
        return hits[0]

    @_guarded
    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(STATUSES, 0)
        for status, n in self.db.execute("SELECT status, COUNT(*) FROM runs GROUP BY status"):
            out[status] = n
        return out


def _row(r: dict[str, Any]) -> Run:
    """The Run of a row read from the runs table, its JSON cells decoded and type-checked."""

    def load(column: str, kind: type | None) -> Any:
        text = r[column]
        if text is None:
            return None
        try:
            value = json.loads(text)
        except (json.JSONDecodeError, TypeError, UnicodeDecodeError, RecursionError):
            value = _BadCell
        if value is _BadCell or (kind is not None and not isinstance(value, kind)):
            raise _BadCell(f"run #{r.get('idx')}: column {column!r} is not valid JSON of a run")
        return value

    return Run(
        **{
            f.name: load(f.name, _JSON_COLUMNS[f.name]) if f.name in _JSON_COLUMNS else r[f.name]
            for f in fields(Run)
        }
    )
