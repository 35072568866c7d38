"""The branch's incoming webhook, found or created (the POST to it is `trigger`'s).

The webhook URL carries the only credential Amplify asks for, so it is
masked the moment it is known and never leaves this module in a message.

Concurrent runs (a matrix, two pushes) converge: after creating, look
again; when several marked webhooks exist for a branch, every run keeps the
same one (oldest `createTime`, then smallest id) and deletes only extras it
made itself.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ampaction.amplify import Amplify
from ampaction.errors import ActionError
from ampaction.workflow import Workflow


@dataclass(frozen=True)
class Webhook:
    id: str
    url: str
    created: bool


def find_webhook(
    amplify: Amplify, workflow: Workflow, app_id: str, branch: str, description: str
) -> Webhook | None:
    """The branch's webhook marked with `description`, the one every run picks; read-only."""
    marked = _marked(amplify.list_webhooks(app_id), branch, description)
    for hook in marked:
        workflow.mask(hook["webhookUrl"])
    if not marked:
        return None
    return Webhook(marked[0]["webhookId"], marked[0]["webhookUrl"], created=False)


def find_or_create_webhook(
    amplify: Amplify, workflow: Workflow, app_id: str, branch: str, description: str
) -> Webhook:
    """The branch's webhook marked with `description`, created when there is none."""
    existing = find_webhook(amplify, workflow, app_id, branch, description)
    if existing:
        return existing

    made, retried = amplify.create_webhook(app_id, branch, description)
    workflow.mask(made["webhookUrl"])
    # Another run may have created one at the same moment: look again, and
    # let every run settle on the same one.
    settled = find_webhook(amplify, workflow, app_id, branch, description)
    keep = {"webhookId": settled.id, "webhookUrl": settled.url} if settled else made
    if keep["webhookId"] != made["webhookId"]:
        if retried:
            # CreateWebhook answered an error, did create, and the SDK sent it again.
            workflow.info(
                f"An earlier try of this run's CreateWebhook did create webhook "
                f"{keep['webhookId']} (Amplify answered it with an error): using it."
            )
        else:
            workflow.info(
                f"Another run created webhook {keep['webhookId']} at the same time: using it."
            )
        try:
            amplify.delete_webhook(made["webhookId"])
        except ActionError as e:
            workflow.warning(f"Could not delete the extra webhook {made['webhookId']}: {e.message}")
        return Webhook(keep["webhookId"], keep["webhookUrl"], created=retried)
    return Webhook(made["webhookId"], made["webhookUrl"], created=True)


def _marked(webhooks: list[dict[str, Any]], branch: str, description: str) -> list[dict[str, Any]]:
    """This branch's webhooks carrying our marker, the one every run keeps first."""
    mine = [
        w
        for w in webhooks
        if w.get("branchName") == branch and (w.get("description") or "") == description
    ]
    return sorted(mine, key=lambda w: (_timestamp(w.get("createTime")), w.get("webhookId", "")))


def _timestamp(value: object) -> float:
    return value.timestamp() if isinstance(value, dt.datetime) else float("inf")
