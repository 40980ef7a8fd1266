"""The one rule for choosing the EEG channel to stage.

``mne.Epochs``, ``mne.io.Raw``, :func:`mne_sscsleep.stage`, the loaders and the command line all
pick their channel here, so that they agree on what ``picks`` means and say the same thing when
it is missing or wrong.
"""

from __future__ import annotations

import numpy as np


def pick_channel(ch_names, picks=None, *, ch_types=None, source="the recording"):
    """Choose one channel by name or index, or the only (EEG) one.

    Parameters
    ----------
    ch_names : list of str | int
        Channel names, or the number of channels of an array (which has no names).
    picks : str | int | None
        A channel name, a channel index, or None. None is allowed when there is one channel,
        or one channel of type ``'eeg'`` among others (e.g. EEG beside EOG and EMG).
    ch_types : list of str | None
        Channel types in the order of ``ch_names`` (``mne.Info.get_channel_types()``), used
        when ``picks`` is None.
    source : str
        What holds the channels, for error messages (e.g. ``'the epochs'``).

    Returns
    -------
    index : int
        Position of the channel (non-negative).
    name : str | None
        Its name (None for arrays).

    Examples
    --------
    >>> pick_channel(["EEG Fpz-Cz", "EEG Pz-Oz"], "EEG Pz-Oz")
    (1, 'EEG Pz-Oz')
    >>> pick_channel(["EEG Fpz-Cz", "EOG horizontal"], ch_types=["eeg", "eog"])
    (0, 'EEG Fpz-Cz')
    """
    named = not isinstance(ch_names, (int, np.integer))
    n_channels = len(ch_names) if named else int(ch_names)
    names = list(ch_names) if named else None
    if picks is None:
        if n_channels == 1:
            return 0, names[0] if named else None
        if ch_types is not None:
            eeg = [index for index, kind in enumerate(ch_types) if kind == "eeg"]
            if len(eeg) == 1:
                return eeg[0], names[eeg[0]]
        if not named:
            raise ValueError(
                f"{source.capitalize()} has {n_channels} channels but the model stages one EEG "
                "channel. Select one (X[:, [k], :]) or pass picks=k."
            )
        hint = next((name for name in names if "fpz" in name.lower()), names[0])
        shown = ", ".join(names[:8]) + (", ..." if n_channels > 8 else "")
        raise ValueError(
            f"{source.capitalize()} has {n_channels} channels ({shown}) but the model stages one "
            f"EEG channel. Choose one with picks, e.g. picks={hint!r} (on the command line: "
            f"--channel {hint!r})."
        )
    if isinstance(picks, (bool, np.bool_)):
        raise TypeError(f"picks must be one channel name or index, got the boolean {picks!r}.")
    if isinstance(picks, (int, np.integer)):
        if not -n_channels <= picks < n_channels:
            raise ValueError(
                f"picks={int(picks)} is out of range for {n_channels} channel(s); use a channel "
                f"index in 0..{n_channels - 1}"
                + (f" or a name ({', '.join(names[:8])})." if named else ".")
            )
        index = int(picks) % n_channels
        return index, names[index] if named else None
    if isinstance(picks, str):
        if not named:
            raise ValueError(
                f"Arrays carry no channel names, so picks={picks!r} cannot be found; use a "
                f"channel index in 0..{n_channels - 1}."
            )
        if picks not in names:
            raise ValueError(
                f"Channel {picks!r} is not in {source}; available: {', '.join(names)}."
            )
        return names.index(picks), picks
    raise TypeError(
        f"picks must be one channel name or index, got {type(picks).__name__} {picks!r}."
    )


def pick_from_info(info, picks=None, *, source="the recording"):
    """:func:`pick_channel` on an ``mne.Info`` (names and types).

    Parameters
    ----------
    info : mne.Info
        Measurement info of the Epochs or Raw.
    picks : str | int | None
        See :func:`pick_channel`.
    source : str
        What holds the channels, for error messages.

    Returns
    -------
    name : str
        The chosen channel's name.
    """
    _, name = pick_channel(
        info["ch_names"], picks, ch_types=info.get_channel_types(), source=source
    )
    return name
