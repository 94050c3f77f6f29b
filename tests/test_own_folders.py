"""bgtest's folders under fixed names in shared places are used only while they are this
user's own (harness/own_folder.py): the bytecode cache, the adb home, the device leases.

A folder another user made first (or one anybody may write in, or a link in its place) could
hold compiled modules that would run as us, or adb keys; bgtest then runs without the cache,
gives adb a fresh home, or says which lease folder to remove.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from harness.devices.lease import DeviceLeases
from harness.errors import BgtestError
from harness.own_folder import own_folder
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


def test_a_file_in_its_place_is_not_a_folder(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("")
    assert own_folder(tmp_path / "taken") is None
    assert own_folder(tmp_path / "a" / "b") == tmp_path / "a" / "b"  # missing parents are made


def test_a_lease_folder_others_may_write_in_is_refused_with_what_to_do(tmp_path: Path) -> None:
    root = tmp_path / "bgtest-leases"
    root.mkdir()
    root.chmod(0o777)
    with pytest.raises(BgtestError) as err:
        DeviceLeases(root).try_acquire([])
    assert str(root) in err.value.message and "XDG_RUNTIME_DIR" in err.value.hint



def test_a_state_folder_in_the_temp_folder_someone_else_holds_is_not_used(tmp_temp: Path) -> None:
    from harness.run.settings import Settings

    temp = tmp_temp.parent
    no_home = {"HOME": str(temp / "gone")}
    shared = temp / f"bgtest-state-{os.getuid()}"
    assert Settings.build(no_home).state_dir == shared  # ours: the next run finds it again
    shared.chmod(0o777)
    fresh = Settings.build(no_home).state_dir
    assert fresh != shared and fresh.parent == temp and fresh.stat().st_mode & 0o077 == 0
