"""One job at a time per output folder: ``_job.lock``.

Two jobs writing one folder would each take the other's temporary files for
leftovers and rewrite the manifest under it. The lock file is created with
``O_CREAT | O_EXCL``, which succeeds for one process only (also on NFS v3 and
later), and holds the pid, host and start time of its job, so that the
message to the second job says who holds it. A lock left by a process of
this host that no longer runs (killed) is taken over; one of another host
cannot be checked and is reported, with the command to remove it.
"""

import json
import os
import socket
import time
from contextlib import contextmanager
from pathlib import Path

LOCK = "_job.lock"
#: A lock file still empty after this long was left by a process killed
#: between creating and filling it.
_EMPTY_GRACE_S = 10.0


class OutputLockedError(RuntimeError):
    """Another job is writing the output folder; the message names it.

    Attributes
    ----------
    lock : Path
        The lock file.
    holder : dict
        What the lock file says: ``pid``, ``host``, ``started``.
    """

    def __init__(self, message, *, lock=None, holder=None):
        super().__init__(message)
        self.lock = lock
        self.holder = dict(holder or {})

    def __reduce__(self):
        return (_rebuild_locked, (str(self), self.lock, self.holder))


def _rebuild_locked(message, lock, holder):
    return OutputLockedError(message, lock=lock, holder=holder)


def _pid_running(pid):
    if os.name == "nt":  # os.kill(pid, 0) would end the process there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _holder(path):
    """What the lock says, or None when empty or unreadable (being written)."""
    try:
        value = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _stale(path, holder):
    if holder is None:
        try:
            age = time.time() - path.stat().st_mtime
        except FileNotFoundError:
            return True
        return age > _EMPTY_GRACE_S
    pid = holder.get("pid")
    return (
        holder.get("host") == socket.gethostname()
        and isinstance(pid, int)
        and not _pid_running(pid)
    )


def _create(path, content):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        os.write(fd, content)
    finally:
        os.close(fd)


@contextmanager
def output_lock(folder):
    """Hold ``folder/_job.lock`` for the duration of the block.

    Raises
    ------
    OutputLockedError
        If another running job holds the lock.
    OSError
        If the lock cannot be created (the folder is not writable); the
        message names the path.
    """
    from ._partition import output_error

    path = Path(folder) / LOCK
    mine = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    content = (json.dumps(mine) + "\n").encode("utf-8")
    for _ in range(3):
        try:
            _create(path, content)
            break
        except FileExistsError:
            pass
        except OSError as exc:
            raise output_error(path, exc, what="create the lock file") from None
        try:
            holder = _holder(path)
        except FileNotFoundError:
            continue  # released meanwhile: try again
        if not _stale(path, holder):
            said = holder or {}
            raise OutputLockedError(
                f"Another job is writing {folder} (pid {said.get('pid', '?')} on "
                f"{said.get('host', '?')}, started {said.get('started', '?')}; "
                f"lock file {path}). Wait for it to finish, or write to another "
                "folder. If no job is running (it was stopped on another "
                f"machine), remove {path} and run again.",
                lock=path,
                holder=said,
            )
        # The holder was killed: its lock is taken over.
        try:
            path.unlink()
        except FileNotFoundError:
            pass
    else:
        raise OutputLockedError(
            f"Could not take the lock {path}: other jobs keep taking it. Run one "
            f"job at a time on {folder}.",
            lock=path,
        )
    try:
        yield path
    finally:
        try:
            if _holder(path) == mine:
                path.unlink()
        except FileNotFoundError:
            pass
