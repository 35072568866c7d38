"""What the run tells the user at the end: outputs, and the job summary on the run page.

Each step is recorded as it ends (result, duration, a detail line); the
summary is a Markdown table of them, the webhook id (never its URL), the
job with its status and link, and on failure what to do next.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from ampaction.errors import ActionError
from ampaction.workflow import Workflow

ICONS = {"succeeded": "✅", "failed": "❌", "skipped": "⏭️", "planned": "📝", "cancelled": "🛑"}


@dataclass
class Step:
    name: str
    result: str
    seconds: float
    detail: str = ""


@dataclass
class Report:
    """What happened, gathered during the run, written once at its end."""

    app_id: str = ""
    branch: str = ""
    command: str = "deploy"
    steps: list[Step] = field(default_factory=list)
    outputs: dict[str, str] = field(
        default_factory=lambda: {
            "backend-deployed": "false",
            "amplify-outputs": "",
            "frontend-triggered": "false",
            "webhook-id": "",
            "webhook-created": "false",
            "job-id": "",
            "job-status": "",
            "job-url": "",
            "frontend-url": "",
            "branch-created": "false",
            "backend-skipped": "false",
            "deployment-id": "",
            "gen3-deployment-id": "",
            "swept-branches": "",
        }
    )
    failure: ActionError | None = None
    next_steps: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # what preflight found worth fixing
    deployment_url: str = ""  # the GitHub environment's page, when this run recorded one

    @contextmanager
    def step(self, name: str, workflow: Workflow) -> Iterator[Step]:
        """Time a step in its own log group; a raised error marks it failed."""
        record = Step(name, "succeeded", 0.0)
        start = time.monotonic()
        with workflow.group(name):
            try:
                yield record
            except ActionError as e:
                record.result = "cancelled" if e.title == "Cancelled" else "failed"
                raise
            finally:
                record.seconds = time.monotonic() - start
                self.steps.append(record)

    def skip(self, name: str, why: str) -> None:
        self.steps.append(Step(name, "skipped", 0.0, why))

    def plan(self, name: str, what: str) -> None:
        self.steps.append(Step(name, "planned", 0.0, what))

    def lead(self) -> list[str]:
        """What a person wants to open first: the frontend, the Amplify job, the deployment."""
        out = self.outputs
        links = []
        if out["frontend-url"] and self.command == "deploy":
            links.append(f"- Frontend: {markdown_cell(out['frontend-url'])}")
        links += self._frontend_facts()
        if out["deployment-id"] and self.deployment_url:
            links.append(f"- GitHub deployment: [{out['deployment-id']}]({self.deployment_url})")
        if out["swept-branches"]:
            links.append(f"- Removed: {markdown_cell(out['swept-branches'])}")
        return links

    def write(self, workflow: Workflow) -> None:
        for name, value in self.outputs.items():
            workflow.set_output(name, value)
        workflow.add_summary(self.markdown())

    def markdown(self) -> str:
        verdict = "failed" if self.failure else "succeeded"
        what = (
            f"`{markdown_cell(self.branch)}` of app"
            if self.command != "sweep"
            else "previews of app"
        )
        lines = [f"### Amplify {self.command} {verdict}: {what} `{self.app_id}`", ""]
        lead = self.lead()
        if lead:
            lines += [*lead, ""]
        lines += ["| Step | Result | Time | Details |", "| --- | --- | --- | --- |"]
        for s in self.steps:
            took = f"{s.seconds:.1f} s" if s.result not in ("skipped", "planned") else ""
            lines.append(
                f"| {s.name} | {ICONS.get(s.result, '')} {s.result} | {took} | {markdown_cell(s.detail)} |"
            )
        facts = []
        if self.outputs["webhook-id"]:
            made = " (created by this run)" if self.outputs["webhook-created"] == "true" else ""
            facts.append(f"- Webhook: `{self.outputs['webhook-id']}`{made}")
        if self.outputs["amplify-outputs"]:
            facts.append(f"- Backend outputs: `{self.outputs['amplify-outputs']}`")
        if facts:
            lines += ["", *facts]
        if self.warnings:
            lines += ["", "**Warnings:**", *[f"- {markdown_cell(w)}" for w in self.warnings]]
        if self.failure:
            lines += [
                "",
                f"**{markdown_cell(self.failure.title)}:** {markdown_cell(self.failure.message)}",
            ]
        if self.next_steps:
            lines += [
                "",
                "**What to do next:**",
                *[f"- {markdown_cell(n)}" for n in self.next_steps],
            ]
        return "\n".join(lines) + "\n"

    def _frontend_facts(self) -> list[str]:
        """The frontend's deployment or job, with its console link."""
        out = self.outputs
        link = f" — [Amplify console]({out['job-url']})" if out["job-url"] else ""
        if out["gen3-deployment-id"]:
            status = out["job-status"] or "created"
            return [f"- Gen 3 deployment: `{out['gen3-deployment-id']}`, {status}{link}"]
        if out["job-id"]:
            return [f"- Frontend job: `{out['job-id']}`, {out['job-status'] or 'started'}{link}"]
        if out["job-url"]:
            return [f"- Frontend builds: [Amplify console]({out['job-url']})"]
        return []


def markdown_cell(text: str) -> str:
    """Text inside a Markdown table cell or line: no pipes or line breaks to break it."""
    return text.replace("|", "\\|").replace("\r", " ").replace("\n", " ").replace("<", "&lt;")
