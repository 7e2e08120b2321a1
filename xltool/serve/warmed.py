"""Imported by the workers' fork server (Linux): the form definition and the checking libraries,
loaded once there, so that every worker forked after has them without loading them again."""

from __future__ import annotations

from xltool.serve import collection

collection.warm()
