"""Safe outputs: tt writes only what it may, all of it or nothing.

The rule every tool follows (README, "Outputs"): tt never deletes or overwrites anything it did
not create.

- Every folder tt writes into keeps a manifest, `.tt-made.json`, naming the files tt wrote there
  with their SHA-256. An existing file may be replaced only if that manifest lists it and its
  content is still what tt wrote (so a file the user made or edited is never touched), and never
  when it is one of the run's inputs.
- A project folder (`tt-compile --out DIR`) is written only where DIR does not exist, is empty,
  or is a tt project folder (its manifest says so); only the files tt made are replaced or
  removed, anything the user added stays. DIR may not be `/`, the home folder, the current folder
  or one above it, or a folder holding an input. Symbolic links are never followed into or
  replaced.
- Outputs are staged as hidden temporary siblings and moved into place only once every output of
  the run has been produced, so a failure leaves nothing half-written and nothing changed. A
  character device or pipe (`-o /dev/null`) is written at the end instead, never replaced.

Use `Outputs` as a context manager: `file()` and `folder()` stage, leaving the block commits, an
exception discards what was staged. Refusals raise `OutputError` (a TTError: one line, exit 1).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import numpy as np

from ttdialect.errors import TTError

MANIFEST = ".tt-made.json"
TOOL = "tt"
TEMP_MARK = ".tt-tmp-"


class OutputError(TTError):
    """An output tt refuses to write (it would replace something tt did not make)."""


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class Manifest:
    """The files tt made in one folder (relative POSIX paths -> SHA-256); `project` names the
    target of a tt project folder, empty for a folder that merely holds tt-made files."""

    files: dict[str, str] = field(default_factory=dict)
    project: str = ""

    @staticmethod
    def read(folder: Path) -> Manifest | None:
        """The folder's manifest, or None when it has none (or one that is not tt's)."""
        path = folder / MANIFEST
        if path.is_symlink() or not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            files = data["files"]
            if data.get("tool") != TOOL or not isinstance(files, dict):
                return None
            if not all(isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
                return None
            return Manifest(dict(files), str(data.get("project", "")))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def text(self) -> str:
        data: dict[str, object] = {"tool": TOOL, "files": dict(sorted(self.files.items()))}
        if self.project:
            data["project"] = self.project
        return json.dumps(data, indent=1) + "\n"

    def made_by_tt(self, folder: Path, name: str) -> bool:
        """True when `folder/name` is a regular file tt wrote and nobody changed since."""
        path = folder / name
        if name not in self.files or not _is_regular_file(path):
            return False
        return file_digest(path) == self.files[name]


def _is_regular_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def _is_stream(path: Path) -> bool:
    """A character device or a pipe (/dev/null, /dev/stdout, a FIFO): written, never replaced."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)


def _exists(path: Path) -> bool:
    return os.path.lexists(path)


def _absolute(path: Path) -> Path:
    """`path` made absolute with `.` and `..` resolved, but its last component not followed."""
    path = Path(os.path.abspath(path))
    return path.parent.resolve() / path.name


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _protected_folders() -> list[tuple[Path, str]]:
    cwd = Path.cwd().resolve()
    folders = [(Path("/"), "the root folder"), (Path.home().resolve(), "the home folder")]
    return (
        folders + [(cwd, "the current folder")] + [(p, "a folder above the current one") for p in cwd.parents]
    )


