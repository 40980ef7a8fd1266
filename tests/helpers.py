"""Shared test settings."""

import importlib.util
from pathlib import Path

#: The benchmark scripts' folder (their baselines live there, outside the package).
BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def benchmark_module(name):
    """A module of ``benchmarks/`` (e.g. ``'yasa_features'``), loaded from its file."""
    spec = importlib.util.spec_from_file_location(f"benchmarks_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


#: A tiny, fast SSCSleepClassifier configuration for tests that exercise behaviour, not accuracy.
TINY = dict(
    preset="lite",
    context=0,  # single-epoch and no step floor: fast; tests/test_context.py covers context
    iterator_train__min_batches=None,
    max_epochs=1,
    batch_size=16,
    random_state=0,
    verbose=0,
    module__se_channels=(4, 8),
    module__cnn_filters=4,
    module__embedding_dim=8,
    module__lstm_hidden=4,
)

#: A tiny paper-preset configuration (the paper's network at a small width).
TINY_PAPER = dict(
    preset="paper",
    max_epochs=1,
    batch_size=16,
    random_state=0,
    verbose=0,
    module__se_widths=(4, 8, 8, 8),
    module__cnn_filters=(4, 4, 4, 4),
    module__lstm_units=4,
    module__embedding_dim=8,
    module__head_widths=(8, 8),
)


def write_edf(path, signals, *, record_seconds=1, digital=(-32768, 32767), physical=None):
    """Write a plain EDF file of ``{label: (samples in volts, sfreq)}``, byte by byte.

    Small, dependency-free and fast for long recordings (int16, one pass), and able to write
    the header a test wants (e.g. ``digital=(0, 0)``). Returns the path.
    """
    import numpy as np

    labels = list(signals)
    n_records = min(
        int(len(data) // round(sfreq * record_seconds)) for data, sfreq in signals.values()
    )
    per_record = [int(round(sfreq * record_seconds)) for _, sfreq in signals.values()]
    if physical is None:  # microvolts, from each signal's peak
        peaks = [
            max(float(np.max(np.abs(data))) * 1e6 * 1.01, 1.0) for data, _ in signals.values()
        ]
        lows, highs = [-peak for peak in peaks], peaks
    else:
        lows, highs = [physical[0]] * len(labels), [physical[1]] * len(labels)

    def field(value, width):
        return str(value)[:width].ljust(width).encode("ascii")

    ns = len(labels)
    header = b"".join(
        [
            field(0, 8),
            field("X X X X", 80),
            field("Startdate 01-JAN-2026 X X X", 80),
            field("01.01.26", 8),
            field("22.00.00", 8),
            field(256 * (ns + 1), 8),
            field("", 44),
            field(n_records, 8),
            field(record_seconds, 8),
            field(ns, 4),
        ]
    )
    columns = [
        [field(label, 16) for label in labels],
        [field("AgAgCl electrode", 80)] * ns,
        [field("uV", 8)] * ns,
        [field(f"{low:.1f}"[:8], 8) for low in lows],
        [field(f"{high:.1f}"[:8], 8) for high in highs],
        [field(digital[0], 8)] * ns,
        [field(digital[1], 8)] * ns,
        [field("", 80)] * ns,
        [field(count, 8) for count in per_record],
        [field("", 32)] * ns,
    ]
    header += b"".join(b"".join(column) for column in columns)
    span = max(digital[1] - digital[0], 1)
    with open(path, "wb") as fid:
        fid.write(header)
        block = max(1, (1 << 20) // sum(per_record))  # records per write: bounded memory
        for start in range(0, n_records, block):
            stop = min(start + block, n_records)
            parts = []
            for (data, _), count, low, high in zip(signals.values(), per_record, lows, highs):
                values = np.asarray(data[start * count : stop * count], dtype=np.float64) * 1e6
                digits = (values - low) / (high - low) * span + digital[0]
                digits = np.clip(np.round(digits), -32768, 32767).astype("<i2")
                parts.append(digits.reshape(stop - start, count))
            fid.write(np.concatenate(parts, axis=1).tobytes())
    return path


#: Python code that prints this process's peak resident memory in MB (Linux: VmHWM, which,
#: unlike ``ru_maxrss``, does not inherit the parent's peak through fork and exec), and
#: resets it, so that a later call gives the peak since.
PEAK_MB = (
    "def peak_mb(reset=False):\n"
    "    with open('/proc/self/status') as fid:\n"
    "        kb = next(int(l.split()[1]) for l in fid if l.startswith('VmHWM'))\n"
    "    if reset:\n"
    "        with open('/proc/self/clear_refs', 'w') as fid:\n"
    "            fid.write('5')\n"
    "    return kb // 1024\n"
)
