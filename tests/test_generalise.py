"""Issue 25: what lets a model trained on some people stage others (levers, fine-tuning, the
simulator that draws what differs between people and labs)."""

import numpy as np
import pytest
import torch
from helpers import TINY, TINY_PAPER

from mne_sscsleep import SSCSleepClassifier, stage, stage_indices
from mne_sscsleep._epochs import EpochsDataset, recording_equalizers, recording_scales
from mne_sscsleep.datasets import (
    DERIVATIONS,
    epochs_from_raw,
    simulate_hypnogram,
    simulate_sleep_raw,
    simulate_subject,
)
from mne_sscsleep.io import read_model
from mne_sscsleep.nn import SpectralFeatures, SSCSleepNetLite
from mne_sscsleep.training import (
    STARTING_POINTS,
    EarlyStopping,
    PairBatchSampler,
    RecordingSplit,
    chance_macro_f1,
    starting_point,
)


# ---- the simulator draws what differs between people and labs -------------------------------
def _sleep_period(stages):
    asleep = np.flatnonzero(stages != 0)
    return asleep[-1] - asleep[0] + 1


def test_template_nights_follow_the_real_hypnogram_but_never_repeat_it():
    template = np.repeat([0, 1, 2, 3, 2, 4, 2, 0], 30)
    template = np.concatenate([np.zeros(80, int), template, np.zeros(80, int)])
    nights = [simulate_hypnogram(template=template, random_state=seed) for seed in (0, 1)]
    for night in nights:
        # The sleep period is the template's, each stage change moved by at most one epoch.
        assert abs(_sleep_period(night) - _sleep_period(template)) <= 2
        assert [k for k, i in enumerate(np.diff(night)) if i] != []
        assert 20 <= (night != 0).argmax() <= 60  # wake before sleep cropped to 10-30 min
    assert not np.array_equal(nights[0], nights[1])


def test_derivations_and_subjects_change_the_signal_as_labs_and_people_do():
    stages = np.repeat([0, 2, 3], 20)
    common = dict(hypnogram=stages, random_state=0, verbose="error")
    alpha = {}
    for derivation in ("frontal", "occipital"):
        raw = simulate_sleep_raw(derivation=derivation, **common)
        assert raw.ch_names == [DERIVATIONS[derivation]["channel"]]
        wake = raw.get_data()[0, : 20 * 3000]
        spectrum = np.abs(np.fft.rfft(wake)) ** 2
        freqs = np.fft.rfftfreq(len(wake), 0.01)
        alpha[derivation] = spectrum[(freqs >= 8) & (freqs < 12)].sum() / spectrum.sum()
    assert alpha["occipital"] > 1.5 * alpha["frontal"]  # Pz-Oz: the alpha derivation
    # The person's gain scales their EEG; the amplifier's noise, drift and mains do not.
    lab = dict(white_noise=0.0, line_amplitude=0.0, drift=0.0)
    quiet = {**simulate_subject(0, gain=(0.3, 0.3)), **lab}
    loud = {**simulate_subject(0, gain=(3.0, 3.0)), **lab}
    ratio = np.std(simulate_sleep_raw(subject=loud, **common).get_data()) / np.std(
        simulate_sleep_raw(subject=quiet, **common).get_data()
    )
    assert 8 < ratio < 12  # a tenfold gain, nothing else changed


def test_the_amplifier_band_limits_what_a_low_rate_recording_holds():
    raw = simulate_sleep_raw(
        hours=0.25, sfreq=50.0, band=(0.5, 20.0), artefacts=True, random_state=0, verbose="error"
    )
    data = raw.get_data()[0]
    spectrum = np.abs(np.fft.rfft(data)) ** 2
    freqs = np.fft.rfftfreq(len(data), 1 / 50.0)
    assert spectrum[freqs > 23].sum() < 0.02 * spectrum.sum()
    epochs, y = epochs_from_raw(raw, sfreq=100.0, verbose="error")
    assert epochs.info["sfreq"] == 100.0 and len(y) == 30


# ---- per-recording scaling ---------------------------------------------------------------------
def _nights(n, gains, random_state=0):
    """``n`` short simulated nights, night i at gain ``gains[i]``: (X, y, recording)."""
    X, y, recording = [], [], []
    for night in range(n):
        stages = np.roll(np.repeat([0, 1, 2, 3, 2, 4, 1, 0], 15), 7 * night)  # all five stages
        raw = simulate_sleep_raw(
            hypnogram=stages, random_state=random_state + night, verbose="error"
        )
        epochs, labels = epochs_from_raw(raw, verbose="error")
        X.append(epochs.get_data().astype(np.float32) * gains[night])
        y.append(np.asarray(labels))
        recording.append(np.full(len(labels), night))
    return np.concatenate(X), np.concatenate(y), np.concatenate(recording)


