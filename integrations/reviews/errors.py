"""What the review services refuse with, in words a reviewer can act on."""

from __future__ import annotations


class TaskError(Exception):
    """A task cannot be changed that way; ``message`` says why, in plain words."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidValues(TaskError):
    """Values that do not fit the fields; ``errors`` per field. Nothing saved."""

    def __init__(
        self,
        errors: dict[str, str],
        message: str = "Some values need another look.",
    ) -> None:
        super().__init__(message)
        self.errors = errors
