"""Ground floor: parameter tables, checks of output files, and the one way this package writes
a file.

Imports nothing of this package. Parameters are checked from a table (:class:`Rule` rows of
:class:`Interval` and :class:`Options`, as scikit-learn's ``_parameter_constraints``), once, at
the start of ``fit``. Two rules live here for every file any command writes:

- **Nothing is lost.** A file that exists is replaced only when the caller allows it
  (``overwrite``) *and* the file is recognisably one of ours (``is_ours``: each writer knows its
  own format's mark). A user's recording or scoring file is never written over, whatever the
  options; an empty file holds nothing to lose and may be replaced.
- **No half files.** :func:`atomic_write` writes to a temporary file in the same folder and
  renames it over the target once complete (``os.replace`` is atomic on POSIX and Windows), so
  an interruption at any moment leaves the old file or the new one, never part of one.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import os
import secrets
import shutil
from pathlib import Path

# Temporary files are named after their target, the writing process and a random token, so that
# concurrent writers never share one and leftovers of a killed writer can be recognised.
_TEMP_MARK = ".tmp-"


class Interval:
    """Real numbers from ``low`` on (above it when ``open``); whole numbers with ``integer``.

    Parameters
    ----------
    low : float | None
        The lower bound; None: none.
    integer : bool
        Only ``int`` values (not ``bool``, not ``2.0``).
    open : bool
        ``low`` itself excluded.

    Examples
    --------
    >>> 3 in Interval(1, integer=True), 0.0 in Interval(0, open=True)
    (True, False)
    """

    def __init__(self, low=None, *, integer=False, open=False):
        self.low, self.integer, self.open = low, integer, open

    def accepts_type(self, value):
        """Whether ``value`` is a number of the kind (``bool`` is none)."""
        kind = numbers.Integral if self.integer else numbers.Real
        return isinstance(value, kind) and not isinstance(value, bool)

    def __contains__(self, value):
        if not self.accepts_type(value):
            return False
        if self.integer and not isinstance(value, numbers.Integral):
            return False
        if not math.isfinite(value) or self.low is None:
            return math.isfinite(value)
        return value > self.low if self.open else value >= self.low


class Options:
    """Exactly these values (compared with ``==``, and ``is`` for None and booleans).

    Examples
    --------
    >>> "bf16" in Options(None, "bf16"), False in Options(None, 0)
    (True, False)
    """

    def __init__(self, *values):
        self.values = values

    def accepts_type(self, value):
        """Whether ``value`` has the type of one of the options."""
        return any(type(value) is type(option) for option in self.values)

    def __contains__(self, value):
        return any(
            value is option
            if option is None or isinstance(option, bool) or isinstance(value, bool)
            else type(value) is type(option) and value == option
            for option in self.values
        )


class Rule:
    """One row of a parameter table: what a parameter may be, and how to say it.

    Parameters
    ----------
    allowed : tuple of Interval | Options
        The value must be in one of them.
    wanted : str
        What the message says it must be, e.g. ``"None or 'bf16'"``.
    type_error : bool
        Raise ``TypeError`` (not ``ValueError``) for a value of a type none of ``allowed``
        takes.
    """

    def __init__(self, *allowed, wanted, type_error=False):
        self.allowed, self.wanted, self.type_error = allowed, wanted, type_error


def check_params(values, table):
    """Check parameters against a table, once, with one message per rule.

    Parameters
    ----------
    values : dict
        Parameter names to values (e.g. ``estimator.get_params(deep=False)``).
    table : dict of str to Rule
        The rules; parameters not in it are not checked, nor rules of absent parameters.

    Examples
    --------
    >>> rule = Rule(Options(None, "bf16"), wanted="None or 'bf16'")
    >>> check_params({"amp": "fp16"}, {"amp": rule})
    Traceback (most recent call last):
    ...
    ValueError: amp must be None or 'bf16', got 'fp16'.
    """
    for name, rule in table.items():
        if name not in values:
            continue
        value = values[name]
        if any(value in allowed for allowed in rule.allowed):
            continue
        error = ValueError
        if rule.type_error and not any(allowed.accepts_type(value) for allowed in rule.allowed):
            error = TypeError
        raise error(f"{name} must be {rule.wanted}, got {value!r}.")


def first_line(error):
    """The first line of an error's message (or its type's name), at most 200 characters.

    What one-line messages about a user's file quote of the reader's own error.

    Parameters
    ----------
    error : BaseException
        The error.

    Returns
    -------
    text : str
        One line.

    Examples
    --------
    >>> first_line(ValueError("bad header\\nat byte 3"))
    'bad header'
    """
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:200]


def same_file(first, second):
    """Whether two paths name the same file (a link or another spelling counts).

    Parameters
    ----------
    first, second : str | pathlib.Path
        Paths; either may not exist.

    Returns
    -------
    same : bool
        True when both exist and are one file, or both resolve to one path.

    Examples
    --------
    >>> same_file("a/../b.edf", "b.edf")
    True
    """
    first, second = Path(first).expanduser(), Path(second).expanduser()
    try:
        if first.exists() and second.exists():
            return os.path.samefile(first, second)
    except OSError:
        pass
    return first.resolve() == second.resolve()


def check_output_file(
    fname,
    what="output file",
    *,
    suffixes=None,
    overwrite=False,
    is_ours=None,
    inputs=(),
):
    """Check, before any work, that ``fname`` may be written; return it as a Path.

    Parameters
    ----------
    fname : str | pathlib.Path
        The file to write.
    what : str
        What it is, for messages (``'model file'``, ``'hypnogram'``).
    suffixes : sequence of str | None
        Allowed extensions (lower case, with the dot); None allows any.
    overwrite : bool
        Whether an existing file of ours may be replaced.
    is_ours : callable | None
        ``is_ours(path) -> bool``: whether an existing file carries the mark of the writer's
        format (a hypnogram we wrote, a model file). None: no existing file is ours, so none is
        ever replaced.
    inputs : sequence of path
        Files the command reads (recordings, scoring files): the output may not be one of them.

    Returns
    -------
    fname : pathlib.Path
        The checked path.

    Raises
    ------
    ValueError
        For a folder, an unsupported extension, or a file the command reads.
    FileExistsError
        For an existing file without ``overwrite``, or one that is not ours (never replaced).
    FileNotFoundError
        If the folder it goes in does not exist.
    PermissionError
        If that folder cannot be written to.

    Examples
    --------
    >>> check_output_file("model.sscsleep").name
    'model.sscsleep'
    """
    fname = Path(fname).expanduser()
    if fname.is_dir() or str(fname).endswith(("/", "\\")):
        example = "model.sscsleep" if what == "model file" else "hypnogram.tsv"
        raise ValueError(
            f"The {what} {str(fname)!r} is a folder; give a file name, e.g. "
            f"{str(fname / example)!r}."
        )
    if suffixes is not None and fname.suffix.lower() not in suffixes:
        raise ValueError(
            f"Unknown {what} format {fname.suffix or '(no extension)'!r} in {str(fname)!r}; "
            f"use {', '.join(suffixes)}."
        )
    for source in inputs:
        if same_file(fname, source):
            raise ValueError(
                f"The {what} {str(fname)!r} is the file being read ({str(source)!r}); writing "
                "it would destroy the input. Choose another output name or folder."
            )
    if fname.exists():
        refuse_replacing(fname, what, overwrite=overwrite, is_ours=is_ours)
    folder = fname.parent
    if not folder.is_dir():
        raise FileNotFoundError(
            f"Cannot write the {what} {str(fname)!r}: the folder {str(folder)!r} does not "
            "exist. Create it first (mkdir -p) or choose another place."
        )
    if not os.access(folder, os.W_OK):
        raise PermissionError(
            f"Cannot write the {what} {str(fname)!r}: no permission to write in "
            f"{str(folder)!r}. Choose a folder you can write to."
        )
    return fname


def refuse_replacing(fname, what, *, overwrite, is_ours):
    """Raise unless the existing file ``fname`` may be replaced (see :func:`check_output_file`).

    Parameters
    ----------
    fname : pathlib.Path
        An existing file.
    what : str
        What the new file is, for messages.
    overwrite : bool
        Whether replacing a file of ours is allowed.
    is_ours : callable | None
        Whether the file carries our format's mark.
    """
    fname = Path(fname)
    if not fname.is_file():
        raise FileExistsError(
            f"{str(fname)!r} exists and is not a file; choose another name for the {what}."
        )
    empty = fname.stat().st_size == 0
    if not empty and not (is_ours is not None and is_ours(fname)):
        raise FileExistsError(
            f"{str(fname)!r} exists and is not a {what} written by mne-sscsleep (a recording, a "
            "scoring file or another program's file?); mne-sscsleep never writes over a file "
            "it did not create. Choose another output name or folder."
        )
    if not overwrite and not empty:
        raise FileExistsError(
            f"The {what} {str(fname)!r} exists; pass overwrite=True (--overwrite on the command "
            "line) to replace it."
        )
    if not os.access(fname, os.W_OK):
        raise PermissionError(f"Cannot replace {str(fname)!r}: no permission to write it.")


@contextlib.contextmanager
def atomic_write(fname):
    """Write ``fname`` through a temporary file in its folder, renamed over it when complete.

    The body writes to the path yielded; on success the file is flushed to disk and renamed to
    ``fname`` in one step, on an exception it is removed and ``fname`` is left as it was. A
    process killed meanwhile leaves ``fname`` untouched and a hidden
    ``.<name>.tmp-<pid>-<token><suffix>`` file, which :func:`remove_stale_temporaries` clears
    later.

    Parameters
    ----------
    fname : str | pathlib.Path
        The file to write.

    Yields
    ------
    tmp : pathlib.Path
        The temporary file to write.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
    >>> with atomic_write(target) as tmp:
    ...     _ = tmp.write_text("complete")
    >>> target.read_text()
    'complete'
    """
    fname = Path(fname)
    # The suffix stays last: writers that pick the format by extension (MNE's) still see it.
    token = f"{_TEMP_MARK}{os.getpid()}-{secrets.token_hex(4)}"
    tmp = fname.with_name(f".{fname.name}{token}{fname.suffix}")
    try:
        yield tmp
        _fsync(tmp)
        os.replace(tmp, fname)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_folder(fname.parent)


def remove_stale_temporaries(folder):
    """Remove temporary files (and folders) left in ``folder`` by writers that were killed.

    A temporary file of :func:`atomic_write` (or folder named alike) names the process that
    wrote it; it is removed only when that process no longer runs, so concurrent writers keep
    theirs.

    Parameters
    ----------
    folder : str | pathlib.Path
        A folder outputs are written to.

    Returns
    -------
    removed : list of pathlib.Path
        The files removed.
    """
    removed = []
    folder = Path(folder)
    if not folder.is_dir():
        return removed
    for path in folder.glob(f".*{_TEMP_MARK}*"):
        pid = path.name.rsplit(_TEMP_MARK, 1)[1].split("-", 1)[0]
        if pid.isdigit() and not _process_runs(int(pid)):
            with contextlib.suppress(OSError):
                if path.is_dir():
                    shutil.rmtree(path)
                else:
                    path.unlink()
                removed.append(path)
    return removed


def _process_runs(pid):
    if pid == os.getpid() or os.name != "posix":
        return True  # (on Windows os.kill would end the process, not probe it)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists but belongs to someone else, or cannot tell: keep its file
    return True


def _fsync(path):
    with contextlib.suppress(OSError), open(path, "rb+") as fid:
        os.fsync(fid.fileno())


def _fsync_folder(folder):
    """Make a rename durable (POSIX); a no-op where folders cannot be opened."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
