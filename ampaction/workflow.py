"""Everything the action says to the runner: log lines, workflow commands, file commands.

No other module prints `::`. Every line passes `redaction.redact` on its way
out, and text the action does not control (child output, API error messages,
library logs) is printed between `::stop-commands::<token>` and `::<token>::`
so that it cannot issue workflow commands. Formatting and escaping come from
actions-toolkit; the file paths come from the settings, not from `os.environ`.
"""

from __future__ import annotations

import logging
import secrets
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from actions_toolkit.command import Command
from actions_toolkit.file_command import prepare_key_value_message

from ampaction import redaction

SUMMARY_LIMIT = 1024 * 1024  # the runner refuses a step summary above 1 MiB
_CUT_NOTICE = b"\n\n_(summary cut: the runner accepts at most 1 MiB)_\n"


class Workflow:
    """The runner's side of the conversation, for one run."""

    def __init__(
        self,
        *,
        output_file: Path | None = None,
        summary_file: Path | None = None,
        out: TextIO | None = None,
        on_github: bool = True,
    ):
        self.output_file = output_file
        # `::add-mask::` means something only to GitHub's runner: GitLab, CodeCatalyst
        # or a shell would print the secret as it is. Redaction alone keeps it out there.
        self.on_github = on_github
        self.summary_file = summary_file
        self.out = out or sys.stdout
        # Held for a whole stop-commands block too (reentrant: the block's own lines take it
        # again): a mask or annotation from another thread (a worker's AWS call logs from
        # its own thread) would otherwise land inside the block, as plain text.
        self._lock = threading.RLock()
        self._summary_size = 0
        self._summary_cut = False
        self._masked: set[str] = set()
        # A runner file that could not be written (a missing folder): said once, and the
        # run fails, but the rest of the report still goes out.
        self.file_failed = False

    # -- plain lines -------------------------------------------------------

    def _write(self, text: str) -> None:
        with self._lock:
            self.out.write(text + "\n")
            self.out.flush()

    def info(self, message: str) -> None:
        """A line of the action's own; it never starts a workflow command."""
        for line in redaction.redact(message).splitlines() or [""]:
            if line.lstrip().startswith("::") or "##[" in line:
                self.untrusted([line])
            else:
                self._write(line)

    def untrusted(self, lines: Iterable[str]) -> None:
        """Print text the action does not control, with workflow commands switched off."""
        with self.commands_off() as emit:
            for line in lines:
                emit(line)

    @contextmanager
    def commands_off(self) -> Iterator[Callable[[str], None]]:
        """Switch workflow commands off while streaming untrusted lines (child output)."""
        token = secrets.token_hex(16)
        with self._lock:
            self._command("stop-commands", token)
            try:
                yield lambda line: self._write(redaction.redact(line))
            finally:
                self._write(f"::{token}::")

    # -- workflow commands ------------------------------------------------

    def _command(self, name: str, message: str = "", **properties: str) -> None:
        self._write(str(Command(name, dict(properties), redaction.redact(message))))

    def mask(self, secret: str) -> None:
        """Mask a secret in the runner's log from now on, and in everything we print."""
        for form in redaction.register(secret):
            if form in self._masked:
                continue
            self._masked.add(form)
            if not self.on_github:
                continue
            # Not via _command: redacting the mask command would mask nothing.
            self._write(str(Command("add-mask", {}, form)))

    def error(self, message: str, *, title: str | None = None) -> None:
        props = {"title": redaction.redact(title)} if title else {}
        self._command("error", message, **props)

    def warning(self, message: str, *, title: str | None = None) -> None:
        props = {"title": redaction.redact(title)} if title else {}
        self._command("warning", message, **props)

    def notice(self, message: str, *, title: str | None = None) -> None:
        """Worth knowing, nothing to fix: shown among the run's annotations."""
        props = {"title": redaction.redact(title)} if title else {}
        self._command("notice", message, **props)

    @contextmanager
    def group(self, title: str) -> Iterator[None]:
        """A foldable log group, one per step of the run."""
        self._command("group", title)
        try:
            yield
        finally:
            self._command("endgroup")

    # -- file commands ----------------------------------------------------

    def set_output(self, name: str, value: str) -> None:
        """Write an output with a random heredoc delimiter, so no value can end it early."""
        value = redaction.redact(value)
        if self.output_file is None or not self._append(
            self.output_file, (prepare_key_value_message(name, value) + "\n").encode(), "outputs"
        ):
            # Outside GitHub (GitLab, CodeCatalyst) there is no output file: say it in the log.
            self.info(f"output {name}={value}")

    def add_summary(self, markdown: str) -> None:
        """Append Markdown to the job summary, staying under the runner's 1 MiB limit."""
        if self.summary_file is None:
            return
        if self._summary_cut:
            return
        data = redaction.redact(markdown).encode("utf-8")
        room = SUMMARY_LIMIT - len(_CUT_NOTICE) - self._summary_size
        if len(data) > room:
            # Whole lines only, then say so: a cut mid-character or mid-table reads badly.
            data = data[: max(0, room)].rsplit(b"\n", 1)[0] + _CUT_NOTICE
            self._summary_cut = True
        self._summary_size += len(data)
        self._append(self.summary_file, data, "job summary")

    def _append(self, path: Path, data: bytes, what: str) -> bool:
        try:
            with path.open("ab") as f:
                f.write(data)
        except OSError as e:
            if not self.file_failed:
                self.error(
                    f"Could not write the step's {what} to `{path}`: {e.strerror or e}. The "
                    "runner gives this file; a step before this one may have removed its folder.",
                    title="Runner file not writable",
                )
            self.file_failed = True
            return False
        return True

    # -- library logging --------------------------------------------------

    def route_logging(self, debug: bool) -> None:
        """Send the libraries' logs (botocore, urllib3, tenacity) through here, redacted
        and with commands off: a debug log can hold a URL or an API error body."""
        root = logging.getLogger()
        for old in list(root.handlers):
            root.removeHandler(old)
        root.addHandler(_WorkflowLogHandler(self))
        root.setLevel(logging.DEBUG if debug else logging.WARNING)


class _WorkflowLogHandler(logging.Handler):
    def __init__(self, workflow: Workflow):
        super().__init__()
        self.workflow = workflow
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:  # a library's bad format string must not end the run
            text = f"{record.name}: (unformattable log record)"
        self.workflow.untrusted(text.splitlines())
