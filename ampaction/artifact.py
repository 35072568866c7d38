"""The built frontend as Amplify's manual deployment takes it: one zip.

A folder is zipped with its contents at the root of the zip (Amplify serves
`index.html` from there), files in sorted order so that the same folder makes
the same list of entries every time. Symlinks are refused, not followed: one
could point out of the workspace and ship a file nobody meant to publish.
So is git's metadata (`.git`, where actions/checkout keeps the job's token),
and a file name that is not UTF-8 (a zip entry's name must be). `.env*` files
are named in a warning: some builds mean to ship them, most do not.
A `.zip` given as it is goes up unchanged, after a check that it is one.
Zipping stops at a cancellation: 200 MB takes longer than the runner waits.
"""

from __future__ import annotations

import os
import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ampaction.cancellation import Cancellation
from ampaction.errors import ActionError, Cancelled

INPUT = "frontend-artifact"
SNIFF_BYTES = 64 * 1024  # enough of a file to tell whether deflate would shrink it
CHUNK_BYTES = 1 << 20  # read and zipped at a time; a cancellation is looked at between
GIT = ".git"
ENV_FILE_PREFIX = ".env"


@dataclass(frozen=True)
class Artifact:
    """The zip to upload: where it is, how big, how many files, and what it came from."""

    zip_path: Path
    size: int
    files: int
    zipped_here: bool
    env_files: tuple[str, ...] = ()  # `.env*` files inside, by their path in the zip


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


def prepare(
    source: Path, shown: str, into: Path, cancellation: Cancellation | None = None
) -> Artifact:
    """`source` as a zip: zipped into folder `into`, or checked and taken as it is."""
    problem = source_problem(source)  # again: the build may have changed it since the inputs
    if problem:
        raise ArtifactError(shown, problem)
    if source.is_file():
        return _given_zip(source, shown)
    files = _files(source, shown)
    zip_path = into / "frontend-artifact.zip"
    names = write_zip(zip_path, source, files, cancellation, what=f"`{shown}`")
    size = zip_path.stat().st_size
    return Artifact(zip_path, size, len(files), zipped_here=True, env_files=_env_files(names))


def write_zip(
    zip_path: Path,
    root: Path,
    files: list[Path],
    cancellation: Cancellation | None = None,
    *,
    what: str,
) -> list[str]:
    """Zip `files` (regular files under `root`, in the order given) by their paths relative
    to `root`; those paths. Stops at a cancellation (Gen 3's source zip uses it too)."""
    names = [path.relative_to(root).as_posix() for path in files]
    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as z:
        for path, name in zip(files, names, strict=True):
            # Not strict: an mtime before 1980 (SOURCE_DATE_EPOCH=0 builds) becomes 1980.
            info = zipfile.ZipInfo.from_file(path, name, strict_timestamps=False)
            info.compress_type = _compression(path)
            with path.open("rb") as src, z.open(info, "w") as dst:
                # Looked at before each file and each chunk: an empty file is one chunk.
                while not (cancellation and cancellation.requested):
                    chunk = src.read(CHUNK_BYTES)
                    if not chunk:
                        break
                    dst.write(chunk)
            if cancellation and cancellation.requested:
                raise Cancelled(f"the zipping of {what}", outcome="nothing was deployed.")
    return names


def warnings(art: Artifact) -> list[str]:
    """What the user should look at before the world can download it."""
    if not art.env_files:
        return []
    named = ", ".join(f"`{name}`" for name in art.env_files)
    return [
        f"The artifact holds {named}: anyone can download what Amplify serves. "
        "If these hold secrets, keep them out of the build's output folder."
    ]


def _env_files(names: list[str]) -> tuple[str, ...]:
    return tuple(n for n in names if PurePosixPath(n).name.startswith(ENV_FILE_PREFIX))


def _compression(path: Path) -> int:
    """Deflate what deflate shrinks; store what is compressed already (images, fonts,
    pre-compressed bundles), which deflate would spend seconds on for nothing."""
    with path.open("rb") as f:
        head = f.read(SNIFF_BYTES)
    if len(head) >= 1024 and len(zlib.compress(head, 1)) > 0.95 * len(head):
        return zipfile.ZIP_STORED
    return zipfile.ZIP_DEFLATED


def _files(folder: Path, shown: str) -> list[Path]:
    """Every regular file under `folder`, sorted by path; a symlink, git's metadata or a
    name that is not UTF-8 anywhere is an error."""
    found: list[Path] = []
    for root, dirs, names in os.walk(folder, followlinks=False):
        dirs.sort()
        for name in sorted([*dirs, *names]):
            path = Path(root) / name
            inner = path.relative_to(folder).as_posix()
            _check_name(name, inner, shown)
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


def _check_name(name: str, inner: str, shown: str) -> None:
    if name == GIT:
        raise ArtifactError(shown, _git_problem(inner))
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        # os.walk keeps undecodable bytes as lone surrogates: show them as \xNN instead.
        printable = os.fsencode(inner).decode("utf-8", errors="backslashreplace")
        raise ArtifactError(
            shown, f"holds `{printable}`, whose name is not UTF-8 (a zip needs UTF-8): rename it"
        ) from None


def _git_problem(inner: str) -> str:
    return (
        f"holds `{inner}`, git's metadata (where actions/checkout keeps the job's token): "
        "it must never be published"
    )


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
    git = next((n for n in names if GIT in PurePosixPath(n).parts), None)
    if git:
        raise ArtifactError(shown, _git_problem(git))
    return Artifact(
        path, path.stat().st_size, len(names), zipped_here=False, env_files=_env_files(names)
    )


def index_below_root(zip_path: Path) -> str | None:
    """The folder holding `index.html` when the zip has none at its root (a zipped folder
    rather than its contents: Amplify would then serve nothing at `/`)."""
    with zipfile.ZipFile(zip_path) as z:
        names = z.namelist()
    if "index.html" in names:
        return None
    nested = sorted((n for n in names if n.endswith("/index.html")), key=len)
    return nested[0].removesuffix("/index.html") if nested else None
