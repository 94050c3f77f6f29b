"""An installed app's model, kept next to its installed copy in the form a process loads fastest.

Every ``xcrun`` call is a process of its own, and one that runs the app's code (``launch``,
``openurl``, a ``clock advance`` that starts or ends a task, ``lldb``) needs the app's model.
Parsing the YAML and validating it builds pydantic's validators for every model class (and
scans the installed packages for pydantic plugins): three quarters of such a call. So the
validated model is pickled beside the installed copy (``apps/<udid>/<bundle id>.yaml.pickle``)
the first time a process loads it, and later processes unpickle it — the model classes defer
building their validators until something validates (``defer_build`` in ``harness/apps``),
which unpickling never does. A real ``simctl install`` likewise takes a bundle that is already
built; only the stand-in's "build" happens on first use.

A pickle is used only when it was made from the same file (path, mtime, size) by the same
model code and the same pydantic; anything else, or a pickle that does not load, means the YAML
is parsed again (and the pickle rewritten).
"""

from __future__ import annotations

import os
import pickle

TYPE_CHECKING = False  # typing is not imported at run time: see harness/sim/ios/__init__.py
if TYPE_CHECKING:
    from harness.apps.ios import IosAppModel

_SUFFIX = ".pickle"
_CODE = ("model.py", "ios.py", "loader.py")


def _stamp(path: str) -> tuple[object, ...] | None:
    """What the pickle of ``path`` must have been made from; None when ``path`` is unreadable."""
    import importlib.util

    import harness.apps

    try:
        st = os.stat(path)
    except OSError:
        return None
    code_dir = os.path.dirname(harness.apps.__file__)
    spec = importlib.util.find_spec("pydantic")
    files = [os.path.join(code_dir, name) for name in _CODE]
    if spec is not None and spec.origin:
        files.append(spec.origin)
        files.append(os.path.join(os.path.dirname(spec.origin), "version.py"))
    stamp: list[object] = [path, st.st_mtime_ns, st.st_size]
    for name in files:
        try:
            code = os.stat(name)
            stamp += [name, code.st_mtime_ns, code.st_size]
        except OSError:
            stamp += [name, None]
    return tuple(stamp)


def load_installed(path: str) -> IosAppModel:
    """The model of the installed copy at ``path``: from its pickle when that is current, else
    parsed (:class:`~harness.apps.errors.AppModelError` naming the file) and pickled for the next."""
    stamp = _stamp(path)
    if stamp is not None:
        try:
            with open(path + _SUFFIX, "rb") as fh:
                made_from, model = pickle.load(fh)
            if made_from == stamp:
                return model  # type: ignore[no-any-return]
        except Exception:  # missing, partly written by an older bgtest, or unreadable: parse
            pass
    from harness.apps.ios import load_ios_app

    model = load_ios_app(path)
    remember(path, model)
    return model


def remember(path: str, model: IosAppModel) -> None:
    """``simctl install`` validated ``model`` from the file it copied to ``path``: keep it ready."""
    stamp = _stamp(path)
    if stamp is not None:
        _store(path + _SUFFIX, (stamp, model))


def _store(target: str, data: object) -> None:
    tmp = f"{target}.{os.getpid()}.tmp"
    try:
        with open(tmp, "wb") as fh:
            pickle.dump(data, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, target)  # whole or not at all for a process reading it meanwhile
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
