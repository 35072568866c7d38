"""The app's source as Amplify Gen 3 builds it: the working directory, zipped.

What `aws amplifygen3 deploy` leaves out of a source upload is left out here too:
`node_modules` and `.git` (at any depth), the app's build output folder, and what
`.amplifyignore` lists (gitignore's syntax: `#` comments, `!` to re-include, a
trailing `/` for folders only, a `/` inside anchors to the working directory,
`*`, `?`, `[…]` and `**`). Files go in sorted order, so the same tree makes the
same list of entries. Symbolic links are never followed: one could point out of
the workspace and ship a file nobody meant to publish; they are left out and named.
The zip's digest is what `CreateSourceUpload` is given (see docs/amplify-gen3.md).
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from ampaction.artifact import write_zip
from ampaction.cancellation import Cancellation
from ampaction.errors import ActionError

ALWAYS_LEFT_OUT = ("node_modules", ".git")
IGNORE_FILE = ".amplifyignore"


@dataclass(frozen=True)
class SourceZip:
    """The zip to upload: where it is, its size, how many files, its digest, and the
    symbolic links left out of it."""

    zip_path: Path
    size: int
    files: int
    digest: str
    links_left_out: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Rule:
    pattern: re.Pattern[str]
    negated: bool
    folders_only: bool


def zip_source(
    folder: Path,
    into: Path,
    *,
    output_directory: str = "",
    cancellation: Cancellation | None = None,
) -> SourceZip:
    """`folder` without what is left out, zipped into folder `into` (stopped by a cancellation)."""
    rules = ignore_rules(folder, output_directory)
    files, links = _source_files(folder, rules)
    if not files:
        raise ActionError(
            f"Nothing to upload: every file of the working directory is left out "
            f"(`node_modules`, `.git`, `{IGNORE_FILE}`).",
            title="Empty source",
        )
    zip_path = into / "source.zip"
    write_zip(zip_path, folder, files, cancellation, what="the source")
    return SourceZip(
        zip_path, zip_path.stat().st_size, len(files), digest_of(zip_path), tuple(links)
    )


def digest_of(path: Path) -> str:
    """The zip's SHA-256, base64-encoded: the form S3 checks an upload against
    (`x-amz-checksum-sha256`)."""
    sha = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            sha.update(chunk)
    return base64.b64encode(sha.digest()).decode("ascii")


def ignore_rules(folder: Path, output_directory: str = "") -> list[_Rule]:
    """The rules of what is left out, in order (the last one that matches decides)."""
    lines = [f"{name}/" for name in ALWAYS_LEFT_OUT]
    output = output_directory.strip().strip("/")
    if output and output not in (".", ""):
        lines.append(f"/{output}/")
    ignore_file = folder / IGNORE_FILE
    if ignore_file.is_file() and not ignore_file.is_symlink():
        lines += ignore_file.read_text(encoding="utf-8", errors="replace").splitlines()
    rules = [_compile(line) for line in lines]
    return [rule for rule in rules if rule is not None]


def left_out(rules: list[_Rule], relative: str, *, is_folder: bool) -> bool:
    """Whether a path (relative to the working directory, `/`-separated) is left out."""
    result = False
    for rule in rules:
        if rule.folders_only and not is_folder:
            continue
        if rule.pattern.fullmatch(relative):
            result = not rule.negated
    return result


def _compile(line: str) -> _Rule | None:
    text = line.rstrip("\n\r")
    if not text.strip() or text.startswith("#"):
        return None
    text = text.rstrip(" ")
    negated = text.startswith("!")
    text = text[1:] if negated else text
    text = text.removeprefix("\\")  # `\#name`, `\!name`: a literal first character
    folders_only = text.endswith("/")
    text = text.rstrip("/")
    anchored = "/" in text
    text = text.lstrip("/")
    if not text:
        return None
    body = _translate(text)
    prefix = "" if anchored else "(?:.*/)?"
    return _Rule(re.compile(prefix + body, re.DOTALL), negated, folders_only)


def _translate(glob: str) -> str:
    """gitignore's glob as a regular expression over `/`-separated paths."""
    out, i = [], 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("/**", i) and i + 3 == len(glob):
            out.append("/.*")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        elif glob[i] == "[" and (end := glob.find("]", i + 2)) != -1:
            inner = glob[i + 1 : end].replace("\\", "\\\\")
            out.append("[" + ("^" + inner[1:] if inner.startswith("!") else inner) + "]")
            i = end + 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return "".join(out)


def _source_files(folder: Path, rules: list[_Rule]) -> tuple[list[Path], list[str]]:
    """The regular files to upload, sorted by path, and the symbolic links left out."""
    files: list[Path] = []
    links: list[str] = []
    for root, dirs, names in os.walk(folder, followlinks=False):
        base = Path(root)
        kept_dirs = []
        for name in sorted([*dirs, *names]):
            path = base / name
            relative = path.relative_to(folder).as_posix()
            mode = path.lstat().st_mode
            if left_out(rules, relative, is_folder=stat.S_ISDIR(mode)):
                continue
            _check_utf8(relative)  # only what would go into the zip
            if stat.S_ISLNK(mode):
                links.append(relative)
            elif stat.S_ISDIR(mode):
                kept_dirs.append(name)
            elif stat.S_ISREG(mode):
                files.append(path)
        dirs[:] = kept_dirs  # a folder left out is not entered (as git does)
    files.sort(key=lambda p: p.relative_to(folder).as_posix())
    return files, sorted(links)


def _check_utf8(relative: str) -> None:
    """A zip entry's name must be UTF-8; os.walk keeps other bytes as lone surrogates."""
    try:
        relative.encode("utf-8")
    except UnicodeEncodeError:
        printable = os.fsencode(relative).decode("utf-8", errors="backslashreplace")
        raise ActionError(
            f"The source holds `{printable}`, whose name is not UTF-8 (a zip needs UTF-8): "
            f"rename it, or list it in {IGNORE_FILE}.",
            title="Source not zippable",
        ) from None
