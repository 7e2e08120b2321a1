"""Problems with a run (not with the data): one small hierarchy, translated to a message in cli.py."""

from __future__ import annotations


class XltoolError(Exception):
    """Base of every error that stops a command. ``message`` is Chinese text for the user."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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
