from __future__ import annotations


class ToolError(Exception):
    """A failure the user can act on: ``csg-sign`` prints its one-line message and exits with 2."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