def test_recording_scaling_removes_each_recordings_gain():
    X, _, recording = _nights(2, gains=(1.0, 1.0))
    scaled = recording_scales(EpochsDataset(X, recording=recording))
    louder = X.copy()
    louder[recording == 1] *= 7.0
    scaled_louder = recording_scales(EpochsDataset(louder, recording=recording))
    np.testing.assert_allclose(scaled_louder[recording == 1] * 7.0, scaled[recording == 1], 1e-5)
    np.testing.assert_array_equal(scaled_louder[recording == 0], scaled[recording == 0])


def test_with_recording_scaling_a_fitted_model_ignores_the_gain(tmp_path):
    X, y, recording = _nights(3, gains=(1.0, 1.0, 1.0))
    clf = SSCSleepClassifier(**TINY, scaling="recording").fit(X, y, recording=recording)
    mine = recording == 2
    proba = clf.predict_proba(X[mine])
    np.testing.assert_allclose(clf.predict_proba(X[mine] * 5.0), proba, atol=1e-5)
    # The same path in stage(), and in a model read back from its file.
    raw = simulate_sleep_raw(hours=1.0, random_state=5, verbose="error")
    quiet = stage(clf, raw)
    raw.apply_function(lambda data: data * 4.0)
    loaded = SSCSleepClassifier.load(clf.save(tmp_path / "m.sscsleep"))
    assert read_model(tmp_path / "m.sscsleep").params["scaling"] == "recording"
    np.testing.assert_allclose(stage(loaded, raw).proba, quiet.proba, atol=1e-5)
    # Without scaling the gain changes the output: the scaling is what removes it.
    plain = SSCSleepClassifier(**TINY, scaling=None).fit(X, y, recording=recording)
    assert np.abs(plain.predict_proba(X[mine] * 5.0) - plain.predict_proba(X[mine])).max() > 1e-3


def _mean_spectrum(X):
    return (np.abs(np.fft.rfft(X[:, 0], axis=-1)) ** 2).mean(axis=0)


def test_spectral_equalisation_removes_each_recordings_colour_and_gain():
    """A recording filtered (another derivation's or amplifier's colour) and amplified comes
    out of the equaliser as the unfiltered one does: the filter is undone per recording."""
    X, _, recording = _nights(2, gains=(1.0, 1.0))
    freqs = np.fft.rfftfreq(X.shape[-1], 0.01)
    colour = 3.0 * (1 + 2 * np.exp(-(((freqs - 10) / 2) ** 2)))  # gain x3, alpha band x3 more
    coloured = X.copy()
    mine = recording == 1
    coloured[mine] = np.fft.irfft(np.fft.rfft(X[mine], axis=-1) * colour, n=X.shape[-1], axis=-1)
    plain = EpochsDataset(X, recording=recording)
    plain = plain.equalized(recording_equalizers(plain))[np.arange(len(X))][0].numpy()
    other = EpochsDataset(coloured, recording=recording)
    other = other.equalized(recording_equalizers(other))[np.arange(len(X))][0].numpy()
    band = (freqs > 0.5) & (freqs < 40)
    ratio = _mean_spectrum(other[mine])[band] / _mean_spectrum(plain[mine])[band]
    assert np.abs(np.log(ratio)).max() < 0.3  # before: up to log(81) = 4.4
    np.testing.assert_allclose(other[~mine], plain[~mine], atol=1e-9)  # recordings apart
    # Every recording's mean epoch spread is brought to the same 20 uV.
    spread = [np.sqrt(np.mean(plain[recording == code] ** 2)) for code in (0, 1)]
    np.testing.assert_allclose(spread, 20e-6, rtol=0.05)


def test_with_spectral_scaling_a_model_ignores_a_recordings_colour(tmp_path):
    X, y, recording = _nights(3, gains=(1.0, 1.0, 1.0))
    clf = SSCSleepClassifier(**TINY, scaling="spectrum").fit(X, y, recording=recording)
    mine = recording == 2
    freqs = np.fft.rfftfreq(X.shape[-1], 0.01)
    colour = 2.0 / (1 + freqs / 20)  # a gain and a gentle low-pass
    coloured = np.fft.irfft(np.fft.rfft(X[mine], axis=-1) * colour, n=X.shape[-1], axis=-1)
    proba = clf.predict_proba(X[mine])
    assert np.abs(clf.predict_proba(coloured.astype(np.float32)) - proba).max() < 0.02
    loaded = SSCSleepClassifier.load(clf.save(tmp_path / "m.sscsleep"))
    assert read_model(tmp_path / "m.sscsleep").params["scaling"] == "spectrum"
    np.testing.assert_allclose(loaded.predict_proba(X[mine]), proba, atol=1e-6)


