"""Run store: one SQLite file (WAL mode) with a row per run, and an artifacts folder next to it.

Finished runs are committed in batches: a batch opens with the first run finished after a commit
and is written and committed COMMIT_SECONDS later in one transaction (by the store's thread,
whatever the sweep is doing then), and always when the store closes (the sweep's end, an error,
Ctrl-C). Until then a batch's rows wait in memory, so the sweep's thread never waits for SQLite.
A crash (kill -9 included) loses at most the runs in flight and those finished in the last
COMMIT_SECONDS, which stay pending and run again on resume; SQLite never applies half a
transaction. Rows are keyed by a hash of the run's config, so none is ever stored twice. A lock
file held with `flock` (released by the OS when the process dies) keeps a second writer out.
"""

from __future__ import annotations

import _thread
import functools
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass, fields
from operator import attrgetter
from pathlib import Path
from typing import Any

from .base.errors import SuperposeError

SCHEMA_VERSION = 1
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
_REST = tuple(c for c in OUTCOME if c != "metrics")  # read off the Outcome as they are
_FINISH = f"UPDATE runs SET metrics=?, {', '.join(f'{c}=?' for c in _REST)} WHERE key=?"
_REST_OF = attrgetter(*_REST)
# columns holding JSON, with the type their value must have (None: any)
_JSON_COLUMNS: dict[str, type | None] = {"point": dict, "config": None, "metrics": dict}


_PLAIN = frozenset({str, int, float, bool, type(None)})


def plain(value: Any) -> bool:
    """A dict of str keys and plain scalars or lists of them (a grid point, most runs' metrics):
    `to_jsonable` copies it unchanged and its JSON reads back equal."""
    if type(value) is not dict:
        return False
    for k, v in value.items():  # a loop, not all(...): a third of the time
        if type(k) is not str:
            return False
        if type(v) not in _PLAIN and not (type(v) is list and all(type(x) in _PLAIN for x in v)):
            return False
    return True


def _canonical() -> Callable[[Any], str]:
    """`json.dumps(value, sort_keys=True, separators=(",", ":"))` of a `plain` value, for the
    ~1 µs per call that json.dumps spends making an encoder: json's C encoder made once (no
    circular check: a plain value nests no deeper than a list), or one JSONEncoder without it."""
    encoder = json.JSONEncoder(sort_keys=True, separators=(",", ":"))
    try:
        from json.encoder import c_make_encoder, encode_basestring_ascii

        fast = c_make_encoder(
            None, encoder.default, encode_basestring_ascii, None, ":", ",", True, False, True
        )
        sample = {"b": [1, 2.5, None, True, "é\n"], "a": float("nan"), "c": -0.0}
        if "".join(fast(sample, 0)) == encoder.encode(sample):
            return lambda value: "".join(fast(value, 0))
    except (ImportError, TypeError, ValueError):  # another Python's json
        pass
    return encoder.encode


_canonical_text = _canonical()


class Encoded(str):
    """JSON text already made by `encode`, handed to `RunStore.plan` so it is not made again."""


def encode(value: Any) -> str:
    """`serial.dumps(value)` (canonical exact JSON), straight through json's encoder for a `plain`
    value: a few µs per run less."""
    if plain(value):
        return _canonical_text(value)
    from .base.serial import dumps

    return dumps(value)


