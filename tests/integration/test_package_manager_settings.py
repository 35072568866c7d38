"""Each package manager gets only its own settings: pnpm's store is not an npm
setting, and npm warns about every `npm_config_*` it does not know. (pnpm gets
its store as `--store-dir`: tests/test_package_managers.py checks it lands in
the kept cache.)"""

from __future__ import annotations


def test_npm_sees_no_pnpm_setting(run_action):
    run = run_action({"branch": "main"})

    assert run.exit_code == 0, run.log
    assert "Unknown env config" not in run.log
    [call] = run.ampx_calls()
    assert not any(k.lower() == "npm_config_store_dir" for k in call["env"])