def test_bad_scaling_is_named():
    X, y, recording = _nights(1, gains=(1.0,))
    with pytest.raises(ValueError, match="scaling must be"):
        SSCSleepClassifier(**TINY, scaling="night").fit(X, y)


# ---- validation on whole recordings ------------------------------------------------------------
def test_recording_split_holds_out_whole_recordings_from_three_on():
    recording = np.repeat(np.arange(10), 50)
    y = np.tile(np.arange(5), 100)
    dataset = EpochsDataset(np.zeros((500, 1, 8), np.float32), y, recording=recording)
    train, valid = RecordingSplit(0.2, random_state=0)(dataset)
    assert not set(recording[train.indices]) & set(recording[valid.indices])
    assert len(set(recording[valid.indices])) == 2
    # Two recordings: a stratified split of the epochs, said as such.
    two = EpochsDataset(dataset.X[:100], y[:100], recording=recording[:100])
    train, valid = RecordingSplit(0.2, random_state=0)(two)
    assert set(recording[:100][valid.indices]) == {0, 1}
    assert np.bincount(y[:100][valid.indices]).tolist() == [4] * 5


def test_fit_says_what_the_validation_scores(capsys):
    X, y, recording = _nights(3, gains=(1.0, 1.0, 1.0))
    SSCSleepClassifier(**{**TINY, "verbose": 1}).fit(X, y, recording=recording)
    assert "1 of 3 training recordings" in capsys.readouterr().out
    SSCSleepClassifier(**{**TINY, "verbose": 1}).fit(X[recording < 2], y[recording < 2])
    assert "a random split of the training epochs" in capsys.readouterr().out


# ---- a training budget that does not depend on the set's size ---------------------------------
def test_min_batches_gives_a_small_set_enough_steps():
    labels = np.arange(100) % 5
    assert len(PairBatchSampler(labels, 16)) < 10
    assert len(PairBatchSampler(labels, 16, min_batches=40)) == 40
    assert len(PairBatchSampler(np.arange(5000) % 5, 16, min_batches=40)) > 40


def test_early_stopping_never_fires_while_the_model_is_at_chance():
    scores = [0.10, 0.15, 0.12, 0.10, 0.11, 0.13, 0.14, 0.35, 0.31, 0.30]
    history = [{"epoch": i + 1, "valid_macro_f1": s} for i, s in enumerate(scores)]
    common = dict(monitor="valid_macro_f1", lower_is_better=False, patience=2)
    plain = EarlyStopping(**common).replay(history[:4])
    assert plain.stopped  # stopped at pass 4, best pass 2 at MF1 0.15
    floor = EarlyStopping(**common, min_score=0.3).replay(history[:7])
    assert not floor.stopped and floor.misses_ == 0
    floor.replay(history)
    assert floor.best_epoch_ == 8 and floor.stopped
    assert chance_macro_f1([2] * 27 + [3] * 33) == pytest.approx(2 * 0.55 / 1.55 / 2)
    assert chance_macro_f1(np.repeat(np.arange(5), [10, 5, 50, 15, 20])) < 0.14


def test_early_stopping_floor_is_the_validation_sets_chance():
    X, y, recording = _nights(3, gains=(1.0, 1.0, 1.0))
    chance = {**TINY, "max_epochs": 2, "callbacks__early_stopping__min_score": "chance"}
    clf = SSCSleepClassifier(**chance).fit(X, y, recording=recording)
    stopper = dict(clf.callbacks_)["early_stopping"]
    assert stopper.min_score == "chance"
    default = SSCSleepClassifier(**{**TINY, "max_epochs": 2}).fit(X, y, recording=recording)
    assert dict(default.callbacks_)["early_stopping"].floor_ == 0.3  # the measured default
    # One recording is held out whole: the floor is its own chance level, plus 0.05.
    floors = [chance_macro_f1(stage_indices(y[recording == r])) + 0.05 for r in range(3)]
    assert any(stopper.floor_ == pytest.approx(floor) for floor in floors), stopper.floor_
    with pytest.raises(ValueError, match="macro-F1 monitor only"):
        EarlyStopping(monitor="valid_loss", min_score="chance").on_train_begin(clf)


