"""Problems with a run (not with the data): one small hierarchy, translated to a message in cli.py.

Every error crosses a process boundary intact (the portal's and merge's workers send them back
pickled): :meth:`XltoolError.__reduce__` rebuilds an error from its state, not by calling its
constructor again, so a subclass may take other arguments than it passes to ``Exception``.
"""

from __future__ import annotations

from typing import Any


class XltoolError(Exception):
    """Base of every error that stops a command. ``message`` is Chinese text for the user."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuilt, (type(self), self.args, dict(self.__dict__)))


def _rebuilt(cls: type[XltoolError], args: tuple[Any, ...], state: dict[str, Any]) -> XltoolError:
    """An error as it was pickled: the same class, ``args`` and attributes, without its constructor."""
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class DefinitionError(XltoolError):
    """A form-definition file is malformed (a developer error, reported with its path)."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"表式定义文件有误：{detail}")


class VersionError(XltoolError):
    """No form version is known for a requested version or report year."""

    def __init__(self, what: str, supported: str = "") -> None:
        super().__init__(f"没有适用于“{what}”的表式。" + (f"xltool 支持{supported}。" if supported else ""))


class UsageError(XltoolError):
    """A bad command-line option or argument (wrong year, unwritable path, ...)."""


class InputFileError(XltoolError):
    """An input file cannot be read as one of our workbooks (missing, corrupt, encrypted, foreign)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}：{message}")
        self.path = path
        self.reason = message


class OutputError(XltoolError):
    """An output file cannot be written (unwritable, or it would overwrite an input)."""
