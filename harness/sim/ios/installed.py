"""An installed app's model, kept next to its installed copy in the forms a process loads fastest.

Every ``xcrun`` call is a process of its own, and one that runs the app's code (``launch``,
``openurl``, a ``clock advance`` that starts or ends a task, ``lldb``) needs the app's model.
Parsing the YAML and validating it builds pydantic's validators for every model class; even
an unpickled pydantic model needs pydantic imported and the model classes defined — most of
such a call. So the file beside the installed copy (``apps/<udid>/<bundle id>.yaml.pickle``)
holds two forms, made when ``simctl install`` validated the app (or by the first process that
loads it):

- an :class:`InstalledApp`: the validated model's fields as plain objects, with the worker's
  script (``harness/apps/rules.py``) — all that running a task, launching the app or its debug
  URLs ask, and it unpickles without pydantic;
- the validated model itself, pickled once more inside, for what only the model does: matching
  a deep link to a hook and applying the hook's changes to a work (``enqueue``). Its classes
  defer building their validators (``defer_build`` in ``harness/apps``), which unpickling never
  asks for.

A real ``simctl install`` likewise takes a bundle that is already built. The file is used only
when it was made from the same copy (path, mtime, size) by the same model code and the same
pydantic; anything else, or a file that does not load, means the YAML is parsed again (and the
file rewritten).
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

from harness.apps.rules import handles_url, http_outcome, scripted_outcome

TYPE_CHECKING = False  # typing is not imported at run time: see harness/sim/ios/__init__.py
if TYPE_CHECKING:
    from harness.apps.ios import IosAppModel

_SUFFIX = ".pickle"
#: The code a kept form depends on, by module: the app-model package, what its validators parse
#: values with (a duration or size parsed differently is another model) and the snapshot itself.
_CODE = (
    "harness.apps.model", "harness.apps.ios", "harness.apps.loader", "harness.apps.rules",
    "harness.apps.links", "harness.apps.errors", "harness.durations", "harness.sizes",
    "harness.sim.ios.installed",
)  # fmt: skip


class Snapshot:
    """A validated model's fields, and its properties' values, as plain attributes."""

    def __init__(self, fields: dict[str, object]) -> None:
        self.__dict__.update(fields)


class WorkerSnapshot(Snapshot):
    """A ``Worker``: its fields and its script (the model's own rules)."""

    outcomes: tuple[str, ...]
    retry_on: tuple[str, ...]
    on_network_error: str

    def outcome(self, run_attempt: int) -> str:
        return scripted_outcome(self.outcomes, run_attempt)

    def http_outcome(self, status: int | None, scripted: str) -> str:
        return http_outcome(status, scripted, self.retry_on, self.on_network_error)


class InstalledApp(Snapshot):
    """An ``IosAppModel`` as the app's code reads it: ``model`` and ``ios`` snapshots, its
    identity, and which URLs it opens."""

    ios: Snapshot
    model: Snapshot
    bundle_id: str
    display_name: str
    library: str

    def handles_url(self, url: str) -> bool:
        return handles_url(self.ios.url_schemes, url)  # type: ignore[attr-defined]


def _snapshot(value: object) -> object:
    """``value`` with every pydantic model in it turned into a :class:`Snapshot`."""
    from pydantic import BaseModel

    from harness.apps.model import Worker

    if isinstance(value, BaseModel):
        fields = {name: _snapshot(getattr(value, name)) for name in type(value).model_fields}
        for name, attr in vars(type(value)).items():
            if isinstance(attr, property):
                fields[name] = _snapshot(getattr(value, name))
        return (WorkerSnapshot if isinstance(value, Worker) else Snapshot)(fields)
    if isinstance(value, tuple):
        return tuple(_snapshot(v) for v in value)
    if isinstance(value, list):
        return [_snapshot(v) for v in value]
    if isinstance(value, dict):
        return {k: _snapshot(v) for k, v in value.items()}
    return value


def installed_app(model: IosAppModel) -> InstalledApp:
    return InstalledApp({
        "model": _snapshot(model.model),
        "ios": _snapshot(model.ios),
        "bundle_id": model.bundle_id,
        "display_name": model.display_name,
        "library": model.library,
    })


def _stamp(path: str) -> tuple[object, ...] | None:
    """What the file of ``path`` must have been made from; None when ``path`` is unreadable."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (path, st.st_mtime_ns, st.st_size, *_code_stamp())


def _code_stamp() -> list[object]:
    """The code (:data:`_CODE`) and the pydantic a form was made with."""
    import importlib.util

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))  # harness/..
    spec = importlib.util.find_spec("pydantic")
    files = [os.path.join(root, *name.split(".")) + ".py" for name in _CODE]
    if spec is not None and spec.origin:
        files.append(spec.origin)
        files.append(os.path.join(os.path.dirname(spec.origin), "version.py"))
    stamp: list[object] = []
    for name in files:
        try:
            code = os.stat(name)
            stamp += [name, code.st_mtime_ns, code.st_size]
        except OSError:
            stamp += [name, None]
    return stamp


#: Both forms: the plain :class:`InstalledApp` and the pickled validated model.
Forms = tuple[InstalledApp, bytes]


def _read(file: str, stamp: tuple[object, ...] | None) -> Forms | None:
    if stamp is None:
        return None
    try:
        with open(file, "rb") as fh:
            if not _ours(os.fstat(fh.fileno())):
                return None
            made_from, app, model = pickle.load(fh)
    except Exception:  # missing, written by another bgtest, or unreadable: parse again
        return None
    return (app, model) if made_from == stamp else None


def _ours(st: os.stat_result) -> bool:
    """A pickle runs code as it loads: only a file this user made and nobody else may write is
    loaded (as :func:`_store` makes it). ``$BGTEST_SIM_HOME`` may name a folder others can write
    in; a file planted there is parsed again instead, never unpickled."""
    return st.st_uid == os.getuid() and not st.st_mode & 0o022


def _forms(model: IosAppModel) -> Forms:
    return installed_app(model), pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)


def _parse(path: str) -> IosAppModel:
    """Parse and validate the copy (:class:`~harness.apps.errors.AppModelError` naming the file)
    and keep both forms for the next process."""
    from harness.apps.ios import load_ios_app

    model = load_ios_app(path)
    keep(path, _forms(model))
    return model


def to_install(source: Path, sources_dir: Path) -> Forms:
    """``simctl install``'s app model at ``source``, validated — or, when this home installed the
    same file (path and content: a file rewritten within the clock's granularity keeps its
    mtime) with the same code before, its forms as they were kept then (``reinstall`` at every
    scenario's start parses nothing). Raises what the model's loader raises for a bad file."""
    from hashlib import md5

    path = os.path.abspath(source)
    cache = str(sources_dir / (md5(path.encode()).hexdigest() + _SUFFIX))
    try:
        with open(path, "rb") as fh:
            stamp: tuple[object, ...] | None = (path, md5(fh.read()).hexdigest(), *_code_stamp())
    except OSError:
        stamp = None
    found = _read(cache, stamp)
    if found is not None:
        return found
    from harness.apps.ios import load_ios_app

    forms = _forms(load_ios_app(source))
    if stamp is not None:
        os.makedirs(sources_dir, exist_ok=True)
        _store(cache, (stamp, *forms))
    return forms


def load_installed(path: str) -> InstalledApp:
    """The plain form of the installed copy at ``path`` (no pydantic when its file is current)."""
    found = _read(path + _SUFFIX, _stamp(path))
    return found[0] if found is not None else installed_app(_parse(path))


def load_model(path: str) -> IosAppModel:
    """The validated model of the installed copy at ``path``."""
    found = _read(path + _SUFFIX, _stamp(path))
    if found is not None:
        try:
            return pickle.loads(found[1])  # type: ignore[no-any-return]
        except Exception:  # pydantic changed under the same version files: parse again
            pass
    return _parse(path)


def keep(path: str, forms: Forms) -> None:
    """The installed copy at ``path`` has these forms: keep them beside it for the next process."""
    stamp = _stamp(path)
    if stamp is not None:
        _store(path + _SUFFIX, (stamp, *forms))


def _store(target: str, data: object) -> None:
    tmp = f"{target}.{os.getpid()}.tmp"
    try:
        # a new file of our own, never one (or a link) that is there already: see _ours
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(data, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, target)  # whole or not at all for a process reading it meanwhile
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
