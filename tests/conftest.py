import numpy as np
import pytest
import torch

from mne_sscsleep.datasets import simulate_sleep_epochs


def pytest_configure(config):
    # Two cores in CI: keep torch from oversubscribing them when tests run in parallel.
    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))


@pytest.fixture(scope="session")
def sim_nights():
    """Six simulated 3-hour nights (~2,160 epochs): (epochs, y, groups)."""
    return simulate_sleep_epochs(6, hours=3.0, random_state=0, verbose="error")


@pytest.fixture(scope="session")
def small_epochs():
    """One short simulated night (80 epochs) for input-validation tests."""
    epochs, y, _ = simulate_sleep_epochs(1, hours=80 / 120, random_state=1, verbose="error")
    return epochs, y


@pytest.fixture
def rng():
    return np.random.default_rng(0)
