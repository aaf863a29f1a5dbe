"""Every file a command writes goes through here: no store and no stranger's file is ever overwritten.

A mistyped ``--out`` must not cost anyone their data. The rules, in order:

1. The store a command works on is never an output, whatever the flags: the
   path is compared with the store's file (and its ``-wal``/``-shm``/``-journal``
   companions) as the same file on disk, not by name.
2. Any other SafeGround store (recognised by its content: an SQLite file with
   the ``safeground_meta`` table, whatever it is called) and any existing file
   SafeGround did not write is replaced only with an explicit ``--overwrite``.
3. A file SafeGround wrote and nobody changed since may be written again: each
   command records what it wrote (path, size, SHA-256) in the user's state
   folder, so a second run of the same command needs no flag, but an output
   someone edited, or any file of another program, does.

Writes are staged: the command writes into a hidden folder beside the target
(same file system) under the target's own name, and only a complete file is
moved into place with ``os.replace``. A crash, a full disk or an error half-way
leaves the old file as it was and no half file behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from safeground import tabular
from safeground.errors import Param, SafeGroundError

if TYPE_CHECKING:
    from safeground.storage.base import Store

OverwriteOpt = Annotated[
    bool,
    typer.Option(
        "--overwrite",
        help="Replace an existing output file that SafeGround did not write (never the store itself).",
    ),
]

_SQLITE_MAGIC = b"SQLite format 3\x00"
_COMPANIONS = ("-wal", "-shm", "-journal")


class OutputRefused(SafeGroundError):
    """An output path that would destroy a store or a file SafeGround did not write."""


def is_store_file(path: str | Path) -> bool:
    """Is this file a SafeGround store? Decided by content (SQLite with ``safeground_meta``), never by name."""
    p = Path(path)
    try:
        with p.open("rb") as fh:
            if fh.read(16) != _SQLITE_MAGIC:
                return False
    except OSError:
        return False
    try:
        con = sqlite3.connect(f"{p.resolve().as_uri()}?mode=ro", uri=True, timeout=5.0)
    except sqlite3.Error:
        return True  # an SQLite file we cannot open: treat it as precious
    try:
        row = con.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='safeground_meta'").fetchone()
        return row is not None
    except sqlite3.Error:
        return True  # locked or damaged: never guess that it is expendable
    finally:
        con.close()


def _store_of(path: Path) -> Path:
    """The database a ``-wal``/``-shm``/``-journal`` file belongs to (or the path itself)."""
    for suffix in _COMPANIONS:
        if path.name.endswith(suffix):
            return path.with_name(path.name[: -len(suffix)])
    return path


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def _is_the_store(path: Path, store_location: str | None) -> bool:
    from safeground.storage import is_store_url

    if not store_location or is_store_url(store_location):
        return False
    return _same_file(_store_of(path), Path(store_location))


# -- what SafeGround wrote ------------------------------------------------------------
def _state_dir() -> Path:
    base = os.environ.get("SAFEGROUND_STATE_DIR")
    if base:
        return Path(base) / "outputs"
    xdg = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(xdg) / "safeground" / "outputs"


def _entry(path: Path) -> Path:
    return _state_dir() / hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:40]


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _record_made(path: Path) -> None:
    """Remember that SafeGround wrote this exact content here (best effort: a read-only home only costs a flag)."""
    try:
        entry = _entry(path)
        entry.parent.mkdir(parents=True, exist_ok=True)
        data = {"path": str(path.resolve()), "size": path.stat().st_size, "sha256": _digest(path)}
        tmp = entry.with_name(entry.name + f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(tmp, entry)
    except OSError:
        pass


def record_made(path: str | Path) -> None:
    """Remember a file written outside :func:`staged_folder` (e.g. a generated store moved into place)."""
    _record_made(Path(path))


def made_by_safeground(path: str | Path) -> bool:
    """Did SafeGround write this file, unchanged since? (Size and SHA-256 as recorded when it was written.)"""
    p = Path(path)
    try:
        data = json.loads(_entry(p).read_text(encoding="utf-8"))
        return bool(
            data.get("path") == str(p.resolve())
            and data.get("size") == p.stat().st_size
            and data.get("sha256") == _digest(p)
        )
    except (OSError, ValueError):
        return False


# -- a store of generated data only --------------------------------------------------
_FINGERPRINT_KEY = "generator.fingerprint"


def _content_fingerprint(store: Store) -> str:
    """Every record's uid and version in every layer: an import, a form, a sync or an edit through SafeGround
    adds a record or a version and changes it."""
    from safeground.model.base import RECORD_TYPES

    h = hashlib.sha256()
    for layer, cls in sorted(RECORD_TYPES.items()):
        h.update(f"\n{layer}".encode())
        for uid, version in sorted(store.current_versions(cls).items()):
            h.update(f"{uid}:{version};".encode())
    return h.hexdigest()


def mark_generated(store: Store) -> None:
    """Called by the generator when the district is written: what the store holds now is generated only."""
    store.set_meta(_FINGERPRINT_KEY, _content_fingerprint(store))


def generated_only(store: Store) -> bool:
    """Does the store hold nothing but the district the generator wrote? Only then may demo/generate replace it.

    True only with the generator's mark, no import recorded, and every record and version exactly as the
    generator left them (a store from before the mark counts as real data: never guess in favour of deleting)."""
    mark = store.get_meta(_FINGERPRINT_KEY)
    if store.get_meta("generator") is None or store.get_meta("imported") is not None or not mark:
        return False
    return mark == _content_fingerprint(store)


# -- the guard ------------------------------------------------------------------------
def guard_output(path: str | Path, *, overwrite: bool, store_location: str | None = None, folder: bool = False) -> Path:
    """Refuse an output path that would replace the store, another store, or a file SafeGround did not write.

    ``folder`` is for commands that write several files into a directory: the
    path must then be a directory (or not exist yet); the files inside are
    guarded one by one when they are moved into place.
    """
    p = Path(path)
    if _is_the_store(p, store_location):
        raise OutputRefused(
            f"{p} is the store this command reads ({store_location}); SafeGround never writes an output over it",
            hint=f"give the output another name, e.g. {Param('out', 'export.csv')}",
        )
    if folder:
        if p.exists() and not p.is_dir():
            raise OutputRefused(
                f"{p} is a file, not a folder: this command writes several files into a folder",
                hint="give a folder name (it is created if it does not exist)",
            )
        return p
    if not p.parent.is_dir():
        raise OutputRefused(
            f"the folder {p.parent} does not exist, so {p.name} cannot be written there",
            hint="create the folder first, or give a path in an existing one",
        )
    if not p.exists() and not p.is_symlink():
        return p
    if p.is_dir():
        raise OutputRefused(f"{p} is a folder, not a file", hint="give a file name inside it")
    if is_store_file(_store_of(p)):
        if not overwrite:
            raise OutputRefused(
                f"{p} is a SafeGround store; SafeGround will not write an output over it",
                hint=f"give the output another name, or add {Param('overwrite')} "
                "if you really mean to replace that store",
            )
        return p
    if not overwrite and not made_by_safeground(p):
        raise OutputRefused(
            f"{p} already exists and SafeGround did not write it (or it was changed since)",
            hint=f"give another name, or add {Param('overwrite')} to replace it",
        )
    return p


@contextmanager
def staged_folder(
    target_dir: str | Path, *, overwrite: bool, store_location: str | None = None, folder: bool = True
) -> Iterator[Path]:
    """A hidden folder beside ``target_dir`` to write outputs into; on success each file is moved into
    ``target_dir`` under its own name, after every one has passed :func:`guard_output` (all or none moved)."""
    target = Path(target_dir)
    if folder:
        guard_output(target, overwrite=overwrite, store_location=store_location, folder=True)
    target.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".safeground-", suffix=".partial", dir=target))
    try:
        yield stage
        made = sorted(p for p in stage.rglob("*") if p.is_file())
        for p in made:
            guard_output(target / p.relative_to(stage), overwrite=overwrite, store_location=store_location)
        for p in made:
            dest = target / p.relative_to(stage)
            dest.parent.mkdir(parents=True, exist_ok=True)
            for suffix in _COMPANIONS:  # a replaced SQLite file must not meet the old one's journal
                Path(f"{dest}{suffix}").unlink(missing_ok=True)
            os.replace(p, dest)
            _record_made(dest)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


@contextmanager
def staged_file(path: str | Path, *, overwrite: bool, store_location: str | None = None) -> Iterator[Path]:
    """Guard ``path`` now (before any work), yield a temporary path of the same name to write, then move it
    into place. Writers that pick the format from the suffix see the real name."""
    p = guard_output(path, overwrite=overwrite, store_location=store_location)
    with staged_folder(p.parent, overwrite=overwrite, store_location=store_location, folder=False) as stage:
        yield stage / p.name


def write_text(path: str | Path, text: str, *, overwrite: bool, store_location: str | None = None) -> Path:
    """The whole text as one staged, guarded file."""
    with staged_file(path, overwrite=overwrite, store_location=store_location) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


@contextmanager
def csv_output(path: str | Path, *, overwrite: bool, store_location: str | None = None) -> Iterator[tabular.SafeWriter]:
    """A guarded, staged CSV output file (see :mod:`safeground.outputs`) and its neutralising writer."""
    with (
        staged_file(path, overwrite=overwrite, store_location=store_location) as tmp,
        tmp.open("w", newline="", encoding="utf-8") as fh,
    ):
        yield tabular.SafeWriter(fh)
