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


def test_backend_paths_matches_under_node_modules_or_named_amplify_outputs_are_not_hashed(
    tmp_path,
):
    # The README: folders named node_modules and amplify_outputs.* files are never
    # hashed, whether found under amplify/ or by a backend-paths pattern.
    root = make(tmp_path)
    (root / "shared" / "node_modules" / "x").mkdir(parents=True)
    patterns = ("shared/**", "shared/node_modules/x/*", "*.json", "shared")
    before = skip.backend_hash(root, patterns)

    (root / "shared" / "node_modules" / "x" / "index.js").write_text("changed by npm")
    (root / "amplify_outputs.json").write_text('{"version": "1.4"}')  # what the deploy writes
    (root / "shared" / "amplify_outputs.ts").write_text("export {}")

    after = skip.backend_hash(root, patterns)
    assert after.digest == before.digest
    assert after.count == before.count


def test_a_linked_folder_inside_the_project_is_hashed_through_the_link(tmp_path):
    root = make(tmp_path)
    (root / "amplify" / "shared").symlink_to(root / "shared", target_is_directory=True)
    (root / "amplify" / "loop").symlink_to("..", target_is_directory=True)  # no endless walk
    before = skip.backend_hash(root, ())

    (root / "shared" / "schema.graphql").write_text("type Todo { id: ID! done: Boolean }\n")

    after = skip.backend_hash(root, ())
    assert after.digest != before.digest
    assert after.count == before.count


def test_a_link_inside_amplify_that_leaves_the_project_is_refused(tmp_path):
    root = make(tmp_path / "app")
    outside = make(tmp_path / "elsewhere", order=["shared/schema.graphql"]) / "shared"
    (root / "amplify" / "types").symlink_to(outside, target_is_directory=True)

    with pytest.raises(skip.ActionError) as raised:
        skip.backend_hash(root, ())

    assert "`amplify/types`" in raised.value.message
    assert str(outside) in raised.value.message
    assert "backend-paths" in raised.value.message
    # Listed in backend-paths, its files are the backend's on purpose: then it is hashed.
    listed = skip.backend_hash(root, ("../elsewhere/shared",))
    (outside / "schema.graphql").write_text("type X { a: Int }")
    assert skip.backend_hash(root, ("../elsewhere/shared",)).digest != listed.digest
    # A linked file that leaves the project is refused the same way.
    (root / "amplify" / "types").unlink()
    (root / "amplify" / "schema.graphql").symlink_to(outside / "schema.graphql")
    with pytest.raises(skip.ActionError, match=r"`amplify/schema\.graphql`"):
        skip.backend_hash(root, ())


def test_what_is_never_hashed_may_be_a_link_that_leaves_the_project(tmp_path):
    # A workspace's node_modules linked in, or outputs written elsewhere and linked:
    # never hashed, so where they lead does not matter.
    root = make(tmp_path / "app")
    (tmp_path / "store" / "x").mkdir(parents=True)
    (tmp_path / "amplify_outputs.json").write_text("{}")
    before = digest(root)
    (root / "amplify" / "node_modules").symlink_to(tmp_path / "store", target_is_directory=True)
    (root / "amplify" / "amplify_outputs.json").symlink_to(tmp_path / "amplify_outputs.json")

    assert digest(root) == before