class Outputs:
    """The outputs of one run: staged by `file()` and `folder()`, committed together."""

    def __init__(self, inputs: Iterable[Path | str | None] = ()) -> None:
        self._inputs = [_absolute(Path(p)) for p in inputs if p is not None]
        self._files: list[tuple[Path, Path, str]] = []  # (temporary, final, digest)
        self._folders: list[_StagedFolder] = []
        self._made_folders: list[Path] = []  # parents created for a project folder, deepest first
        self._streams: list[tuple[Path, bytes]] = []  # devices and pipes (/dev/null): written at commit

    # --------------------------------------------------------------- staging

    def file(self, path: Path | str, data: bytes | str, make_folder: bool = False) -> None:
        """Stage `data` for `path` (refused now if tt may not write there); `make_folder` creates
        its folder if missing (removed again if the run fails)."""
        if make_folder:
            self._make_folders(_absolute(Path(path)).parent)
        final = self._check_file(Path(path))
        payload = data.encode("utf-8") if isinstance(data, str) else data
        if _is_stream(final):
            self._streams.append((final, payload))
            return
        descriptor, name = tempfile.mkstemp(prefix=f".{final.name}{TEMP_MARK}", dir=final.parent)
        temporary = Path(name)
        self._files.append((temporary, final, hashlib.sha256(payload).hexdigest()))
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(payload)

    def folder(self, path: Path | str, project: str) -> Path:
        """A fresh staging folder whose contents become the tt project folder `path` on commit."""
        final = self._check_folder(Path(path))
        self._make_folders(final.parent)
        staging = Path(tempfile.mkdtemp(prefix=f".{final.name}{TEMP_MARK}", dir=final.parent))
        self._folders.append(_StagedFolder(staging, final, project))
        return staging

    def _make_folders(self, folder: Path) -> None:
        missing = [p for p in (folder, *folder.parents) if not _exists(p)]
        folder.mkdir(parents=True, exist_ok=True)
        self._made_folders = missing + self._made_folders

    def check_file(self, path: Path | str) -> None:
        """Refuse now (OutputError) if `path` could not be written; stages nothing."""
        self._check_file(Path(path))

    def check_folder(self, path: Path | str) -> None:
        """Refuse now (OutputError) if the project folder `path` could not be written."""
        self._check_folder(Path(path))

    # --------------------------------------------------------------- checks

    def _check_file(self, path: Path) -> Path:
        final = _absolute(path)
        shown = str(path)
        if _is_stream(final) and not any(_same_file(final, p) for p in self._inputs):
            return final
        if not final.parent.is_dir():
            raise OutputError(f"{shown}: the folder {final.parent} does not exist")
        if not os.access(final.parent, os.W_OK):
            raise OutputError(f"{shown}: the folder {final.parent} is not writable")
        if any(final == staged for _, staged, _ in self._files):
            raise OutputError(f"{shown}: named twice as an output")
        if any(final == p or _same_file(final, p) for p in self._inputs):
            raise OutputError(f"{shown}: is an input of this run; write the output elsewhere")
        if not _exists(final):
            return final
        if final.is_symlink():
            raise OutputError(f"{shown}: is a symbolic link; tt does not write through links")
        if final.is_dir():
            raise OutputError(f"{shown}: is a folder, not a file")
        manifest = Manifest.read(final.parent)
        if manifest is None or not manifest.made_by_tt(final.parent, final.name):
            raise OutputError(
                f"{shown}: exists and tt did not write it (or it changed since); "
                "tt never overwrites such a file: remove it or choose another name"
            )
        return final

    def _check_folder(self, path: Path) -> Path:
        final = _absolute(path)
        shown = str(path)
        target = final.resolve()
        for folder, what in _protected_folders():
            if target == folder:
                raise OutputError(f"{shown}: is {what}; give a new or empty folder for the project")
        for source in self._inputs:
            if _inside(source.resolve(), target) or _inside(source, final):
                raise OutputError(f"{shown}: holds an input of this run ({source}); choose another folder")
        if not _exists(final):
            return final
        if final.is_symlink():
            raise OutputError(f"{shown}: is a symbolic link; give the real folder")
        if not final.is_dir():
            raise OutputError(f"{shown}: exists and is not a folder")
        if not any(final.iterdir()):
            return final
        manifest = Manifest.read(final)
        if manifest is None or not manifest.project:
            raise OutputError(
                f"{shown}: is not empty and is not a tt project folder (no {MANIFEST} of tt-compile); "
                "tt replaces only its own project folders: choose a new or empty folder"
            )
        changed = [
            name for name in manifest.files if _exists(final / name) and not manifest.made_by_tt(final, name)
        ]
        if changed:
            listed = ", ".join(sorted(changed)[:5]) + (" ..." if len(changed) > 5 else "")
            raise OutputError(
                f"{shown}: files tt wrote were changed or replaced since ({listed}); "
                "tt will not overwrite them: move them away or choose another folder"
            )
        return final

    # --------------------------------------------------------------- commit

    def commit(self) -> None:
        """Move every staged output into place and record them in the manifests."""
        for staged in self._folders:
            staged.check_install()
        for staged in self._folders:
            staged.install()
        self._made_folders = []
        by_folder: dict[Path, dict[str, str]] = {}
        for temporary, final, digest in self._files:
            os.replace(temporary, final)
            by_folder.setdefault(final.parent, {})[final.name] = digest
        for folder, made in by_folder.items():
            manifest = Manifest.read(folder) or Manifest()
            manifest.files.update(made)
            _write_manifest(folder, manifest)
        for stream, payload in self._streams:
            with open(stream, "wb") as sink:
                sink.write(payload)
        self._streams = []

    def discard(self) -> None:
        """Remove what is left of the staging (temporary files and folders made in this run)."""
        for temporary, _, _ in self._files:
            temporary.unlink(missing_ok=True)
        for staged in self._folders:
            shutil.rmtree(staged.staging, ignore_errors=True)
        for folder in self._made_folders:
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        self._files, self._folders, self._made_folders = [], [], []

    def __enter__(self) -> Outputs:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if kind is None:
            try:
                self.commit()
            finally:
                self.discard()
        else:
            self.discard()


