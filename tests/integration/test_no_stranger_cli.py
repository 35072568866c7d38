"""Only the project's own Amplify CLI ever runs: a package named `ampx` waiting in
npx's cache (the workspace's .npm-cache, which actions/cache restores) never
answers to the name, even when node_modules/.bin has no `ampx` link (npm's
`bin-links=false`, or a node_modules restored without its links).

The planted package is put where npx keeps what it ran before: a first
`npx --yes ampx` against a registry on 127.0.0.1, then the package.json npx
compares with the registry's answer. Today's npm then runs it offline, with
`--no-install`, whenever node_modules/.bin/ampx is missing.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import io
import json
import os
import subprocess
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

PLANTED_BIN = """#!/usr/bin/env node
require('fs').writeFileSync(process.env.PLANTED_MARK, process.argv.slice(2).join(' '));
console.log('Deployment completed');
"""


def _tarball() -> bytes:
    files = {
        "package/package.json": json.dumps(
            {"name": "ampx", "version": "6.6.6", "bin": {"ampx": "planted.js"}}
        ),
        "package/planted.js": PLANTED_BIN,
    }
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o755
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


@pytest.fixture
def registry() -> Iterator[str]:
    """An npm registry on 127.0.0.1 that serves one package: a stranger named `ampx`."""
    tarball = _tarball()
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(tarball).digest()).decode()

    class Registry(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = f"http://127.0.0.1:{self.server.server_address[1]}"
            if self.path.endswith(".tgz"):
                body = tarball
            elif self.path.strip("/") == "ampx":
                version = {
                    "name": "ampx",
                    "version": "6.6.6",
                    "bin": {"ampx": "planted.js"},
                    "dist": {"tarball": f"{url}/ampx/-/ampx-6.6.6.tgz", "integrity": integrity},
                }
                body = json.dumps(
                    {
                        "name": "ampx",
                        "dist-tags": {"latest": "6.6.6"},
                        "versions": {"6.6.6": version},
                    }
                ).encode()
            else:
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Registry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def plant_ampx(workspace: Path, registry: str, mark: Path) -> None:
    """Leave the stranger `ampx` in the workspace's npm cache, ready for npx to run offline."""
    cache = workspace / ".npm-cache"
    env = {**os.environ, "PLANTED_MARK": str(mark), "npm_config_update_notifier": "false"}
    subprocess.run(
        ["npx", "--yes", "--registry", registry, "--cache", str(cache), "ampx"],
        cwd=workspace.parent,
        env=env,
        check=True,
        capture_output=True,
    )
    mark.unlink()  # it ran once, here; from now on it must not
    folder = cache / "_npx" / hashlib.sha512(b"ampx").hexdigest()[:16]
    manifest = folder / "node_modules" / "ampx" / "package.json"
    data = json.loads(manifest.read_text())
    data["resolved"] = f"{registry}ampx/-/ampx-6.6.6.tgz"  # what npx compares with the registry's
    manifest.write_text(json.dumps(data))
    (folder / "node_modules" / ".package-lock.json").unlink()
    # Proof that the plant works: npm's own offline, no-install run takes it.
    subprocess.run(
        ["npx", "--offline", "--no-install", "--registry", registry, "--cache", str(cache), "ampx"],
        cwd=workspace.parent,
        env=env,
        check=True,
        capture_output=True,
    )
    assert mark.read_text() == ""
    mark.unlink()


def stranger_env(workspace: Path, registry: str, mark: Path) -> dict[str, str]:
    """The job's npm: the registry the stranger came from, the cache it waits in."""
    return {
        "npm_config_registry": registry,
        "npm_config_cache": str(workspace / ".npm-cache"),
        "PLANTED_MARK": str(mark),
    }


def test_a_planted_ampx_never_runs_without_bin_links(run_action, workspace, registry, tmp_path):
    mark = tmp_path / "planted-ran"
    plant_ampx(workspace, registry, mark)
    (workspace / ".npmrc").write_text("bin-links=false\n")

    run = run_action(
        {"trigger-frontend": "false"},
        job_env=stranger_env(workspace, registry, mark),
    )

    assert not mark.exists(), run.log  # the stranger never ran
    assert not (workspace / "node_modules" / ".bin" / "ampx").exists()  # the links were off
    assert run.exit_code == 0, run.log
    [call] = run.ampx_calls()  # the project's own CLI ran, as npm runs it
    assert call["argv"][:2] == ["pipeline-deploy", "--branch"]
    assert call["env"]["npm_config_user_agent"].startswith("npm/")
    assert run.outputs["backend-deployed"] == "true"


def test_a_cli_whose_bin_is_missing_is_the_missing_cli_error_before_it_runs(
    run_action, workspace, registry, tmp_path
):
    mark = tmp_path / "planted-ran"
    plant_ampx(workspace, registry, mark)
    (workspace / "vendor" / "backend-cli" / "bin" / "ampx.js").unlink()

    run = run_action(
        {"trigger-frontend": "false"},
        job_env=stranger_env(workspace, registry, mark),
    )

    assert not mark.exists(), run.log
    assert run.exit_code != 0
    (error,) = run.commands.named("error")
    assert "`@aws-amplify/backend-cli` is not installed" in error.message
    assert "bin/ampx.js" in error.message
    assert run.ampx_calls() == []
    assert run.outputs.get("backend-deployed") != "true"
