"""WorkManager inside each virtual app process: WorkSpec store, runtime, plugin log lines."""

from .runtime import SYSTEM_JOB_SERVICE, WorkManagerRuntime, database
from .store import WorkDatabase, WorkSpec

__all__ = ["SYSTEM_JOB_SERVICE", "WorkDatabase", "WorkManagerRuntime", "WorkSpec", "database"]
