"""The backend hash: the same files give the same hash on any machine and in any
order; a change to any backend file changes it, and a frontend change does not."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from ampaction import skip

FILES = {
    "package.json": '{"name": "app"}\n',
    "package-lock.json": '{"lockfileVersion": 3}\n',
    "amplify/backend.ts": "defineBackend({ auth, data });\n",
    "amplify/auth/resource.ts": "export const auth = defineAuth({});\n",
    "amplify/data/resource.ts": "export const data = defineData({});\n",
    "shared/schema.graphql": "type Todo { id: ID! }\n",
    "src/App.tsx": "export default () => null;\n",
}


def make(root: Path, order: list[str] | None = None) -> Path:
    for name in order or list(FILES):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(FILES[name])
    return root


def digest(root: Path, paths: tuple[str, ...] = ()) -> str:
    return skip.backend_hash(root, paths).digest


def test_the_same_files_hash_the_same_in_any_order_place_and_time(tmp_path):
    first = make(tmp_path / "runner-a" / "work" / "app")
    second = make(tmp_path / "b", order=list(reversed(FILES)))
    for path in second.rglob("*"):
        os.utime(path, (1_000_000, 1_000_000))  # another checkout, another mtime

    assert digest(first) == digest(second)
    assert digest(first, ("shared/**",)) == digest(second, ("shared/**",))
    assert re.fullmatch(r"[0-9a-f]{64}", digest(first))


@pytest.mark.parametrize(
    "change",
    [
        "amplify/data/resource.ts",  # a file under amplify/
        "package-lock.json",  # the lockfile
        "package.json",
        "shared/schema.graphql",  # a backend-paths file
    ],
)
def test_any_backend_file_changes_the_hash(tmp_path, change):
    root = make(tmp_path)
    before = digest(root, ("shared/*.graphql",))

    (root / change).write_text(FILES[change] + "// changed\n")

    assert digest(root, ("shared/*.graphql",)) != before


def test_added_removed_and_renamed_backend_files_change_the_hash(tmp_path):
    root = make(tmp_path)
    seen = {digest(root)}
    (root / "amplify" / "storage").mkdir()
    (root / "amplify" / "storage" / "resource.ts").write_text("x")
    seen.add(digest(root))
    (root / "amplify" / "storage" / "resource.ts").rename(root / "amplify" / "storage" / "r.ts")
    seen.add(digest(root))
    shutil.rmtree(root / "amplify" / "storage")
    assert len(seen) == 3
    assert digest(root) == digest(make(tmp_path / "again"))


def test_a_frontend_change_leaves_the_hash_alone(tmp_path):
    root = make(tmp_path)
    before = digest(root, ("shared/**",))

    (root / "src" / "App.tsx").write_text("export default () => 'new look';\n")
    (root / "amplify_outputs.json").write_text("{}")  # what the deploy writes
    (root / "amplify" / "amplify_outputs.json").write_text("{}")  # outputs-out-dir: amplify
    (root / "amplify" / "node_modules" / "x").mkdir(parents=True)
    (root / "amplify" / "node_modules" / "x" / "index.js").write_text("")

    assert digest(root, ("shared/**",)) == before


def test_backend_paths_take_folders_and_paths_outside_the_project(tmp_path):
    project = make(tmp_path / "apps" / "web")
    make(tmp_path / "packages" / "types", order=["shared/schema.graphql"])
    before = skip.backend_hash(project, ("../../packages/types",))

    (tmp_path / "packages" / "types" / "shared" / "schema.graphql").write_text("type X { a: Int }")

    after = skip.backend_hash(project, ("../../packages/types",))
    assert after.digest != before.digest
    assert after.count == before.count == 6  # package.json, the lock, 3 under amplify/, 1 shared


def test_backend_paths_that_match_nothing_are_reported(tmp_path):
    root = make(tmp_path)

    found = skip.backend_hash(root, ("shared/**", "shraed/**", "*.graphql"))

    assert found.unmatched == ("shraed/**", "*.graphql")


def test_the_deploy_tags_fit_amplifys_tag_alphabet():
    # TagKey / TagValue patterns from botocore's amplify model.
    tags = skip.deploy_tags("ab" * 32, "1234567")
    assert tags[skip.HASH_TAG] == "ab" * 32
    assert tags[skip.DEPLOY_TAG].startswith("run 1234567 at ")
    for key, value in tags.items():
        assert re.fullmatch(r"(?!aws:)[a-zA-Z+-=._:/]{1,128}", key)
        assert re.fullmatch(r"[\w\s.:/=+\-@]{0,256}", value)
    assert skip.deploy_tags("cd", "")[skip.DEPLOY_TAG].startswith("the deploy at ")


def test_the_cache_is_only_a_cache():
    files = skip.BackendFiles("ab" * 32, 3, ())
    assert skip.BackendCache(files, {skip.HASH_TAG: "ab" * 32}).unchanged
    assert not skip.BackendCache(files, {}).unchanged
    assert not skip.BackendCache(files, {skip.HASH_TAG: "something else"}).unchanged
    assert not skip.BackendCache(files, {skip.HASH_TAG: ""}).unchanged
