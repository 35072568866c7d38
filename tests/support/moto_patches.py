"""What moto's server needs to host a real Gen 2 backend that `ampx pipeline-deploy` made.

moto 5.2.5 (5.2.6 too) runs the real CLI's CloudFormation almost as AWS does; three things
stand in the way, and `patched()` changes them for as long as its block runs:

- `GetTemplateSummary` returns the template's `Metadata` as a Python repr (`{'a': 'b'}`)
  instead of JSON. The CLI reads the Amplify metadata in it to know which outputs the
  backend has; a repr does not parse, so `amplify_outputs.json` could not be written.
  The patch serialises it as JSON.
- `Stack` has no `get_cfn_attribute`, so the root stack's `Fn::GetAtt [Nested,
  Outputs.X]` (how a Gen 2 root stack reads its nested stacks' outputs) fails, and
  `DescribeStacks` then returns no Outputs at all. The patch answers `Outputs.X` with
  the nested stack's output `X`.
- A custom resource (`Custom::AmplifyBranchLinkerResource`, CDK's own) makes moto invoke
  its Lambda in Docker, which pulls images: a test must never do that (nor reach
  anything beyond 127.0.0.1). The patch records the resource as created at once, with
  no data, as if its Lambda had answered SUCCESS: nothing is invoked. Start moto with
  Docker unreachable all the same (`no_docker()`), so a path this misses fails fast.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from moto.cloudformation import custom_model, models, responses
from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

_OUTPUTS = "Outputs."


def _template_summary(template_body: str) -> dict[str, Any]:
    summary = _ORIGINAL_SUMMARY(template_body)
    if isinstance(summary.get("Metadata"), (dict, list)):
        summary["Metadata"] = json.dumps(summary["Metadata"])
    return summary


def _stack_attribute(stack: models.Stack, attribute_name: str) -> Any:
    """`Fn::GetAtt [NestedStack, Outputs.X]`: the nested stack's output X."""
    if attribute_name.startswith(_OUTPUTS):
        key = attribute_name[len(_OUTPUTS) :]
        for output in stack.output_map.values():
            if output and output.key == key:
                return output.value
    raise UnformattedGetAttTemplateException()


def _create_custom_resource(
    cls: type[custom_model.CustomModel],
    resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> custom_model.CustomModel:
    """The custom resource, already answered SUCCESS (no data); its Lambda is never run."""
    resource = cls(region_name, "no-request", kwargs["LogicalId"], resource_name)
    stack = models.cloudformation_backends[account_id][region_name].get_stack(kwargs["StackId"])
    stack.add_custom_resource(resource)
    resource.set_data({})
    return resource


_ORIGINAL_SUMMARY = responses.get_template_summary_response_from_template


@contextmanager
def patched() -> Iterator[None]:
    """moto with the three fixes above, undone when the block ends."""
    originals = (
        responses.get_template_summary_response_from_template,
        models.Stack.__dict__.get("get_cfn_attribute"),
        custom_model.CustomModel.__dict__["create_from_cloudformation_json"],
    )
    responses.get_template_summary_response_from_template = _template_summary
    models.Stack.get_cfn_attribute = _stack_attribute  # type: ignore[method-assign]
    custom_model.CustomModel.create_from_cloudformation_json = classmethod(  # type: ignore[method-assign, assignment]
        _create_custom_resource
    )
    try:
        yield
    finally:
        responses.get_template_summary_response_from_template = originals[0]
        if originals[1] is None:
            del models.Stack.get_cfn_attribute
        else:
            models.Stack.get_cfn_attribute = originals[1]  # type: ignore[method-assign]
        custom_model.CustomModel.create_from_cloudformation_json = originals[2]  # type: ignore[method-assign]


@contextmanager
def no_docker() -> Iterator[None]:
    """This process's Docker clients (moto's Lambda) find no engine: a closed socket."""
    before = os.environ.get("DOCKER_HOST")
    os.environ["DOCKER_HOST"] = "unix:///nonexistent/docker.sock"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("DOCKER_HOST", None)
        else:
            os.environ["DOCKER_HOST"] = before
