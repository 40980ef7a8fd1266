"""Property-based tests of the input boundary: any input gives a valid result or our error.

"Our error" means a ValueError or TypeError raised by mne-sscsleep's own checks (the last frame
of its traceback is in the package), never an exception from deep inside NumPy, MNE or torch.
"""

import traceback
import warnings
from pathlib import Path

import mne
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mne_sscsleep
from mne_sscsleep import STAGES, check_epochs, stage_indices
from mne_sscsleep._epochs import check_epochs_labels
from mne_sscsleep._stages import _ALIASES

PACKAGE = Path(mne_sscsleep.__file__).parent
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _raised_by_us(error):
    frames = traceback.extract_tb(error.__traceback__)
    return Path(frames[-1].filename).resolve().is_relative_to(PACKAGE)


def _assert_documented(error):
    assert isinstance(error, (ValueError, TypeError)), repr(error)
    assert _raised_by_us(error), "".join(traceback.format_exception(error))
    assert len(str(error)) > 20  # a sentence, not a bare internal message


# Valid input is drawn often enough to check the conversion, hostile input to check the errors.
DTYPES = (
    ["float32"] * 6
    + ["float64"] * 4
    + [
        "float16",
        "int8",
        "int16",
        "int32",
        "int64",
        "uint8",
        "bool",
        "complex64",
        "object",
        "str",
    ]
)


@st.composite
def arrays(draw):
    seed = draw(st.integers(0, 2**32 - 1))
    ndim = draw(st.sampled_from([1, 2, 2, 2, 3, 3, 3, 3, 3, 4]))
    n_epochs = draw(st.sampled_from([0, 1, 2, 3, 4, 4, 4]))
    n_channels = draw(st.sampled_from([1, 1, 1, 2, 3]))
    n_times = draw(st.sampled_from([0, 1, 2999, 3001, 6000] + [3000] * 8))
    shape = {1: (n_times,), 2: (n_epochs, n_times), 3: (n_epochs, n_channels, n_times)}.get(
        ndim, (n_epochs, n_channels, 2, n_times)
    )
    rng = np.random.default_rng(seed)
    # Volts (mostly), microvolts given as volts, nanovolts, millivolts-as-kilovolts.
    unit = draw(st.sampled_from([1e-6] * 6 + [1.0, 1e-9, 1e3]))
    data = rng.normal(0.0, 20.0, shape) * unit
    for _ in range(draw(st.sampled_from([0] * 6 + [1, 2, 3]))):
        if data.size:
            data.flat[rng.integers(data.size)] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    if draw(st.sampled_from([False] * 4 + [True])) and data.size and ndim >= 2 and shape[0]:
        data[rng.integers(shape[0])] = 0.0  # a flat epoch
    dtype = draw(st.sampled_from(DTYPES))
    with np.errstate(invalid="ignore", over="ignore"):
        if dtype == "object":
            data = data.astype(object)
        elif dtype == "str":
            data = data.astype(str)
        elif dtype in ("float16", "float32", "float64", "complex64"):
            data = data.astype(dtype)
        elif dtype == "bool":
            data = data > 0
        else:
            data = np.nan_to_num(data).clip(-100, 100).astype(dtype)
    if draw(st.booleans()):
        data = np.asfortranarray(data)
    return data


@SETTINGS
@given(
    X=arrays(),
    picks=st.sampled_from([None] * 6 + [0, 1, -1, 5, "EEG", 1.5, True]),
    on_flat=st.sampled_from(["raise", "warn", "ignore"]),
)
def test_check_epochs_on_any_array(X, picks, on_flat):
    try:
        with warnings.catch_warnings():  # flat epochs with on_flat='warn', 3001 samples
            warnings.simplefilter("ignore", RuntimeWarning)
            dataset = check_epochs(X, picks=picks, on_flat=on_flat)
    except Exception as error:  # noqa: BLE001 -- the property is about every exception
        _assert_documented(error)
        return
    out = dataset.X
    assert out.dtype == np.float32 and out.ndim == 3 and out.shape[1:] == (1, 3000)
    assert out.flags.c_contiguous and np.isfinite(out).all()
    assert out.shape[0] == X.shape[0] >= 1
    assert np.median(out.std(axis=(1, 2), dtype=np.float64)) <= 1e-2  # volts, not microvolts
    source = X if X.ndim == 2 else X[:, [0 if picks is None else picks % X.shape[1]]]
    expected = np.asarray(source, dtype=np.float32).reshape(len(X), 1, -1)[..., :3000]
    np.testing.assert_array_equal(out, expected)