def _write_manifest(folder: Path, manifest: Manifest) -> None:
    descriptor, name = tempfile.mkstemp(prefix=f"{MANIFEST}{TEMP_MARK}", dir=folder)
    with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
        stream.write(manifest.text())
    os.replace(name, folder / MANIFEST)


def _walk_files(root: Path) -> Iterator[str]:
    """Relative POSIX paths of the regular files under `root` (a folder tt staged)."""
    for directory, _, names in os.walk(root):
        for name in names:
            yield (Path(directory) / name).relative_to(root).as_posix()


@dataclass
class _StagedFolder:
    staging: Path
    final: Path
    project: str

    def _names(self) -> list[str]:
        return sorted(_walk_files(self.staging))

    def check_install(self) -> None:
        """Refuse (before anything moves) a staged path that would land on something not tt's:
        a user's file, or a link or file where tt needs a folder."""
        if not _exists(self.final):
            return
        old = Manifest.read(self.final) or Manifest()
        for name in self._names():
            folder = self.final
            for part in Path(name).parent.parts:
                folder = folder / part
                if folder.is_symlink() or (_exists(folder) and not folder.is_dir()):
                    raise OutputError(f"{self.final}: {folder} is not a folder tt made; nothing was written")
            if _exists(self.final / name) and not old.made_by_tt(self.final, name):
                raise OutputError(f"{self.final / name}: exists and tt did not write it; nothing was written")

    def install(self) -> None:
        """The staged files replace the tt-made files of `final`; the user's files stay."""
        new = {name: file_digest(self.staging / name) for name in self._names()}
        if not _exists(self.final):
            _write_manifest(self.staging, Manifest(new, self.project))
            self.staging.rename(self.final)
            return
        old = Manifest.read(self.final) or Manifest()
        for name in new:
            (self.final / name).parent.mkdir(parents=True, exist_ok=True)
            os.replace(self.staging / name, self.final / name)
        for name in sorted(set(old.files) - set(new)):
            if old.made_by_tt(self.final, name):
                (self.final / name).unlink()
                _remove_empty_parents(self.final, name)
        _write_manifest(self.final, Manifest(new, self.project))


def _remove_empty_parents(root: Path, name: str) -> None:
    for parent in Path(name).parents:
        if parent == Path("."):
            return
        folder = root / parent
        if folder.is_symlink() or any(folder.iterdir()):
            return
        folder.rmdir()


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """The bytes of an uncompressed .npz holding `arrays`."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()
