"""The layers contract (STYLE.md): config → workplace → intake → telephony | mail → sla | recordings →
contact_centre → agents."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = (
    "config", "workplace", "intake", "telephony", "mail", "sla", "recordings", "contact_centre", "agents"
)  # fmt: skip
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.smoke
def test_the_project_keeps_its_layers() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


def test_the_ledger_importing_the_sla_would_break_the_contract(tmp_path: Path) -> None:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "contact_centre" / "knows_deadlines.py").write_text("from sla import calendar\n")
    result = lint_imports(tmp_path)
    assert result.returncode == 1
    assert "contact_centre.knows_deadlines -> sla.calendar" in result.stdout
