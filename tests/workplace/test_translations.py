"""Every string of the workplace is translated to Latvian, and the compiled catalogue is current."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "workplace" / "locale" / "lv" / "LC_MESSAGES" / "django.po"


@pytest.mark.smoke
def test_every_latvian_string_is_translated_and_compiled() -> None:
    po = polib.pofile(str(CATALOGUE))
    assert [entry.msgid for entry in po if not entry.msgstr or "fuzzy" in entry.flags] == []
    compiled = polib.mofile(str(CATALOGUE.with_suffix(".mo")))
    assert {entry.msgid: entry.msgstr for entry in compiled} == {entry.msgid: entry.msgstr for entry in po}


def test_the_catalogue_holds_every_string_the_pages_use(tmp_path: Path) -> None:
    """makemessages over a copy of the workplace finds no string the catalogue lacks."""
    copy = tmp_path / "workplace"
    shutil.copytree(
        ROOT / "workplace", copy, ignore=shutil.ignore_patterns("node_modules", "build", "__pycache__")
    )
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "makemessages", "-l", "lv", "--ignore=frontend/*"],
        cwd=copy,
        env={**os.environ, "DJANGO_DEBUG": "true"},
        check=True,
        capture_output=True,
    )
    extracted = {entry.msgid for entry in polib.pofile(str(copy / "locale/lv/LC_MESSAGES/django.po"))}
    catalogued = {entry.msgid for entry in polib.pofile(str(CATALOGUE)) if not entry.obsolete}
    assert extracted - catalogued == set(), "run makemessages and workplace/locale/translate_lv.py"
