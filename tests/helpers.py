"""Shared test settings."""

#: A tiny, fast SSCSleepClassifier configuration for tests that exercise behaviour, not accuracy.
TINY = dict(
    preset="lite",
    max_epochs=1,
    batch_size=16,
    random_state=0,
    verbose=0,
    module__se_channels=(4, 8),
    module__cnn_filters=4,
    module__embedding_dim=8,
    module__lstm_hidden=4,
)