# ---- fine-tuning from a model trained elsewhere ------------------------------------------------
@pytest.fixture(scope="module")
def elsewhere(tmp_path_factory):
    X, y, recording = _nights(3, gains=(1.0, 1.0, 1.0))
    path = tmp_path_factory.mktemp("pretrained") / "elsewhere.sscsleep"
    SSCSleepClassifier(**TINY).fit(X, y, recording=recording).save(path)
    return path, (X, y, recording)


def test_pretrained_starts_from_the_model_files_network(elsewhere):
    path, (X, y, recording) = elsewhere
    stored = read_model(path).module_state
    clf = SSCSleepClassifier(**TINY, pretrained=path).initialize()
    for name, tensor in clf.module_.state_dict().items():
        torch.testing.assert_close(tensor, stored[name])
    # A single-epoch model fills the per-epoch network of a context model.
    context = SSCSleepClassifier(**{**TINY, "context": 1}, pretrained=str(path)).initialize()
    for name, tensor in context.module_.epoch_network.state_dict().items():
        torch.testing.assert_close(tensor, stored[name])
    tuned = SSCSleepClassifier(**TINY, pretrained=path).fit(X, y, recording=recording)
    assert tuned.training_data_["pretrained"] == str(path)
    trained = tuned.module_.state_dict()
    assert any(not torch.equal(trained[name], stored[name]) for name in stored)


def test_a_pretrained_network_that_does_not_fit_is_named(elsewhere, tmp_path):
    path, _ = elsewhere
    with pytest.raises(ValueError, match="does not fit this classifier's network"):
        SSCSleepClassifier(**{**TINY, "module__cnn_filters": 8}, pretrained=path).initialize()
    with pytest.raises(ValueError, match="works at 100 Hz"):
        SSCSleepClassifier(**TINY, sfreq=128.0, pretrained=path).initialize()
    with pytest.raises(FileNotFoundError, match="saved by SSCSleepClassifier.save"):
        SSCSleepClassifier(**TINY, pretrained=tmp_path / "none.sscsleep").initialize()


def test_a_context_models_per_epoch_network_starts_a_single_epoch_one(tmp_path):
    X, y, recording = _nights(3, gains=(1.0, 1.0, 1.0))
    path = tmp_path / "context.sscsleep"
    SSCSleepClassifier(**{**TINY, "context": 1}).fit(X, y, recording=recording).save(path)
    stored = read_model(path).module_state
    single = SSCSleepClassifier(**TINY, pretrained=path).initialize()
    for name, tensor in single.module_.state_dict().items():
        torch.testing.assert_close(tensor, stored[f"epoch_network.{name}"])
    wider = SSCSleepClassifier(**{**TINY, "context": 2}, pretrained=path).initialize()
    for name, tensor in wider.module_.epoch_network.state_dict().items():
        torch.testing.assert_close(tensor, stored[f"epoch_network.{name}"])


# ---- the starting point that ships with the package ------------------------------------------
SHIPPED = read_model(starting_point("lite-simulated"))


def test_the_shipped_starting_point_saw_simulated_nights_only():
    assert set(STARTING_POINTS) == {"lite-simulated"}
    assert SHIPPED.params["preset"] == "lite" and SHIPPED.params["context"] == 2
    assert SHIPPED.sfreq == 100.0 and SHIPPED.stages == ("W", "N1", "N2", "N3", "R")
    assert SHIPPED.training_data["simulated"] is True
    assert "benchmarks/pretrain.py" in SHIPPED.training_data["source"]
    # Trained from random weights on the simulator's own hypnograms: thousands of epochs of
    # every stage, many nights.
    assert SHIPPED.training_data["n_recordings"] >= 100 and min(SHIPPED.class_counts) > 1000
    with pytest.raises(ValueError, match="No starting point named 'paper-real'"):
        starting_point("paper-real")


def _same_weights(module, state):
    own = module.state_dict()
    return own.keys() == state.keys() and all(torch.equal(own[k], state[k]) for k in state)


def test_the_lite_preset_fine_tunes_the_shipped_starting_point_by_default(sim_nights):
    epochs, y, groups = sim_nights
    assert SSCSleepClassifier().get_params()["pretrained"] == "auto"
    lite = SSCSleepClassifier(
        preset="lite", max_epochs=1, iterator_train__min_batches=None, random_state=0, verbose=0
    )
    lite.initialize()
    assert _same_weights(lite.module_, SHIPPED.module_state)
    assert lite.optimizer_.param_groups[0]["lr"] == pytest.approx(5e-4)  # a quarter
    keep = np.flatnonzero(groups == 0)[:120]
    lite.fit(epochs[keep], y[keep])
    assert lite.training_data_["pretrained"] == "lite-simulated"
    assert lite.training_data_["simulated"] is True  # the data of this fit (simulated here)
    # Single-epoch: the starting point's per-epoch network.
    single = SSCSleepClassifier(preset="lite", context=0, verbose=0).initialize()
    per_epoch = {
        k[len("epoch_network.") :]: v
        for k, v in SHIPPED.module_state.items()
        if k.startswith("epoch_network.")
    }
    assert _same_weights(single.module_, per_epoch)
    # Named explicitly, the same start.
    named = SSCSleepClassifier(preset="lite", pretrained="lite-simulated", verbose=0)
    assert _same_weights(named.initialize().module_, SHIPPED.module_state)