def artifacts_dir(path: str | Path) -> Path:
    """The artifacts folder of the store at `path`: `runs.db` → `runs-artifacts/`."""
    path = Path(path)
    return path.with_name(path.stem + "-artifacts")


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

    A writer has one thread of its own (started by its first batch, or at once when `behind`),
    which commits each batch when due: one thread for the store's life, as starting one waits for
    the OS to schedule it (up to ~20 ms on a loaded machine).

    `behind=True` (a writer that may create): a new store is set up (WAL mode and tables: five
    syncs to disk) by that thread, which then does the `claim` and `plan` asked for meanwhile, in
    order, while the caller goes on (a sweep starts its runs); whatever reads or commits waits for
    it. The same writes in the same order as without, so a crash leaves the same states.
    """

    def __init__(
        self, path: str | Path, *, writer: bool = False, create: bool = False, behind: bool = False
    ):
        self.path = Path(path)
        self.real = Path(os.path.realpath(self.path))
        self.writer = writer
        self.new = False  # made by this writer (so it held nothing before)
        self._lock_fd: int | None = None
        self._batch = threading.RLock()  # the connection, shared with the store's thread
        # the open batch (rows not yet written, when due), the queue and closing; wakes the thread
        self._open = threading.Condition(threading.Lock())
        self._rows: list[tuple[Any, ...]] = []
        self._due: float | None = None  # when the open batch is to be committed (monotonic)
        self._closing = False
        self._thread: int | None = None  # the store's thread (its ident, set by the thread)
        self._started = False
        self._failed: BaseException | None = None  # a timed commit's error, raised by the next call
        self._planned: set[str] = set()  # keys planned through this store (others are looked up)
        self._ready: threading.Event | None = None  # set once a new store is made (`behind`)
        self._queue: list[Callable[[], None]] | None = None  # writes it does next; None once done
        self._broken: BaseException | None = None  # why it failed, raised by each call after
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
            self.new = create and not self.path.exists()  # looked at holding the lock
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
            if writer and self.new and behind:
                self._queue, self._ready = [], threading.Event()
                self._start()
            elif writer:
                self._set_up()
            elif not tables:
                raise SuperposeError(f"{self.path}: not a superpose run store (no runs table)")
        except SuperposeError:
            self._unlock()
            raise
        except sqlite3.DatabaseError as err:
            self._unlock()
            raise SuperposeError(f"{self.path}: cannot open as a run store ({err})") from None

    def _set_up(self) -> None:
        """WAL mode and the tables (made if missing); NORMAL first: the switch to WAL then syncs
        once less."""
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(f"BEGIN; {_SCHEMA} COMMIT;")

    # the store's thread -----------------------------------------------------------------------
    def _start(self) -> None:
        """Start the store's thread (not waiting for it to be scheduled, as `Thread.start` does)."""
        self._started = True
        _thread.start_new_thread(self._run, ())

    def _run(self) -> None:
        """The store's thread: makes a new store (`behind`), then commits each batch when due,
        until the store closes."""
        self._thread = threading.get_ident()
        if self._ready is not None:
            self._make()
        while True:
            with self._open:
                while not self._closing:
                    wait = None if self._due is None else self._due - time.monotonic()
                    if wait is not None and wait <= 0:
                        break
                    self._open.wait(wait)
                else:
                    return
            try:  # an error is given to the sweep's thread at its next call
                with self._batch:
                    if self._closing:
                        return
                    due = self._due
                    if due is not None and due <= time.monotonic():  # not committed meanwhile
                        self.commit()
            except BaseException as err:
                self._failed = err
                return

    def _make(self) -> None:
        """Set a new store up, then do the writes queued meanwhile."""
        assert self._ready is not None
        try:
            try:
                self._set_up()
            except sqlite3.DatabaseError as err:
                raise SuperposeError(f"{self.path}: cannot open as a run store ({err})") from None
            while True:
                with self._open:
                    if not self._queue:
                        self._queue = None
                        return
                    op = self._queue.pop(0)
                op()
        except BaseException as err:
            self._broken = err
            with self._open:
                self._queue = None
        finally:
            self._ready.set()

    def _soon(self, write: Callable[[], None]) -> None:
        """Do `write` now, or after the writes before it when a new store is being made."""
        with self._open:
            if self._queue is not None:
                self._queue.append(write)
                return
        self._made()
        write()

    def _made(self) -> None:
        """Wait until a new store is made and its queued writes done; raise what went wrong."""
        if self._ready is not None and threading.get_ident() != self._thread:
            self._ready.wait()
        if self._broken is not None:
            raise self._broken

    # locking -----------------------------------------------------------------------------------
    def _lock(self) -> None:
        import fcntl

        lock_path = self.real.with_name(self.real.name + ".lock")
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
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

    def _unlock(self) -> None:
        if self._lock_fd is not None:
            with suppress(OSError):
                os.close(self._lock_fd)  # closing releases the flock
            self._lock_fd = None

    def close(self) -> None:
        """Commit the runs finished since the last commit, then close (and release the lock)."""
        with suppress(Exception):
            self._made()
        with self._open:
            self._closing = True
            self._open.notify()
        with self._batch:
            with suppress(Exception):
                self.commit()
            with suppress(Exception):
                self.db.close()
            self._unlock()

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
        self._made()
        meta = {k: json.loads(v) for k, v in self.db.execute("SELECT key, value FROM meta")}
        if "axes" in meta and not isinstance(meta["axes"], list):
            raise _BadCell("meta 'axes' is not a list")
        return meta

    @_guarded
    def claim(self, sweep_id: str, info: dict[str, Any]) -> None:
        """Bind an empty store to a sweep, or check it holds this sweep; never mixes two sweeps.
        (A new store being made `behind` is bound by the thread making it, being empty.)"""
        from .base.serial import to_jsonable

        rows = {"schema_version": SCHEMA_VERSION, "sweep_id": sweep_id, **info}
        rows.setdefault("created", time.time())
        cells = [(k, json.dumps(to_jsonable(v, exact=True))) for k, v in rows.items()]

        def check_or_bind() -> None:
            meta = self.meta()
            if not meta:
                with self._batch, self.db:
                    self.db.execute("BEGIN IMMEDIATE")
                    self.db.executemany("INSERT INTO meta VALUES (?, ?)", cells)
                return
            if meta.get("schema_version") != SCHEMA_VERSION:
                raise SuperposeError(
                    f"{self.path}: store schema {meta.get('schema_version')!r}, "
                    f"this superpose reads {SCHEMA_VERSION}"
                )
            if meta.get("sweep_id") != sweep_id:
                raise SuperposeError(
                    f"{self.path}: holds another sweep ({meta.get('description', '?')}, id "
                    f"{meta.get('sweep_id')}); use a new --store path (nothing was changed)"
                )

        self._soon(check_or_bind)

    # runs --------------------------------------------------------------------------------------
    @_guarded
    def plan(self, rows: list[tuple[str, int, dict[str, Any], Any]]) -> None:
        """Add (key, idx, point, config) rows as pending; rows already present are left alone. A
        point or config may come as its `Encoded` text."""

        def text(value: Any) -> str:
            return str(value) if type(value) is Encoded else encode(value)

        cells = [(k, i, pt, pt if c is p else text(c)) for k, i, p, c in rows for pt in [text(p)]]

        def insert() -> None:
            with self._batch, self.db:
                self.db.execute("BEGIN IMMEDIATE")
                self.db.executemany(
                    "INSERT OR IGNORE INTO runs (key, idx, point, config, status) "
                    "VALUES (?, ?, ?, ?, 'pending')",
                    cells,
                )

        self._soon(insert)
        self._planned.update(k for k, _, _, _ in rows)

    @_guarded
    def finish(self, key: str, outcome: Outcome) -> str | None:
        """Record a finished run's outcome in the open batch, written and committed with it in one
        transaction (a crash leaves the run either pending or finished, never half). Returns the
        metrics as stored (JSON text)."""
        if self._failed is not None:
            raise self._failed
        if key not in self._planned:
            self._made()
            with self._batch:
                if self.db.execute("SELECT 1 FROM runs WHERE key=?", (key,)).fetchone() is None:
                    raise SuperposeError(f"{self.path}: run {key} was not planned in this store")
            self._planned.add(key)
        metrics = None if outcome.metrics is None else encode(outcome.metrics)
        with self._open:
            self._rows.append((metrics, *_REST_OF(outcome), key))
            if self._due is None:  # the first run of a batch: committed COMMIT_SECONDS from now
                self._due = time.monotonic() + COMMIT_SECONDS
                if self._started:
                    self._open.notify()
                else:
                    self._start()
        return metrics

    @_guarded
    def commit(self) -> None:
        """Write and commit the batch of runs finished since the last commit (if any)."""
        self._made()
        with self._batch:
            with self._open:
                rows, self._rows, self._due = self._rows, [], None
            if not rows:
                return
            with self.db:  # one transaction: all of the batch or (on an error) none of it
                self.db.execute("BEGIN")
                if self.db.executemany(_FINISH, rows).rowcount != len(rows):
                    raise SuperposeError(f"{self.path}: a run of the batch was not in the store")

    @_guarded
    def runs(self, status: str | None = None) -> list[Run]:
        """All runs in grid order (optionally only one status), the open batch's included."""
        self.commit()
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
        self.commit()
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
