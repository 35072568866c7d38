"""A container registry on 127.0.0.1: Debian's `docker-registry` (the CNCF distribution
registry), with its storage in a temporary folder. The Docker engine pushes to and
pulls from `127.0.0.1:PORT/...` over plain HTTP without any configuration.

    with LocalRegistry(tmp_path) as registry:
        registry.address          # "127.0.0.1:PORT"
        registry.manifest("ampaction", "sha256:...")
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import urllib.request
from pathlib import Path
from typing import Any, Self

from support.local_server import LocalServer, free_port, wait_until_answers

BINARY = "docker-registry"
MANIFEST_TYPES = ", ".join(
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)


def registry_available() -> str | None:
    """None when the registry binary is installed, else why not."""
    if shutil.which(BINARY) is None:
        return f"no `{BINARY}` on PATH (.ci/docker.sh installs Debian's docker-registry)"
    return None


class LocalRegistry(LocalServer):
    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Self:
        self.root.mkdir(parents=True, exist_ok=True)
        config = self.root / "config.yml"
        config.write_text(
            "version: 0.1\n"
            "log: {level: warn}\n"
            f"storage: {{filesystem: {{rootdirectory: {self.root / 'data'}}}, "
            "delete: {enabled: true}}\n"
            f"http: {{addr: '{self.address}'}}\n",
            encoding="utf-8",
        )
        log = (self.root / "registry.log").open("wb")
        proc = self._proc = subprocess.Popen(
            [BINARY, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT
        )
        if not wait_until_answers(f"http://{self.address}/v2/", lambda: proc.poll() is None):
            self.stop()
            raise RuntimeError(
                "the registry did not start:\n"
                + (self.root / "registry.log").read_text(errors="replace")[-2000:]
            )
        return self

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None

    def manifest(self, name: str, reference: str) -> tuple[bytes, dict[str, Any]]:
        """The manifest the registry serves for `name` at a tag or digest: raw and parsed.

        Raises if the registry does not serve it, or if a digest reference does not
        match the sha256 of what came back (what a pulling engine checks too)."""
        request = urllib.request.Request(
            f"http://{self.address}/v2/{name}/manifests/{reference}",
            headers={"Accept": MANIFEST_TYPES},
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            body: bytes = answer.read()
        if reference.startswith("sha256:"):
            actual = "sha256:" + hashlib.sha256(body).hexdigest()
            if actual != reference:
                raise AssertionError(f"registry served {actual} for {reference}")
        return body, json.loads(body)

    def tags(self, name: str) -> list[str]:
        """The tags the registry holds for `name`, sorted."""
        url = f"http://{self.address}/v2/{name}/tags/list"
        with urllib.request.urlopen(url, timeout=30) as answer:
            return sorted(json.loads(answer.read()).get("tags") or [])

    def layer_sizes(self, name: str, reference: str) -> list[int]:
        """The image's layers as the registry stores them (compressed), in bytes, base
        first. For an index, its first platform's image."""
        _, manifest = self.manifest(name, reference)
        if "manifests" in manifest:
            _, manifest = self.manifest(name, manifest["manifests"][0]["digest"])
        return [int(layer["size"]) for layer in manifest["layers"]]

    def compressed_size(self, name: str, reference: str) -> int:
        """What a pull downloads at most: the sum of the layers in the manifest."""
        return sum(self.layer_sizes(name, reference))