@pytest.mark.parametrize(
    "params",
    [
        dict(preset="lite", pretrained=None),
        dict(preset="lite", module__embedding_dim=8),  # another network than the start's
        dict(preset="lite", sfreq=128.0),  # another rate
        dict(preset="paper"),  # no starting point
    ],
)
def test_auto_starts_from_random_weights_where_the_starting_point_does_not_fit(params):
    clf = SSCSleepClassifier(**params, random_state=0, verbose=0).initialize()
    assert clf.pretrained_ is None
    assert clf.optimizer_.param_groups[0]["lr"] == (2e-3 if params["preset"] == "lite" else 1e-3)
    assert not any(
        name in SHIPPED.module_state and torch.equal(tensor, SHIPPED.module_state[name])
        for name, tensor in clf.module_.state_dict().items()
        if tensor.dtype.is_floating_point and tensor.numel() > 1
    )


def test_a_named_starting_point_that_does_not_fit_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="does not fit this classifier's network"):
        SSCSleepClassifier(**TINY, pretrained="lite-simulated").initialize()
    with pytest.raises(FileNotFoundError, match="'lite-simulated'"):
        SSCSleepClassifier(**TINY, pretrained="lite_simulated").initialize()
    with pytest.raises(TypeError, match="pretrained must be 'auto', None"):
        SSCSleepClassifier(**TINY, pretrained=3).initialize()


def test_a_loaded_model_keeps_its_own_weights(sim_nights, tmp_path):
    epochs, y, groups = sim_nights
    keep = np.flatnonzero(groups == 0)[:120]
    clf = SSCSleepClassifier(
        preset="lite",
        context=0,
        iterator_train__min_batches=None,
        max_epochs=1,
        random_state=0,
        verbose=0,
    )
    path = clf.fit(epochs[keep], y[keep]).save(tmp_path / "mine.sscsleep")
    loaded = SSCSleepClassifier.load(path)
    assert loaded.get_params()["pretrained"] is None and loaded.pretrained_ is None
    assert _same_weights(loaded.module_, clf.module_.state_dict())
    assert not _same_weights(loaded.module_, SHIPPED.module_state)


# ---- spectral features --------------------------------------------------------------------------
def test_spectral_features_are_relative_band_powers():
    t = np.arange(3000) / 100.0
    alpha = torch.tensor(np.sin(2 * np.pi * 10.0 * t), dtype=torch.float32).reshape(1, 1, -1)
    features = SpectralFeatures(100.0).eval()
    values = features(alpha)
    assert values.argmax().item() == 3  # the alpha band
    torch.testing.assert_close(features(alpha * 1e-5), values)  # no gain in relative power
    network = SSCSleepNetLite(spectral_features=True, se_channels=(4, 8), cnn_filters=4)
    assert network.n_features == SSCSleepNetLite(se_channels=(4, 8), cnn_filters=4).n_features + 6
    assert network(torch.randn(4, 1, 3000) * 1e-5)[0].shape == (4, 5)


# ---- the defaults follow the measurements ---------------------------------------------------
def test_the_lite_defaults_are_the_measured_ones(sim_nights, tmp_path):
    params = SSCSleepClassifier().get_params()
    assert params["context"] == "auto" and params["scaling"] == "recording"
    epochs, y, groups = sim_nights
    keep = np.flatnonzero(groups == 0)[:200]
    small = {k: v for k, v in TINY.items() if k not in ("context", "iterator_train__min_batches")}
    lite = SSCSleepClassifier(**small).fit(epochs[keep], y[keep])
    assert read_model(lite.save(tmp_path / "lite.sscsleep")).params["context"] == 2
    assert len(lite.get_iterator(lite.get_dataset(epochs[keep], y[keep]), training=True)) >= 50
    paper = SSCSleepClassifier(**{**TINY_PAPER, "max_epochs": 0})
    paper.initialize()
    assert not hasattr(paper.module_, "epoch_network")  # the paper's single-epoch model
