"""Failures a user can act on.

Errors are raised where they are found, with a message that says what to do,
and printed once, at the top (`main`), as one `::error` annotation.
"""

from __future__ import annotations


class ActionError(Exception):
    """A failure with a message for the user; `title` heads its annotation."""

    def __init__(self, message: str, *, title: str = "Amplify deploy failed", exit_code: int = 1):
        super().__init__(message)
        self.message = message
        self.title = title
        self.exit_code = exit_code


class InputError(ActionError):
    """One bad input: names the input and the values it accepts."""

    def __init__(self, name: str, message: str):
        super().__init__(f"Input `{name}`: {message}", title=f"Bad input: {name}")
        self.input = name


class BadInputs(ActionError):
    """Every bad input of a run, reported together before anything happens."""

    def __init__(self, errors: list[InputError]):
        super().__init__("; ".join(e.message for e in errors), title="Bad input")
        self.errors = errors


class Cancelled(ActionError):
    """The runner asked us to stop (SIGTERM/SIGINT): nothing more may start."""

    def __init__(self, what: str, *, outcome: str = "nothing was triggered after it."):
        super().__init__(
            f"Cancelled during {what}: {outcome}",
            title="Cancelled",
            exit_code=130,
        )
