"""Atomic file output: every file superpose writes appears whole or not at all.

One helper for single files (`atomic_write`: a temp file in the same folder, fsync, `os.replace`)
and one for folders of files (`staged_folder`: written into a fresh hidden temp folder, then moved
into place), both with the permissions the user's umask gives a new file (not the 0600 of
`mkstemp`). A folder that holds anything but a previous save of ours is refused, never emptied.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from .errors import SuperposeError

TEMP_SUFFIX = ".superpose-tmp"


def umask() -> int:
    """The process's umask (read from /proc on Linux; elsewhere set and restored at once)."""
    with suppress(OSError, ValueError), open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode() -> int:
    return 0o666 & ~umask()


def folder_mode() -> int:
    return 0o777 & ~umask()


def sync(path: str | Path, *, data_only: bool = False) -> None:
    """Put what was written to a file (or a folder's entries) on disk, so it survives a crash of the
    machine: fsync, or fdatasync with `data_only` (the data and size, not the times: one write
    less). OS errors are raised."""
    fd = os.open(path, os.O_RDONLY)
    try:
        (os.fdatasync if data_only else os.fsync)(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    with suppress(OSError):  # some file systems cannot sync a folder
        sync(folder)


def _cannot_write(path: Path, err: OSError) -> SuperposeError:
    return SuperposeError(f"{path}: cannot write ({err.strerror or err})")


def atomic_write(path: str | Path, data: bytes | str | Callable[[Path], None]) -> Path:
    """Write `path` whole or not at all: bytes, text (UTF-8), or `data(tmp_path)` writing a file.

    The temp file sits in the same folder (so `os.replace` is atomic), is fsynced before the
    rename and gets the umask's permissions. OS errors become one line naming `path`. A symlink
    at `path` stays: the file it points to is the one replaced.
    """
    path = Path(path)
    if path.is_symlink():
        path = Path(os.path.realpath(path))
    if path.is_dir():
        raise SuperposeError(f"{path}: is a folder, expected a file path")
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    except OSError as err:
        raise _cannot_write(path, err) from None
    tmp = Path(name)
    try:
        if callable(data):
            os.close(fd)
            data(tmp)
            sync(tmp)
        else:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data.encode() if isinstance(data, str) else data)
                fh.flush()
                os.fsync(fh.fileno())
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise _cannot_write(path, err) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return path


def cache_dir(*parts: str) -> Path:
    """superpose's cache folder, $XDG_CACHE_HOME/superpose (else ~/.cache/superpose), and `parts`
    below it: what is only kept to save time (a compiled step, a trained zoo entry, an allocation)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "superpose", *parts)


def is_temp(name: str) -> bool:
    """A leftover of a write cut short (ours, hidden, never a user's file)."""
    return name.startswith(".") and name.endswith(TEMP_SUFFIX)


def check_out_folder(
    out: str | Path,
    owned: Iterable[str],
    inputs: Iterable[Path] = (),
    folders: Iterable[str] = (),
    marker: tuple[str, str] | None = None,
) -> None:
    """Refuse an output folder that is a file, or holds anything but files named in `owned`, or
    where the save would replace one of the command's `inputs` (a config kept in --out). Each
    owned name is a file unless named in `folders`; one of the other kind in its place is refused
    too (replacing it would fail half-way, leaving a mixed folder). With `marker` (file, key), a
    folder holding owned names is a previous save only if that file is a JSON object with that key
    (a user's own config.yaml or README.md is not replaced because a save writes one too)."""
    out = Path(out)
    owned = set(owned)
    for given in inputs:
        if Path(given).resolve() in {(out / name).resolve() for name in owned}:
            raise SuperposeError(
                f"{given}: the save into {out} would replace it; give another --out or keep the "
                "config elsewhere (nothing was changed)"
            )
    if out.exists() and not out.is_dir():
        raise SuperposeError(f"{out}: exists and is not a folder (--out needs a folder)")
    if out.is_dir():
        try:
            foreign = sorted(
                p.name for p in out.iterdir() if p.name not in owned and not is_temp(p.name)
            )
        except OSError as err:
            raise SuperposeError(f"{out}: cannot read the folder ({err.strerror or err})") from None
        if foreign:
            shown = ", ".join(foreign[:3]) + (", …" if len(foreign) > 3 else "")
            raise SuperposeError(
                f"{out}: folder holds files that are not a previous save ({shown}); "
                "give a new or empty folder (nothing was changed)"
            )
        present = sorted(name for name in owned if (out / name).exists())
        if marker and present and not _marked(out / marker[0], marker[1]):
            raise SuperposeError(
                f"{out}: holds {', '.join(present[:3])} but is not a previous save (its "
                f"{marker[0]} is missing or not ours); give a new or empty folder (nothing was "
                "changed)"
            )
        folders = set(folders)
        for name in present:
            path = out / name
            if path.is_dir() != (name in folders):
                kind, other = ("folder", "file") if path.is_dir() else ("file", "folder")
                raise SuperposeError(
                    f"{path}: is a {kind} where the save writes a {other}; give a new or empty "
                    "folder (nothing was changed)"
                )


def _marked(path: Path, key: str) -> bool:
    """Whether `path` is a JSON object holding `key` (a save's own record of itself)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return False
    return isinstance(data, dict) and key in data


@contextmanager
def staged_folder(
    out: str | Path, owned: Iterable[str], marker: tuple[str, str] | None = None
) -> Iterator[Path]:
    """Yield a fresh temp folder to write files into; on success they land in `out` at once.

    `out` new: the temp folder is made beside it and renamed to `out`. `out` an existing folder
    holding only `owned` files (a previous save): the temp folder is made inside it (same file
    system, writable whenever `out` is), each file replaces its old version and an owned file this
    save does not write (the previous save's, e.g. the errors of another construction) is removed,
    so the folder holds one save. Anything else in `out` (or owned names without the save's
    `marker`, see `check_out_folder`) is refused before anything is written; on failure only the
    temp folder is removed.
    """
    out = Path(out)
    owned = set(owned)
    check_out_folder(out, owned, marker=marker)
    existed = out.is_dir()
    try:
        if not existed:
            out.absolute().parent.mkdir(parents=True, exist_ok=True)
        base = out if existed else out.absolute().parent
        tmp = Path(
            tempfile.mkdtemp(prefix=f".{out.absolute().name}.", suffix=TEMP_SUFFIX, dir=base)
        )
    except OSError as err:
        raise _cannot_write(out, err) from None
    try:
        yield tmp
        written = sorted(p.name for p in tmp.iterdir())
        stray = [n for n in written if n not in owned]
        if stray:
            raise SuperposeError(f"{out}: internal error: unexpected files {stray} in a save")
        for name in written:
            sync(tmp / name)
            os.chmod(tmp / name, file_mode())
        if existed:
            for name in written:
                os.replace(tmp / name, out / name)
            tmp.rmdir()
            for name in sorted(owned - set(written)):
                (out / name).unlink(missing_ok=True)
        else:
            os.chmod(tmp, folder_mode())
            os.replace(tmp, out)
        _fsync_dir(out)
    except OSError as err:
        shutil.rmtree(tmp, ignore_errors=True)
        raise _cannot_write(out, err) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
