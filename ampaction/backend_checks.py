"""Before the deploy: what makes `pipeline-deploy` fail minutes in, found in seconds.

Three reads, each with its fix in the message: the account and region are
bootstrapped for the CDK (version 6 or later); the branch's backend stack is not
in the middle of another change (that one is waited for) nor stuck in a state
CloudFormation cannot update; every secret the backend reads with `secret('NAME')`
exists for the branch or for the whole app. What cannot be read for want of a
permission is a warning: the deploy then finds out itself.

And the one write before the deploy: `backend-secrets`, set as the branch's
secrets; teardown deletes them again (the branch's only, never shared ones).
"""

from __future__ import annotations

import re
import shlex
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ampaction.aws import AwsError, Identity
from ampaction.cancellation import Cancellation
from ampaction.cloudformation import CloudFormation, backend_stack_name
from ampaction.errors import ActionError, Cancelled
from ampaction.inputs import BackendSecret, Settings
from ampaction.ssm import (
    BOOTSTRAP_VERSION_PARAMETER,
    Ssm,
    branch_secret_prefix,
    shared_secret_prefix,
)
from ampaction.workflow import Workflow

# aws-cdk-lib's DefaultStackSynthesizer asks for this bootstrap version at least
# (`requiresBootstrapStackVersion: 6` in the synthesised stack); the CDK CLI refuses
# an older one with "requires bootstrap stack version '6', found '5'".
MIN_BOOTSTRAP_VERSION = 6
PERMISSION_CODES = {"AccessDeniedException", "AccessDenied"}
# Waiting for a stack: a poll a second at first (a change that is nearly done ends the
# wait soon), then one every few seconds as the wait grows.
FIRST_POLL_SECONDS = 1.0
POLL_CAP_SECONDS = 5.0
# What a run can do nothing with: the stack must be repaired or deleted first.
CONTINUE_ROLLBACK = ("UPDATE_ROLLBACK_FAILED",)
DELETE_FIRST = ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_FAILED")
# `secret('NAME')` with a string literal; a name built at run time cannot be read here.
_SECRET_CALL = re.compile(r"""\bsecret\(\s*(['"`])([A-Za-z0-9_.-]+)\1\s*\)""")
_BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_LINE_COMMENT = re.compile(r"^\s*//.*$", re.MULTILINE)
_SOURCE_SUFFIXES = (".ts", ".mts", ".cts", ".js", ".mjs", ".cjs")
_NOT_SOURCE_DIRS = {"node_modules", ".amplify"}


# ---- The CDK bootstrap --------------------------------------------------------------------


def check_bootstrap(ssm: Ssm, identity: Identity) -> str:
    """Whether the account and region are bootstrapped; an error with the command if not."""
    value = ssm.bootstrap_version()
    version = int(value) if value is not None and value.strip().isdigit() else None
    if version is not None and version >= MIN_BOOTSTRAP_VERSION:
        return f"CDK bootstrap version {version}"
    account = identity.account() or "ACCOUNT"
    command = f"npx cdk bootstrap aws://{account}/{ssm.region}"
    if value is None:
        found = f"is not bootstrapped for the CDK (no SSM parameter {BOOTSTRAP_VERSION_PARAMETER})"
    else:
        found = (
            f"has CDK bootstrap version {value.strip()[:20]!r}, older than {MIN_BOOTSTRAP_VERSION}"
        )
    raise ActionError(
        f"AWS account {account}, region {ssm.region} {found}: `pipeline-deploy` would fail "
        f"after the install. Bootstrap it once, with credentials allowed to: `{command}`, "
        "then re-run. Nothing was installed or deployed.",
        title="CDK bootstrap missing" if value is None else "CDK bootstrap outdated",
    )


# ---- The branch's stack -------------------------------------------------------------------


def check_stack(
    cfn: CloudFormation,
    workflow: Workflow,
    app_id: str,
    branch: str,
    *,
    wait_minutes: int | None,
    sleep: Callable[[float], None],
    cancelled: Callable[[], bool],
    clock: Callable[[], float] = time.monotonic,
) -> str:
    """The branch's stack can be deployed: a change under way is waited for (up to
    `wait_minutes`; None: not at all, as a dry run), a stuck stack is an error."""
    name = backend_stack_name(app_id, branch)
    stack = cfn.find_stack(name)
    if stack is None:
        return "no backend stack yet: the deploy creates it"
    status = str(stack.get("StackStatus"))
    if status.endswith("_IN_PROGRESS"):
        if wait_minutes is None:
            return f"stack {name} is {status}: a real run waits for it"
        stack = _wait_for_stack(
            cfn, workflow, stack, wait_minutes, sleep=sleep, cancelled=cancelled, clock=clock
        )
        status = str(stack.get("StackStatus")) if stack else "gone"
    if stack is not None:
        _refuse_stuck(stack, cfn.region)
    return f"stack {name} is {status}"


