"""bgtest's cache of compiled modules is used only while it is this user's own folder.

The cache sits in the shared temp folder under a predictable name; a folder another user made
(or one anybody may write in) could hold compiled modules that would run as us, so bgtest then
runs its helper processes without a cache rather than trust it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from harness.run import embedded


@pytest.fixture
def tmp_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path / f"bgtest-pycache-{os.getuid()}"


def test_the_cache_is_made_private_to_this_user(tmp_temp: Path) -> None:
    assert embedded.bytecode_cache() == tmp_temp
    assert tmp_temp.stat().st_mode & 0o777 == 0o700
    env = embedded._stand_in_pycache()
    assert env == {"PYTHONPYCACHEPREFIX": str(tmp_temp), "PYTHONDONTWRITEBYTECODE": ""}


def test_a_folder_others_may_write_in_is_not_used(tmp_temp: Path) -> None:
    tmp_temp.mkdir()
    tmp_temp.chmod(0o777)
    assert embedded.bytecode_cache() is None
    assert embedded._stand_in_pycache() == {}  # the stand-in then runs as the environment says


def test_a_link_in_its_place_is_not_followed(tmp_temp: Path, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.mkdir(mode=0o700)
    tmp_temp.symlink_to(target)
    assert embedded.bytecode_cache() is None
