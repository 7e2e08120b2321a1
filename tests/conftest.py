from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE_GOLDEN = os.environ.get("XLTOOL_UPDATE_GOLDEN") == "1"


def golden(name: str, text: str) -> None:
    """Compare text with tests/golden/NAME; XLTOOL_UPDATE_GOLDEN=1 rewrites it."""
    path = GOLDEN / name
    if UPDATE_GOLDEN:
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden file {path}; run with XLTOOL_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")


IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing(what: str) -> None:
    """Something a test needs is not here: skipped on a developer's machine, a failure in CI
    (.ci/run installs everything and ../shared is checked out beside the clone), never silent there."""
    if IN_CI:
        pytest.fail(f"{what} is required in CI (CI={os.environ.get('CI')})")
    pytest.skip(f"{what} is not present")


@pytest.fixture(scope="session")
def soffice() -> str:
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if exe is None:
        missing("LibreOffice (soffice)")
    assert exe is not None
    return exe


@pytest.fixture(scope="session")
def shared_reports() -> Path:
    path = SHARED / "reports"
    if not path.is_dir():
        missing(f"the real-report corpus {path} (../shared/reports)")
    return path
