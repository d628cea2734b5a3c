"""Worker processes that end when the process that started them ends, however it ended."""

from __future__ import annotations

import os
import select
import threading
import time


def die_with(pid: int) -> None:
    """End this process as soon as process ``pid`` (the one that started the pool) ends.

    A worker's parent is the forkserver, not the process that asked for the
    work, and a process killed with SIGKILL stops nothing: without this, its
    workers would stay, holding health data in memory. A daemon thread waits on
    a pidfd of the process (Linux), else polls it twice a second.
    """

    def watch() -> None:
        try:
            handle = os.pidfd_open(pid)  # type: ignore[attr-defined]
        except ProcessLookupError:
            os._exit(EXIT_ORPHANED)
        except (AttributeError, OSError):
            handle = None
        if handle is not None:
            select.select([handle], [], [])  # readable once the process has ended
        else:
            while _alive(pid):
                time.sleep(0.5)
        os._exit(EXIT_ORPHANED)

    threading.Thread(target=watch, name="triage-watch-parent", daemon=True).start()


EXIT_ORPHANED = 70  # a worker whose parent died; nobody is left to read the status


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
