"""The secret-hygiene check every test gets (conftest's autouse `harness`): no
webhook token a simulator issued may appear in what a run showed the runner."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from support.amplify_sim import AmplifySimulator
from support.entrypoint import ActionRun


@dataclass
class Harness:
    """Everything a test run touched, for the hygiene check."""

    sims: list[AmplifySimulator] = field(default_factory=list)
    runs: list[ActionRun] = field(default_factory=list)
    # Other secrets a test handed the action (a GitHub token): checked the same way.
    secrets: set[str] = field(default_factory=set)

    def tokens(self) -> set[str]:
        """Every token the servers issued (their own record, deleted webhooks' too),
        and the other secrets the test registered."""
        found: set[str] = set(self.secrets)
        for sim in self.sims:
            found |= sim.issued_tokens()
        return found

    def leaks(self) -> list[str]:
        """How each run that showed a token showed it (empty: none did)."""
        return leaks(self.runs, self.tokens())


def leaks(runs: Sequence[ActionRun], tokens: set[str]) -> list[str]:
    found = []
    for n, run in enumerate(runs):
        shown = shown_lines if run.on_github else str
        texts = {
            "stdout": shown(run.stdout),
            "stderr": shown(run.stderr),
            "outputs": json.dumps(run.outputs),
            "summary": run.summary,
        }
        found += [f"run {n}: {where}" for where, t in texts.items() if any(k in t for k in tokens)]
    return found


def shown_lines(text: str) -> str:
    """What the runner shows of a log: all but the `::add-mask::` commands it consumes
    (which it does act on only outside a stop-commands block)."""
    shown, stop = [], None
    for line in text.splitlines():
        bare = line.lstrip()
        if stop is None and bare.startswith("::stop-commands::"):
            stop = "::" + bare.removeprefix("::stop-commands::") + "::"
        elif stop is not None and bare == stop:
            stop = None
        elif stop is None and bare.startswith("::add-mask::"):
            continue
        shown.append(line)
    return "\n".join(shown)


def token_of(url: str) -> str:
    """The secret part of a webhook URL."""
    return dict(parse_qsl(urlsplit(url).query))["token"]