_SPELLINGS = [alias for aliases in _ALIASES.values() for alias in aliases]
labels = st.one_of(
    st.sampled_from(_SPELLINGS).map(
        lambda s: s.upper() if len(s) % 2 else s.title().replace(" ", "_")
    ),
    st.sampled_from(["?", "Sleep stage ?", "Movement time", "", "N5", "stage 9"]),
    st.text(max_size=12),
    st.integers(-3, 7),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
)


@SETTINGS
@given(y=st.lists(labels, max_size=12), container=st.sampled_from(["list", "object", "string"]))
def test_stage_indices_on_any_labels(y, container):
    given_labels = y
    if container == "object":
        given_labels = np.array(y, dtype=object)
    elif container == "string" and all(isinstance(label, str) for label in y):
        given_labels = np.array(y, dtype=np.dtypes.StringDType())  # pandas 3 strings
    try:
        indices = stage_indices(given_labels)
    except Exception as error:  # noqa: BLE001
        _assert_documented(error)
        return
    assert indices.dtype == np.int64 and len(indices) == len(y)
    assert set(indices.tolist()) <= set(range(5))
    for label, index in zip(y, indices):
        if isinstance(label, str):
            assert stage_indices([label])[0] == index


@SETTINGS
@given(
    spellings=st.lists(st.sampled_from(_SPELLINGS), min_size=1, max_size=8),
    n_labels=st.integers(0, 9),
)
def test_labels_of_any_spelling_and_length(spellings, n_labels):
    rng = np.random.default_rng(len(spellings))
    X = rng.normal(0, 20e-6, (8, 3000)).astype(np.float32)
    y = (spellings * 9)[:n_labels]
    try:
        dataset = check_epochs_labels(X, y)
    except Exception as error:  # noqa: BLE001
        _assert_documented(error)
        assert n_labels != 8, error  # the only way to fail here is a length mismatch
        return
    assert n_labels == 8
    np.testing.assert_array_equal(dataset.y, stage_indices(y))
    assert [STAGES[i] for i in dataset.y] == [STAGES[stage_indices([s])[0]] for s in y]


@settings(max_examples=30, deadline=None)
@given(
    n_channels=st.integers(1, 3),
    eeg=st.lists(st.booleans(), min_size=3, max_size=3),
    picks=st.sampled_from([None, 0, 2, -1, "EEG 1", "EEG 9", 1.0]),
    sfreq=st.sampled_from([100.0, 128.0]),
)
def test_check_epochs_on_any_mne_epochs(n_channels, eeg, picks, sfreq):
    names = [f"EEG {k}" for k in range(n_channels)]
    types = ["eeg" if is_eeg else "eog" for is_eeg in eeg[:n_channels]]
    n_times = int(30 * sfreq)
    data = np.random.default_rng(0).normal(0, 20e-6, (3, n_channels, n_times))
    epochs = mne.EpochsArray(data, mne.create_info(names, sfreq, types), verbose="error")
    try:
        dataset = check_epochs(epochs, picks=picks)
    except Exception as error:  # noqa: BLE001
        _assert_documented(error)
        return
    assert sfreq == 100.0 and dataset.X.shape == (3, 1, 3000)
    assert dataset.ch_name in names
    index = names.index(dataset.ch_name)
    np.testing.assert_allclose(dataset.X[:, 0], data[:, index], rtol=1e-6)