def _wait_for_stack(
    cfn: CloudFormation,
    workflow: Workflow,
    stack: dict[str, Any],
    minutes: int,
    *,
    sleep: Callable[[float], None],
    cancelled: Callable[[], bool],
    clock: Callable[[], float],
) -> dict[str, Any] | None:
    name, status = str(stack["StackName"]), str(stack["StackStatus"])
    if minutes == 0:
        raise ActionError(
            f"The branch's backend stack {name} is {status}: another change (a deploy or a "
            "delete) is under way, and `wait-for-stack-minutes` is 0. Re-run once it is done, "
            "or give `wait-for-stack-minutes` to wait for it. Nothing was installed.",
            title="Backend stack busy",
        )
    workflow.notice(
        f"The branch's backend stack {name} is {status} (another deploy or delete is running). "
        f"Waiting up to {minutes} min (`wait-for-stack-minutes`) for it to finish.",
        title="Waiting for the backend stack",
    )
    start = clock()
    while True:
        sleep(min(POLL_CAP_SECONDS, max(FIRST_POLL_SECONDS, (clock() - start) / 3)))
        if cancelled():
            raise Cancelled(f"the wait for stack {name}", outcome="nothing was installed.")
        now = cfn.find_stack(str(stack["StackId"]))
        new = str(now.get("StackStatus")) if now else "DELETE_COMPLETE"
        if new != status:
            workflow.info(f"Stack {name}: {new}.")
            status = new
        if not status.endswith("_IN_PROGRESS"):
            return None if status == "DELETE_COMPLETE" else now
        if clock() - start >= minutes * 60:
            raise ActionError(
                f"The branch's backend stack {name} was still {status} after {minutes} min "
                "(`wait-for-stack-minutes`). Re-run once it is done, or wait longer. "
                "Nothing was installed.",
                title="Backend stack busy",
            )


def _refuse_stuck(stack: dict[str, Any], region: str) -> None:
    name, status = str(stack["StackName"]), str(stack["StackStatus"])
    reason = str(stack.get("StackStatusReason") or "").strip()
    why = f" ({reason[:300]})" if reason else ""
    if status in CONTINUE_ROLLBACK:
        command = shlex.join(
            ["aws", "cloudformation", "continue-update-rollback", "--stack-name", name,
             "--region", region]
        )  # fmt: skip
        fix = f"finish the rollback: `{command}` (with `--resources-to-skip` for resources it cannot roll back), then re-run"
    elif status in DELETE_FIRST:
        command = shlex.join(
            ["aws", "cloudformation", "delete-stack", "--stack-name", name, "--region", region]
        )
        fix = f"delete the stack, and the next deploy creates it anew: `{command}`"
    else:
        return
    raise ActionError(
        f"The branch's backend stack {name} is {status}{why}: CloudFormation cannot update it, "
        f"so `pipeline-deploy` would fail. To fix it, {fix}. Nothing was installed.",
        title=f"Backend stack {status}",
    )


# ---- Backend secrets ----------------------------------------------------------------------


def secret_names(project: Path, backend_paths: Sequence[str]) -> list[str]:
    """The names the backend reads with `secret('NAME')`, in `amplify/` and `backend-paths`."""
    files = list(_sources(project / "amplify"))
    for pattern in backend_paths:
        for match in sorted(project.glob(pattern)):
            files += [match] if match.is_file() else list(_sources(match))
    names: set[str] = set()
    for path in files:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        text = _LINE_COMMENT.sub("", _BLOCK_COMMENT.sub("", text))
        names |= {m.group(2) for m in _SECRET_CALL.finditer(text)}
    return sorted(names)


