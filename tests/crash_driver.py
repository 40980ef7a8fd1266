"""Run the command line, and kill this process with SIGKILL in the middle of a file write.

For tests/test_crash_safety.py. Every file this process opens for writing under the folder
``CRASH_UNDER`` counts the bytes written to it; when the total reaches ``CRASH_AFTER_BYTES``, the
write in progress is cut there, flushed to disk, and the process kills itself (SIGKILL: no
cleanup, no ``finally``, as a power cut or the OOM killer would). Without ``CRASH_AFTER_BYTES``
the run completes and the total is written to ``CRASH_REPORT``, so a test can choose its kill
points inside the real writes.

Usage: python crash_driver.py ARGS...   (the arguments of ``mne-sscsleep``)
"""

import builtins
import io
import os
import signal
import sys
from pathlib import Path

_UNDER = os.path.realpath(os.environ["CRASH_UNDER"])
_LIMIT = int(os.environ.get("CRASH_AFTER_BYTES", "-1"))
_written = [0]
_open = io.open


class _Counting:
    """A writable file that dies after the byte budget; everything else is the file's own."""

    def __init__(self, raw):
        self._raw = raw

    def write(self, data):
        if _LIMIT < 0:
            _written[0] += len(data)
            return self._raw.write(data)
        room = _LIMIT - _written[0]
        if len(data) >= room:
            self._raw.write(data[: max(room, 0)])
            self._raw.flush()
            os.fsync(self._raw.fileno())
            os.kill(os.getpid(), signal.SIGKILL)
        _written[0] += len(data)
        return self._raw.write(data)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self._raw.__exit__(*exc)

    def __iter__(self):
        return iter(self._raw)

    def __getattr__(self, name):
        return getattr(self._raw, name)


def _watched(file, mode):
    if not isinstance(file, (str, bytes, os.PathLike)) or not any(c in mode for c in "wax+"):
        return False
    return os.path.realpath(os.fsdecode(file)).startswith(_UNDER + os.sep)


def _counting_open(file, mode="r", *args, **kwargs):
    handle = _open(file, mode, *args, **kwargs)
    return _Counting(handle) if _watched(file, mode) else handle


builtins.open = io.open = _counting_open


def _install_torch_hook():
    import torch

    save = torch.save

    def save_through_open(obj, f, *args, **kwargs):
        # torch writes to a path with its own C++ writer: route it through open().
        if isinstance(f, (str, os.PathLike)):
            with open(f, "wb") as fid:
                return save(obj, fid, *args, **kwargs)
        return save(obj, f, *args, **kwargs)

    torch.save = save_through_open


if __name__ == "__main__":
    _install_torch_hook()
    from mne_sscsleep.cli import main

    code = main(sys.argv[1:])
    report = os.environ.get("CRASH_REPORT")
    if report:
        Path(report).write_text(str(_written[0]))
    sys.exit(code)
