"""The failures of `ampx pipeline-deploy` that users meet most, told by its output, each
with what to do about it.

The patterns follow the CLI's own table (@aws-amplify/backend-deployer,
src/cdk_error_mapper.ts in aws-amplify/amplify-backend) and the CDK's messages;
the fixes are this action's: an input to set, or a command to run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ampaction.ssm import branch_secret_prefix


@dataclass(frozen=True)
class Deploy:
    """What a fix may name: the deploy that failed."""

    app_id: str
    branch: str
    region: str


Fix = Callable[[re.Match[str], Deploy], str]
_NAME = r"([A-Za-z0-9_.-]+)"


def _secret(match: re.Match[str], d: Deploy) -> str:
    name = next((g for g in match.groups() if g), None)
    which = f"Secret `{name}`" if name else "A secret the backend reads"
    example = name or "NAME"
    return (
        f"{which} is not set for branch `{d.branch}` nor for every branch: set it with "
        f"the input `backend-secrets` (`{example}=${{{{ secrets.{example} }}}}`; the action "
        f"writes it to {branch_secret_prefix(d.app_id, d.branch)}/{example} before the deploy), "
        "or in the Amplify console (Hosting → Secrets)."
    )


def _bootstrap(_match: re.Match[str], d: Deploy) -> str:
    return (
        f"The account is not bootstrapped for the CDK in {d.region} (or its bootstrap is older "
        f"than version 6): run `npx cdk bootstrap aws://ACCOUNT/{d.region}` once, then re-run."
    )


def _busy(match: re.Match[str], d: Deploy) -> str:
    status = match.group(1)
    if status == "UPDATE_ROLLBACK_FAILED":
        return (
            "The branch's backend stack is UPDATE_ROLLBACK_FAILED: finish the rollback ("
            f"`aws cloudformation continue-update-rollback --stack-name <stack> --region {d.region}`), "
            "then re-run."
        )
    return (
        f"The branch's backend stack was {status}: another deploy or delete was running. "
        "Re-run when it is done; `wait-for-stack-minutes` makes the action wait for it."
    )


def _expired(_match: re.Match[str], _d: Deploy) -> str:
    return (
        "The AWS credentials expired (or were refused) during the deploy: give the role a "
        "longer session (`role-duration-seconds` of aws-actions/configure-aws-credentials, "
        "within the role's maximum session duration), then re-run."
    )


def _denied(match: re.Match[str], _d: Deploy) -> str:
    action = next((g for g in match.groups() if g), None)
    what = f"`{action}`" if action else "an action the deploy needs"
    return (
        f"The deploy role may not call {what}: add it to the role's policy (AWS's managed "
        "policy AmplifyBackendDeployFullAccess covers a deploy), then re-run."
    )


def _no_manifest(_match: re.Match[str], _d: Deploy) -> str:
    return (
        "The CLI found no synthesised backend (cdk.out/manifest.json): `amplify/backend.ts` "
        "must call `defineBackend(...)`. Check the backend definition in `amplify/`."
    )


KNOWN: tuple[tuple[re.Pattern[str], Fix], ...] = (
    # The CLI's own words: "[SecretNotSetError] The secret 'NAME' specified in the backend
    # does not exist", from "Failed to retrieve backend secret 'NAME' for ...".
    (re.compile(rf"SecretNotSetError[^'\n]{{0,300}}'{_NAME}'|Failed to retrieve backend secret '?{_NAME}'? for"
                r"|SecretNotSetError"), _secret),
    (re.compile(r"Has the environment been bootstrapped|Is (?:account \d+|this account) "
                r"bootstrapped|Bootstrap(?:NotDetected|Outdated)Error|requires bootstrap stack "
                r"version"), _bootstrap),
    (re.compile(r"is in (\w+_IN_PROGRESS|UPDATE_ROLLBACK_FAILED) state and can not be updated"), _busy),
    (re.compile(r"ExpiredToken|security token included in the request is (?:expired|invalid)"), _expired),
    (re.compile(r"is not authorized to perform: ?([\w-]+:\w+)|(?:AccessDenied)"), _denied),
    (re.compile(r"cdk\.out.manifest\.json"), _no_manifest),
)  # fmt: skip


def fixes(output: Sequence[str], deploy: Deploy) -> list[str]:
    """The fix of each known failure the CLI's output shows, in the table's order."""
    text = "\n".join(output)
    found = []
    for pattern, fix in KNOWN:
        match = pattern.search(text)
        if match:
            found.append(fix(match, deploy))
    return found
