"""The pure parts of the manual deployment: the zip, the build-spec judgement, what an
S3 error may say, redaction of upload URLs, and giving files back to their owner."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from ampaction import redaction
from ampaction.artifact import ArtifactError, index_below_root, prepare, source_problem, warnings
from ampaction.cancellation import Cancellation
from ampaction.errors import Cancelled
from ampaction.manual_deploy import _s3_said
from ampaction.ownership import give_back
from ampaction.preflight import GENERATE_OUTPUTS, build_spec_warning


def site(folder: Path) -> None:
    for name in ["b.js", "index.html", "a/z.css", "a/b/c.txt", "A.txt"]:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(name)


def test_a_folder_is_zipped_with_its_contents_at_the_root_in_a_stable_order(tmp_path: Path):
    site(tmp_path / "dist")
    (tmp_path / "out1").mkdir()
    (tmp_path / "out2").mkdir()

    first = prepare(tmp_path / "dist", "dist", tmp_path / "out1")
    os.utime(tmp_path / "dist" / "b.js", (0, 0))  # an mtime before zip's epoch is clamped
    second = prepare(tmp_path / "dist", "dist", tmp_path / "out2")

    with zipfile.ZipFile(first.zip_path) as z:
        names = z.namelist()
        assert z.read("a/b/c.txt") == b"a/b/c.txt"
    assert names == ["A.txt", "a/b/c.txt", "a/z.css", "b.js", "index.html"]
    assert zipfile.ZipFile(second.zip_path).namelist() == names
    assert (first.files, first.zipped_here) == (5, True)
    assert first.size == first.zip_path.stat().st_size
    assert index_below_root(first.zip_path) is None


def test_a_zip_is_taken_as_it_is_and_a_nested_index_is_found(tmp_path: Path):
    given = tmp_path / "site.zip"
    with zipfile.ZipFile(given, "w") as z:
        z.writestr("dist/index.html", "x")
        z.writestr("dist/assets/app.js", "y")

    art = prepare(given, "site.zip", tmp_path)

    assert art.zip_path == given and not art.zipped_here and art.files == 2
    assert index_below_root(given) == "dist"


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda p: None, "does not exist"),
        (lambda p: p.mkdir(), "is an empty folder"),
        (lambda p: (p.mkdir(), (p / "sub").mkdir()), "is an empty folder"),
        (lambda p: p.write_text("x"), "is a file but not a `.zip`"),
        (
            lambda p: (p.mkdir(), (p / "x").symlink_to("/etc/hostname")),
            "holds a symbolic link (`x`)",
        ),
        (lambda p: (p.mkdir(), (p / "d").symlink_to("/etc")), "holds a symbolic link (`d`)"),
        (lambda p: (p.mkdir(), os.mkfifo(p / "pipe")), "`pipe`, which is not a regular file"),
    ],
    ids=["missing", "empty", "only-folders", "not-zip", "file-link", "folder-link", "fifo"],
)
def test_unfit_sources_are_named(tmp_path: Path, make, problem: str):
    source = tmp_path / "dist"
    make(source)

    said = source_problem(source)
    assert said is not None and problem in said
    with pytest.raises(ArtifactError) as raised:
        prepare(source, "dist", tmp_path)
    assert raised.value.message.startswith("Input `frontend-artifact`: `dist` ")


def test_a_symlink_added_after_the_inputs_were_checked_is_still_refused(tmp_path: Path):
    site(tmp_path / "dist")
    assert source_problem(tmp_path / "dist") is None
    (tmp_path / "dist" / "late").symlink_to("/etc/passwd")
    with pytest.raises(ArtifactError, match="symbolic link"):
        prepare(tmp_path / "dist", "dist", tmp_path)


SPEC = """version: 1
backend:
  phases:
    build:
      commands:
        # npx ampx pipeline-deploy (commented out: not run)
        - {command}
