"""CloudFormation for the tests: moto's server on 127.0.0.1, with real stacks in it.

The action reaches it through `AWS_ENDPOINT_URL_CLOUDFORMATION`. Stacks are made
from a real template (an SQS queue, an SSM parameter, an S3 bucket), so deleting
one really removes its resources from moto.

One thing moto does not do as CloudFormation does: it deletes a stack inside the
`DeleteStack` call, reports no resource events, and when a resource refuses to
go it raises out of the call and loses the stack (moto 5.2.5,
`CloudFormationBackend.delete_stack` pops the stack before deleting it). Real
CloudFormation answers `DeleteStack` at once and works in the background: the
stack is `DELETE_IN_PROGRESS`, each resource's status change is an event, and a
resource that will not go leaves the stack `DELETE_FAILED`, still there. So this
server wraps moto's delete to behave that way: resources go one by one
(`seconds_per_resource` apart) with events, a resource named by `fail_delete`
ends `DELETE_FAILED` with its reason and keeps the stack, `hold_deletes` keeps a
delete in progress until released; when every resource went, moto's own delete
runs and really removes them.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs

import boto3
from moto.cloudformation import models as cfn_models

from support.moto_server import Answer, MotoServer

ACCOUNT_ID = "123456789012"  # moto's default account
REGION = "us-east-1"
CREDENTIALS = {"aws_access_key_id": "AKIDTEST", "aws_secret_access_key": "secret"}

TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Description: a stand-in for an Amplify Gen 2 branch backend
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: {name}-queue
  Setting:
    Type: AWS::SSM::Parameter
    Properties:
      Name: /{name}/setting
      Type: String
      Value: "1"
  Storage:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: {bucket}
"""


def _access_denied(action: str, *, json_protocol: bool) -> Answer:
    """What AWS answers a role without the permission: a JSON-protocol service (SSM) an
    AccessDeniedException, CloudFormation (query protocol) a 403 AccessDenied."""
    if json_protocol:
        body = json.dumps({
            "__type": "AccessDeniedException",
            "message": f"User: arn:aws:sts::{ACCOUNT_ID}:assumed-role/deploy/ci is not authorized "
            f"to perform: ssm:{action} because no identity-based policy allows the ssm:{action} action",
        }).encode()  # fmt: skip
        return "400 Bad Request", [("Content-Type", "application/x-amz-json-1.1")], body
    body = (
        '<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">'
        "<Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: "
        f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/deploy/gh is not authorized to perform: "
        f"cloudformation:{action} because no identity-based policy allows the "
        f"cloudformation:{action} action</Message></Error>"
        "<RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
    ).encode()
    return "403 Forbidden", [("Content-Type", "text/xml"), ("Content-Length", str(len(body)))], body