def _sources(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return [
        p
        for p in sorted(folder.rglob("*"))
        if p.suffix in _SOURCE_SUFFIXES
        and p.is_file()
        and not _NOT_SOURCE_DIRS & set(p.relative_to(folder).parts)
    ]


def check_secrets(
    ssm: Ssm, app_id: str, branch: str, names: Sequence[str], given: Sequence[BackendSecret]
) -> str:
    """Every secret the backend reads is the branch's or the app's (or is being set now)."""
    wanted = [n for n in names if n not in {s.name for s in given}]
    if not wanted:
        return (
            f"{len(names)} secret(s) read, all set by `backend-secrets`"
            if names
            else "no secret() in the backend"
        )
    mine, shared = branch_secret_prefix(app_id, branch), shared_secret_prefix(app_id)
    found = ssm.existing([f"{mine}/{n}" for n in wanted] + [f"{shared}/{n}" for n in wanted])
    missing = [n for n in wanted if f"{mine}/{n}" not in found and f"{shared}/{n}" not in found]
    if missing:
        raise ActionError(
            _missing_secrets(missing, branch, mine, shared), title="Backend secret not set"
        )
    return f"{len(names)} secret(s) read by the backend, all set"


def _missing_secrets(missing: list[str], branch: str, mine: str, shared: str) -> str:
    listed = ", ".join(f"`{n}`" for n in missing)
    lines = "\n".join(f"  {n}=${{{{ secrets.{n} }}}}" for n in missing)
    return (
        f"The backend reads secret(s) {listed} with `secret()`, and none is set for branch "
        f"`{branch}` ({mine}/…) or for every branch ({shared}/…): `pipeline-deploy` would fail "
        "with SecretNotSetError. Set them with the input `backend-secrets`:\n"
        f"backend-secrets: |\n{lines}\n"
        "or in the Amplify console (Hosting → Secrets: for this branch, or for all branches). "
        "Nothing was installed."
    )


def set_secrets(
    ssm: Ssm, workflow: Workflow, app_id: str, branch: str, secrets: Sequence[BackendSecret]
) -> str:
    """Write `backend-secrets` as the branch's secrets (SecureString, overwriting)."""
    prefix = branch_secret_prefix(app_id, branch)
    for secret in secrets:
        ssm.put_secret(f"{prefix}/{secret.name}", secret.value)
        workflow.info(f"Set secret `{secret.name}` of branch `{branch}` ({prefix}/{secret.name}).")
    return ", ".join(s.name for s in secrets)


def branch_secret_names(ssm: Ssm, app_id: str, branch: str) -> list[str]:
    """The branch's own secrets, never the app's shared ones."""
    prefix = branch_secret_prefix(app_id, branch)
    # Provably the branch's: right under its own path, which holds its stack name's hash.
    return [n for n in ssm.names_under(prefix) if n.rpartition("/")[0] == prefix]


def delete_branch_secrets(ssm: Ssm, workflow: Workflow, app_id: str, branch: str) -> int:
    """Delete the branch's own secrets (never the app's shared ones); how many went."""
    names = branch_secret_names(ssm, app_id, branch)
    ssm.delete(names)
    for name in names:
        workflow.info(f"Deleted secret {name}.")
    return len(names)


# ---- All of it, for a run -----------------------------------------------------------------


def before_deploy(s: Settings, workflow: Workflow, cancellation: Cancellation) -> list[str]:
    """Run the three checks for this run's deploy; a line per check. A dry run does not
    wait for a busy stack. Warnings (a check not allowed) are printed here."""
    assert s.region is not None  # noqa: S101 - inputs require a region to deploy
    clients = (s.region, s.max_attempts, s.child_env)
    ssm = Ssm(*clients, mask=workflow.mask, cancellation=cancellation)
    cfn = CloudFormation(*clients, mask=workflow.mask, cancellation=cancellation)
    identity = Identity(*clients, mask=workflow.mask, cancellation=cancellation)
    checks: list[tuple[str, Callable[[], str]]] = [
        ("CDK bootstrap", lambda: check_bootstrap(ssm, identity)),
        ("Backend stack", lambda: check_stack(
            cfn, workflow, s.app_id, s.branch,
            wait_minutes=None if s.dry_run else s.wait_for_stack_minutes,
            sleep=cancellation.sleep, cancelled=lambda: cancellation.requested,
        )),
        ("Backend secrets", lambda: check_secrets(
            ssm, s.app_id, s.branch,
            secret_names(s.working_directory, s.backend_paths), s.backend_secrets,
        )),
    ]  # fmt: skip
    lines = []
    for name, check in checks:
        try:
            lines.append(f"{name}: {check()}")
        except AwsError as e:
            if e.code not in PERMISSION_CODES:
                raise
            workflow.warning(
                f"Could not check the {name.lower()} before the deploy: {e.message} "
                "The deploy goes on, and finds out itself.",
                title=f"{name} not checked",
            )
            lines.append(f"{name}: not checked (permission missing)")
        workflow.info(lines[-1])
    return lines


def secrets_client(s: Settings, workflow: Workflow, cancellation: Cancellation) -> Ssm:
    assert s.region is not None  # noqa: S101 - inputs require a region here
    return Ssm(s.region, s.max_attempts, s.child_env, mask=workflow.mask, cancellation=cancellation)