"""


@pytest.mark.parametrize(
    ("branch_spec", "app_spec", "file_spec", "where"),
    [
        ("pipeline-deploy", None, None, "The build spec of branch `main`"),
        (None, "pipeline-deploy", None, "The app's build spec"),
        (None, None, "pipeline-deploy", "`amplify.yml` at the root"),
        (GENERATE_OUTPUTS, "pipeline-deploy", "pipeline-deploy", None),  # the branch's decides
        (None, GENERATE_OUTPUTS, "pipeline-deploy", None),  # then the app's
        (None, None, GENERATE_OUTPUTS, None),
        (None, None, None, None),
    ],
)
def test_the_build_spec_amplify_runs_is_judged(tmp_path, branch_spec, app_spec, file_spec, where):
    def spec(command):
        return SPEC.format(command=f"npx ampx {command}") if command else None

    if file_spec:
        (tmp_path / "amplify.yml").write_text(spec(file_spec))

    warning = build_spec_warning(
        {"buildSpec": spec(branch_spec)}, {"buildSpec": spec(app_spec)}, tmp_path, "main"
    )

    if where is None:
        assert warning is None
    else:
        assert warning is not None and warning.message.startswith(where)
        assert "line 7: `- npx ampx pipeline-deploy`" in warning.message
        assert GENERATE_OUTPUTS in warning.message


def test_only_s3s_code_and_message_are_repeated():
    body = (
        "<Error><Code>SignatureDoesNotMatch</Code><Message>The signature does not match"
        "</Message><SignatureProvided>abcdef0123</SignatureProvided>"
        "<StringToSign>AWS4-HMAC-SHA256 secret</StringToSign></Error>"
    )
    assert _s3_said(body) == " (SignatureDoesNotMatch: The signature does not match)"
    assert _s3_said("<html>oops</html>") == ""


def test_an_upload_signature_is_redacted_before_the_url_is_known():
    redaction.forget_all()
    body = (
        '{"jobId": "3", "zipUploadUrl": "https://b.s3.amazonaws.com/a/b/3.zip?X-Amz-Algorithm=A'
        '&X-Amz-Credential=ASIA%2F20260101%2Fs3&X-Amz-Security-Token=IQoJb3JpZ2lu&X-Amz-Signature=f00d"}'
    )
    shown = redaction.redact(body)
    for secret in ("ASIA%2F20260101", "IQoJb3JpZ2lu", "f00d"):
        assert secret not in shown
    assert "X-Amz-Signature=***" in shown and "3.zip?X-Amz-Algorithm=A" in shown
    encoded = "https%3A%2F%2Fb%2F3.zip%3FX-Amz-Signature%3Df00d%26x%3D1"
    assert "f00d" not in redaction.redact(encoded)


@pytest.mark.skipif(os.geteuid() != 0, reason="chown needs root")
def test_roots_files_go_to_the_workspaces_owner_and_others_stay(tmp_path: Path):
    ws = tmp_path / "ws"
    (ws / "node_modules" / "pkg").mkdir(parents=True)
    (ws / "node_modules" / "pkg" / "index.js").write_text("x")
    (ws / "theirs.txt").write_text("x")
    elsewhere = tmp_path / "elsewhere.txt"  # root's, outside the workspace (never a system file)
    elsewhere.write_text("x")
    (ws / "link").symlink_to(elsewhere)
    os.chown(ws, 1001, 1001)
    os.chown(ws / "theirs.txt", 2002, 2002)

    given = give_back(ws)

    assert given is not None and (given.uid, given.entries) == (1001, 4)
    for path in ["node_modules", "node_modules/pkg", "node_modules/pkg/index.js"]:
        assert (ws / path).stat().st_uid == 1001
    assert os.lstat(ws / "link").st_uid == 1001
    assert (ws / "theirs.txt").stat().st_uid == 2002
    assert elsewhere.stat().st_uid == 0  # a symlink is not followed


@pytest.mark.skipif(os.geteuid() != 0, reason="chown needs root")
def test_a_link_to_a_roots_folder_outside_the_workspace_is_not_followed(tmp_path: Path):
    ws = tmp_path / "ws"
    ws.mkdir()
    outside = tmp_path / "outside"  # root's, as a system folder would be
    (outside / "inner").mkdir(parents=True)
    (outside / "inner" / "file.txt").write_text("x")
    (ws / "linked").symlink_to(outside, target_is_directory=True)
    os.chown(ws, 1001, 1001)

    given = give_back(ws)

    assert given is not None and given.entries == 1  # the link itself
    assert os.lstat(ws / "linked").st_uid == 1001
    for path in [outside, outside / "inner", outside / "inner" / "file.txt"]:
        assert path.stat().st_uid == 0, path


@pytest.mark.skipif(os.geteuid() != 0, reason="chown needs root")
def test_a_workspace_of_roots_own_is_left_alone(tmp_path: Path):
    (tmp_path / "f").write_text("x")
    assert give_back(tmp_path) is None


def test_compressed_files_are_stored_and_text_is_deflated(tmp_path: Path):
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "photo.jpg").write_bytes(os.urandom(200_000))
    (tmp_path / "dist" / "app.js").write_text("console.log('hello');\n" * 10_000)

    art = prepare(tmp_path / "dist", "dist", tmp_path)

    with zipfile.ZipFile(art.zip_path) as z:
        kinds = {i.filename: i.compress_type for i in z.infolist()}
        assert z.read("photo.jpg") == (tmp_path / "dist" / "photo.jpg").read_bytes()
    assert kinds == {"app.js": zipfile.ZIP_DEFLATED, "photo.jpg": zipfile.ZIP_STORED}


def zip_of(path: Path, entries: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return path


def git_inside(p: Path) -> None:
    site(p)
    (p / ".git").mkdir()
    (p / ".git" / "config").write_text("extraheader = AUTHORIZATION: basic c2VjcmV0")


def git_file_deeper(p: Path) -> None:
    site(p)
    (p / "a" / ".git").write_text("gitdir: ../../.git/modules/a")  # a submodule's


@pytest.mark.parametrize(
    ("given", "make", "problem"),
    [
        ("dist", git_inside, "holds `.git`"),
        ("dist", git_file_deeper, "holds `a/.git`"),
        ("s.zip", lambda p: zip_of(p, {"index.html": "", ".git/config": ""}), "`.git/config`"),
        ("s.zip", lambda p: zip_of(p, {"index.html": "", "a/.git/HEAD": ""}), "`a/.git/HEAD`"),
        ("s.zip", lambda p: zip_of(p, {"empty/": ""}), "is an empty zip"),
    ],
    ids=["git-folder", "git-file-deeper", "zip-git", "zip-git-deeper", "empty-zip"],
)
def test_git_metadata_and_empty_zips_are_refused(tmp_path: Path, given: str, make, problem: str):
    source = tmp_path / given
    make(source)

    said = source_problem(source)
    assert said is not None and problem in said, said
    with pytest.raises(ArtifactError, match="frontend-artifact"):
        prepare(source, source.name, tmp_path)


def test_a_file_name_that_is_not_utf8_is_named_in_a_clear_error(tmp_path: Path):
    site(tmp_path / "dist")
    (tmp_path / "dist" / os.fsdecode(b"caf\xe9.html")).write_text("x")

    said = source_problem(tmp_path / "dist")
    with pytest.raises(ArtifactError) as raised:
        prepare(tmp_path / "dist", "dist", tmp_path)

    assert said is not None and "`caf\\xe9.html`" in said and "UTF-8" in said, said
    raised.value.message.encode("utf-8")  # printable as it is: no lone surrogate left


def test_env_files_are_named_in_a_warning_and_still_deployed(tmp_path: Path):
    site(tmp_path / "dist")
    (tmp_path / "dist" / ".env").write_text("KEY=1")
    (tmp_path / "dist" / "a" / ".env.production").write_text("KEY=2")
    given = zip_of(tmp_path / "site.zip", {"index.html": "x", "cfg/.env.local": "x"})

    zipped = prepare(tmp_path / "dist", "dist", tmp_path)
    as_given = prepare(given, "site.zip", tmp_path)

    (zipped_warning,) = warnings(zipped)
    assert "`.env`" in zipped_warning and "`a/.env.production`" in zipped_warning
    assert ".env" in zipfile.ZipFile(zipped.zip_path).namelist()
    (given_warning,) = warnings(as_given)
    assert "`cfg/.env.local`" in given_warning
    assert (
        warnings(prepare(zip_of(tmp_path / "ok.zip", {"index.html": "x"}), "ok.zip", tmp_path))
        == []
    )


def test_a_cancel_stops_the_zipping(tmp_path: Path):
    site(tmp_path / "dist")
    cancellation = Cancellation()
    cancellation.event.set()
    (tmp_path / "out").mkdir()

    with pytest.raises(Cancelled):
        prepare(tmp_path / "dist", "dist", tmp_path / "out", cancellation)


class _SigtermAfter(Cancellation):
    """A SIGTERM that lands after the zip has looked `times` times: a few MiB into a file."""

    def __init__(self, times: int) -> None:
        super().__init__()
        self.asked = 0
        self.times = times

    @property
    def requested(self) -> bool:
        self.asked += 1
        return self.asked > self.times


def test_a_cancel_in_the_middle_of_one_large_file_stops_before_its_end(tmp_path: Path):
    # One file, not many: only the check between 1 MiB chunks can stop it before its end
    # (a 2 GB video would otherwise be zipped whole after the runner's SIGTERM).
    (tmp_path / "dist").mkdir()
    with (tmp_path / "dist" / "index.html").open("wb") as big:
        big.truncate(64 << 20)  # sparse: 64 MiB of zeros, made at once
    cancellation = _SigtermAfter(times=3)
    (tmp_path / "out").mkdir()

    with pytest.raises(Cancelled):
        prepare(tmp_path / "dist", "dist", tmp_path / "out", cancellation)
    assert cancellation.asked < 10  # looked at a few MiB in, not only at the file's end