class CloudFormationServer:
    """moto on 127.0.0.1 with CloudFormation's asynchronous, fallible delete."""

    def __init__(self, seconds_per_resource: float = 0.05):
        self.seconds_per_resource = seconds_per_resource
        self._requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._denied: dict[str, set[str] | None] = {}
        self._server = MotoServer(self._record)
        self._failures: dict[tuple[str, str], str] = {}
        self._hold = threading.Event()
        self._hold.set()
        self._original_delete: Any = None
        self._threads: list[threading.Thread] = []

    # -- lifecycle --------------------------------------------------------

    def __enter__(self) -> CloudFormationServer:
        self._server.start()
        self._original_delete = cfn_models.CloudFormationBackend.delete_stack
        server = self

        def delete_stack(backend: Any, name_or_stack_id: str) -> None:
            server._start_delete(backend, name_or_stack_id)

        cfn_models.CloudFormationBackend.delete_stack = delete_stack  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        self._hold.set()
        for thread in self._threads:
            thread.join(timeout=10)
        cfn_models.CloudFormationBackend.delete_stack = self._original_delete  # type: ignore[method-assign]
        self._server.stop()

    @property
    def url(self) -> str:
        return self._server.url

    def client(self) -> Any:
        return boto3.client(
            "cloudformation", endpoint_url=self.url, region_name=REGION, **CREDENTIALS
        )

    # -- what the tests set up and look at ----------------------------------

    def create_stack(self, name: str, tags: dict[str, str] | None = None) -> str:
        """A real stack with three resources, and `tags` on the stack; its ARN."""
        bucket = f"b-{abs(hash(name)) % 10**12}"
        body = TEMPLATE.format(name=name, bucket=bucket)
        stack_id: str = self.client().create_stack(
            StackName=name,
            TemplateBody=body,
            Tags=[{"Key": k, "Value": v} for k, v in (tags or {}).items()],
        )["StackId"]
        return stack_id

    def status(self, stack_id: str) -> str | None:
        """The stack's status by ARN (deleted stacks too), None when unknown."""
        try:
            stacks = self.client().describe_stacks(StackName=stack_id)["Stacks"]
        except self.client().exceptions.ClientError:
            return None
        return str(stacks[0]["StackStatus"])

    def queue_exists(self, name: str) -> bool:
        sqs = boto3.client("sqs", endpoint_url=self.url, region_name=REGION, **CREDENTIALS)
        return any(u.endswith(f"/{name}-queue") for u in sqs.list_queues().get("QueueUrls", []))

    def fail_delete(self, stack_name: str, logical_id: str, reason: str) -> None:
        """The next deletes of `stack_name` leave `logical_id` in place, DELETE_FAILED."""
        self._failures[(stack_name, logical_id)] = reason

    def deny(self, action: str, stack: str | None = None) -> None:
        """The action's calls of `action` (e.g. `DescribeStacks`) answer AccessDenied from
        now on: all of them, or those naming `stack` (its name or ARN, as the call gives it),
        as a role whose policy covers only some stacks."""
        if stack is None:
            self._denied[action] = None
        elif self._denied.get(action, set()) is not None:
            self._denied.setdefault(action, set()).add(stack)  # type: ignore[union-attr]

    def allow_delete(self, stack_name: str, logical_id: str) -> None:
        self._failures.pop((stack_name, logical_id), None)

    @contextmanager
    def hold_deletes(self) -> Iterator[threading.Event]:
        """Deletes stay DELETE_IN_PROGRESS until the yielded event is set (or the block ends)."""
        self._hold.clear()
        try:
            yield self._hold
        finally:
            self._hold.set()

    def set_status(self, stack_id: str, status: str) -> None:
        """Put the stack in a status moto's own calls never leave it in (UPDATE_IN_PROGRESS,
        UPDATE_ROLLBACK_FAILED, ...), as another deploy or a failed one would."""
        for backend in cfn_models.cloudformation_backends[ACCOUNT_ID].values():
            stack = backend.stacks.get(stack_id)
            if stack is not None:
                stack.status = status
                return
        raise KeyError(stack_id)

    @property
    def requests(self) -> list[str]:
        """The action's own calls, in order: their actions' names (`DescribeStacks`)."""
        with self._lock:
            return [action for action, _ in self._requests]

    def bodies(self, action: str) -> list[str]:
        """The request bodies of the action's calls of `action`."""
        with self._lock:
            return [body for name, body in self._requests if name == action]

    def count(self, action: str) -> int:
        return self.requests.count(action)

    def _record(self, action: str, user_agent: str, body: bytes) -> Answer | None:
        """Only the action's own calls (its user agent): not the tests' setup and checks."""
        if "ampaction/" not in user_agent:
            return None
        text = body.decode("utf-8", "replace")
        with self._lock:
            self._requests.append((action, text))
        stacks = self._denied.get(action, ())
        if stacks is None or (parse_qs(text).get("StackName") or [""])[0] in stacks:
            # moto does not enforce IAM: refuse as AWS does (JSON-protocol bodies: SSM's).
            return _access_denied(action, json_protocol=body.startswith(b"{"))
        return None

    # -- the asynchronous delete ---------------------------------------------

    def _start_delete(self, backend: Any, name_or_stack_id: str) -> None:
        try:
            stack = backend.get_stack(name_or_stack_id)
        except Exception:
            return  # CloudFormation answers a delete of a missing stack with success
        if stack.status in ("DELETE_COMPLETE", "DELETE_IN_PROGRESS"):
            return
        stack.status = "DELETE_IN_PROGRESS"
        stack._add_stack_event("DELETE_IN_PROGRESS", resource_status_reason="User Initiated")
        thread = threading.Thread(target=self._delete, args=(backend, stack), daemon=True)
        self._threads.append(thread)
        thread.start()

    def _delete(self, backend: Any, stack: Any) -> None:
        resources = stack.resource_map._resource_json_map
        parsed = stack.resource_map._parsed_resources
        failed = []
        for logical_id in reversed(list(resources)):
            kind = resources[logical_id]["Type"]
            physical = getattr(parsed.get(logical_id), "physical_resource_id", logical_id)
            self._resource_event(
                stack, logical_id, physical, kind, status="DELETE_IN_PROGRESS", reason=None
            )
            time.sleep(self.seconds_per_resource)
            reason = self._failures.get((stack.name, logical_id))
            if reason:
                failed.append(logical_id)
                self._resource_event(
                    stack, logical_id, physical, kind, status="DELETE_FAILED", reason=reason
                )
            else:
                self._resource_event(
                    stack, logical_id, physical, kind, status="DELETE_COMPLETE", reason=None
                )
        self._hold.wait(timeout=120)
        if failed:
            stack.status = "DELETE_FAILED"
            stack._add_stack_event(
                "DELETE_FAILED",
                resource_status_reason="The following resource(s) failed to delete: "
                f"[{', '.join(failed)}]. ",
            )
            return
        self._original_delete(backend, stack.stack_id)  # moto really removes them

    @staticmethod
    def _resource_event(
        stack: Any, logical_id: str, physical: str, kind: str, *, status: str, reason: str | None
    ) -> None:
        stack.events.append(
            cfn_models.Event(
                stack_id=stack.stack_id,
                stack_name=stack.name,
                logical_resource_id=logical_id,
                physical_resource_id=physical,
                resource_type=kind,
                resource_status=status,
                resource_status_reason=reason,
                resource_properties=None,
            )
        )
