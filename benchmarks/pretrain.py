"""Train the lite starting point on a large, varied corpus of SIMULATED nights.

A lite network trained from a fixed seed on simulated nights, so that a user with a few scored
nights of their own starts from weights that have already seen many people and labs. The
package ships the file this script writes as ``mne_sscsleep/data/lite_simulated.sscsleep``:
``SSCSleepClassifier(preset="lite")`` fine-tunes it by default (``pretrained='auto'``), and
``pretrained='lite-simulated'`` names it. The corpus draws every night's lab and person afresh:
derivation (frontal, central, parietal-occipital), native rate (50, 100, 128, 200 or 256 Hz)
with an amplifier band that fits it, mains at 50 or 60 Hz, a person whose amplitude varies
tenfold and whose alpha, spindles and slow waves are their own, artefacts; hypnograms come from
the simulator's generator, never from the real Sleep-EDF hypnograms that the generalisation
benchmark uses (so the benchmark's test nights are not in the corpus, not even their stage
sequences). Every night is resampled to 100 Hz by the package's loader. The model file's
provenance (``mne-sscsleep info``) says it saw simulated data only.

What it gains over training from scratch and over using it as it is: ``docs/generalise.rst``
(``benchmarks/generalise.py``).

Usage (the shipped file; about 12 minutes to simulate and 28 minutes to train on 2 CPU
cores)::

    python benchmarks/pretrain.py --out lite_simulated.sscsleep --cache corpus.npz
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np

RATES = (50.0, 100.0, 128.0, 200.0, 256.0)
DERIVATIONS = ("frontal", "central", "occipital")
#: The classifier settings of the starting point (fine-tuning uses the same network and scaling);
#: it trains from random weights, not from the starting point it replaces.
SETTINGS = dict(
    preset="lite",
    context=2,
    scaling="recording",
    iterator_train__min_batches=50,
    pretrained=None,
)


def corpus(n_nights, seed):
    """``(X, y, recording)`` of ``n_nights`` simulated nights at 100 Hz."""
    from mne_sscsleep.datasets import (
        epochs_from_raw,
        simulate_hypnogram,
        simulate_sleep_raw,
        simulate_subject,
    )

    rng = np.random.default_rng(seed)
    X, y, recording = [], [], []
    for night in range(n_nights):
        sfreq = float(rng.choice(RATES))
        derivation = str(rng.choice(DERIVATIONS))
        hours = rng.uniform(6.0, 9.0)
        stages = simulate_hypnogram(int(hours * 120), random_state=rng)
        raw = simulate_sleep_raw(
            sfreq=sfreq,
            hypnogram=stages,
            derivation=derivation,
            subject=simulate_subject(rng),
            artefacts=True,
            band=(rng.uniform(0.1, 0.5), rng.uniform(0.35, 0.45) * sfreq),
            random_state=rng,
            verbose="error",
        )
        epochs, labels = epochs_from_raw(raw, sfreq=100.0, verbose="error")
        X.append(epochs.get_data().astype(np.float32))
        y.append(np.asarray(labels))
        recording.append(np.full(len(labels), night))
        print(f"night {night + 1}/{n_nights}: {derivation} at {sfreq:g} Hz", flush=True)
    return np.concatenate(X), np.concatenate(y), np.concatenate(recording)


def mark_provenance(clf, n_nights, seed):
    """Say in the model's provenance that it saw simulated nights only (arrays record none)."""
    clf.training_data_.update(
        source=f"benchmarks/pretrain.py: {n_nights} simulated nights (seed {seed})",
        simulated=True,
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nights", type=int, default=120)
    parser.add_argument("--max-epochs", type=int, default=15)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True, help="model file to write")
    parser.add_argument("--cache", help=".npz file of the corpus (written once, then read)")
    args = parser.parse_args(argv)
    from mne_sscsleep import SSCSleepClassifier

    start = time.perf_counter()
    cache = Path(args.cache) if args.cache else None
    if cache is not None and cache.exists():
        with np.load(cache) as data:
            X, y, recording = data["X"], data["y"], data["recording"]
    else:
        X, y, recording = corpus(args.nights, args.seed)
        if cache is not None:
            np.savez(cache, X=X, y=y, recording=recording)
    print(f"{len(y)} epochs of {args.nights} nights in {time.perf_counter() - start:.0f} s")
    clf = SSCSleepClassifier(
        **SETTINGS, max_epochs=args.max_epochs, random_state=args.seed, verbose=1
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        clf.fit(X, y, recording=recording)
    print(f"trained in {time.perf_counter() - start:.0f} s")
    mark_provenance(clf, args.nights, args.seed)
    path = clf.save(Path(args.out), overwrite=True)
    print(f"written to {path}")


if __name__ == "__main__":
    main()
