"""A branch's backend stack in CloudFormation: its name, and the calls that delete it.

`ampx pipeline-deploy` names the stack with `@aws-amplify/platform-core`'s
`BackendIdentifierConversions.toStackName` (namespace: the app ID, name: the
branch, type `branch`); `backend_stack_name` is that function, kept byte for
byte equal (tests/realcli compares it with the package's own output).
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from ampaction.aws import AwsError, AwsService

# BackendIdentifierConversions' constants.
_STACK_NAME_LIMIT = 128
_PREFIX = "amplify"
_HASH_LENGTH = 10
_DASHES = 4
_NAME_LIMIT = 50
_DISALLOWED = re.compile(r"[^A-Za-z0-9]")
EVENT_PAGE = 100  # what one DescribeStackEvents page holds


def backend_stack_name(app_id: str, branch: str, kind: str = "branch") -> str:
    """The stack `pipeline-deploy` makes for `branch` of app `app_id`.

    Only letters and digits survive; the branch keeps its first 50 of them and the
    namespace what fits in CloudFormation's 128 characters; the hash is the
    first 10 hex digits of SHA-512 over the unsanitised namespace then name.
    """
    digest = hashlib.sha512((app_id + branch).encode("utf-8")).hexdigest()[:_HASH_LENGTH]
    name = _DISALLOWED.sub("", branch)[:_NAME_LIMIT]
    room = _STACK_NAME_LIMIT - len(_PREFIX) - len(kind) - len(name) - _DASHES - _HASH_LENGTH
    namespace = _DISALLOWED.sub("", app_id)[: room - 1]
    return "-".join([_PREFIX, namespace, name, kind, digest])


class CloudFormation(AwsService):
    """The three calls teardown makes, translated into errors a user can act on."""

    service = "cloudformation"
    failure_title = "CloudFormation call failed"
    permissions_hint = (
        "Give the role the teardown statement of the README (cloudformation:DescribeStacks, "
        "cloudformation:DescribeStackEvents, cloudformation:DeleteStack on "
        "`amplify-<app-id>-*` stacks)."
    )

    def find_stack(self, name_or_arn: str) -> dict[str, Any] | None:
        """The stack, or None when CloudFormation has no such stack.

        By ARN, a deleted stack is still found, with status `DELETE_COMPLETE`; by
        name, it is not found at all.
        """
        try:
            response = self._call(
                "describe_stacks", f"read stack {name_or_arn}", StackName=name_or_arn
            )
        except AwsError as e:
            # CloudFormation's only answer for a missing stack: ValidationError, "does not exist".
            if e.code == "ValidationError" and "does not exist" in e.message:
                return None
            raise
        stacks = response.get("Stacks") or []
        return stacks[0] if stacks else None

    def delete_stack(self, stack_id: str) -> None:
        self._call("delete_stack", f"delete stack {stack_id}", StackName=stack_id)

    def recent_events(self, stack_id: str) -> list[dict[str, Any]]:
        """The stack's newest events (one page), newest first."""
        response = self._call(
            "describe_stack_events", f"read the events of stack {stack_id}", StackName=stack_id
        )
        return list(response.get("StackEvents") or [])[:EVENT_PAGE]
