"""Folders of this user's own under a fixed name in a shared place (the temp folder, a runtime dir).

A fixed name in a folder everybody may write in is a name someone else can take first: a folder
another user made there (or a link in its place) would let them read or plant what bgtest keeps
in it — compiled modules that would run as us, adb keys, device leases. bgtest uses such a folder
only while it is a real folder, this user's, that nobody else may write in.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


def own_folder(path: Path) -> Path | None:
    """``path``, made (0700) if missing, when it is this user's own folder; None when it is not
    (someone else's, writable by others, a link, or it cannot be made)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.mkdir(mode=0o700)
    except FileExistsError:
        pass
    except OSError:
        return None
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o022:
        return None
    return path
