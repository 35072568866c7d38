"""The built frontend as Amplify's manual deployment takes it: one zip.

A folder is zipped with its contents at the root of the zip (Amplify serves
`index.html` from there), files in sorted order so that the same folder makes
the same list of entries every time. Symlinks are refused, not followed: one
could point out of the workspace and ship a file nobody meant to publish.
A `.zip` given as it is goes up unchanged, after a check that it is one.
"""

from __future__ import annotations

import os
import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from ampaction.errors import ActionError

INPUT = "frontend-artifact"
SNIFF_BYTES = 64 * 1024  # enough of a file to tell whether deflate would shrink it


@dataclass(frozen=True)
class Artifact:
    """The zip to upload: where it is, how big, how many files, and what it came from."""

    zip_path: Path
    size: int
    files: int
    zipped_here: bool


class ArtifactError(ActionError):
    """The artifact is not one Amplify could serve; says what to give instead."""

    def __init__(self, shown: str, problem: str):
        super().__init__(
            f"Input `{INPUT}`: `{shown}` {problem}. Point it at the folder your build wrote "
            "(e.g. `dist`), or at a `.zip` of that folder's contents.",
            title=f"Bad input: {INPUT}",
        )
        self.problem = problem


def source_problem(source: Path) -> str | None:
    """What makes `source` unfit to deploy (missing, empty, a symlink inside…), or None."""
    try:
        if source.is_symlink():
            raise ArtifactError("", "is a symbolic link")
        if source.is_file():
            _given_zip(source, "")
        elif not source.is_dir():
            raise ArtifactError("", "does not exist")
        elif not _files(source, ""):
            raise ArtifactError("", "is an empty folder")
    except ArtifactError as e:
        return e.problem
    return None


def prepare(source: Path, shown: str, into: Path) -> Artifact:
    """`source` as a zip: zipped into folder `into`, or checked and taken as it is."""
    problem = source_problem(source)  # again: the build may have changed it since the inputs
    if problem:
        raise ArtifactError(shown, problem)
    if source.is_file():
        return _given_zip(source, shown)
    files = _files(source, shown)
    zip_path = into / "frontend-artifact.zip"
    write_zip(zip_path, source, files)
    return Artifact(zip_path, zip_path.stat().st_size, len(files), zipped_here=True)


def write_zip(zip_path: Path, root: Path, files: list[Path]) -> None:
    """Zip `files` (regular files under `root`, in the order given) with paths relative to `root`."""
    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as z:
        for path in files:
            # Not strict: an mtime before 1980 (SOURCE_DATE_EPOCH=0 builds) becomes 1980.
            name = path.relative_to(root).as_posix()
            info = zipfile.ZipInfo.from_file(path, name, strict_timestamps=False)
            info.compress_type = _compression(path)
            with path.open("rb") as src, z.open(info, "w") as dst:
                while chunk := src.read(1 << 20):
                    dst.write(chunk)


def _compression(path: Path) -> int:
    """Deflate what deflate shrinks; store what is compressed already (images, fonts,
    pre-compressed bundles), which deflate would spend seconds on for nothing."""
    with path.open("rb") as f:
        head = f.read(SNIFF_BYTES)
    if len(head) >= 1024 and len(zlib.compress(head, 1)) > 0.95 * len(head):
        return zipfile.ZIP_STORED
    return zipfile.ZIP_DEFLATED


def _files(folder: Path, shown: str) -> list[Path]:
    """Every regular file under `folder`, sorted by path; a symlink anywhere is an error."""
    found: list[Path] = []
    for root, dirs, names in os.walk(folder, followlinks=False):
        dirs.sort()
        for name in sorted([*dirs, *names]):
            path = Path(root) / name
            inner = path.relative_to(folder).as_posix()
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode):
                raise ArtifactError(
                    shown, f"holds a symbolic link (`{inner}`): it could point out of the workspace"
                )
            if stat.S_ISREG(mode):
                found.append(path)
            elif not stat.S_ISDIR(mode):
                raise ArtifactError(shown, f"holds `{inner}`, which is not a regular file")
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix())


def _given_zip(path: Path, shown: str) -> Artifact:
    if path.suffix.lower() != ".zip":
        raise ArtifactError(shown, "is a file but not a `.zip`")
    try:
        with zipfile.ZipFile(path) as z:
            names = [i.filename for i in z.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, OSError):
        raise ArtifactError(shown, "is not a readable zip file") from None
    if not names:
        raise ArtifactError(shown, "is an empty zip")
    return Artifact(path, path.stat().st_size, len(names), zipped_here=False)


def index_below_root(zip_path: Path) -> str | None:
    """The folder holding `index.html` when the zip has none at its root (a zipped folder
    rather than its contents: Amplify would then serve nothing at `/`)."""
    with zipfile.ZipFile(zip_path) as z:
        names = z.namelist()
    if "index.html" in names:
        return None
    nested = sorted((n for n in names if n.endswith("/index.html")), key=len)
    return nested[0].removesuffix("/index.html") if nested else None
