"""Neighbouring epochs as context: a small sequence model over per-epoch features.

Human scorers stage an epoch by what surrounds it (AASM: N1 continues until evidence of another
stage); single-epoch networks cannot. :class:`ContextNet` wraps a per-epoch network
(:class:`~mne_sscsleep.nn.SSCSleepNet` or :class:`~mne_sscsleep.nn.SSCSleepNetLite`): each
epoch's fused features are computed once, then each output epoch is classified from its own
features and those of the ``context`` epochs before and after it, through a bidirectional GRU
(or a transformer encoder) over that window. Plain ``torch.nn``; shapes use ``U`` for the epochs
of a batch, ``N`` for the epochs to classify, ``W = 2 * context + 1`` and ``F`` for the per-epoch
network's ``n_features``.
"""

from __future__ import annotations

import torch
from torch import nn

#: The sequence models ContextNet offers.
CONTEXT_MODELS = ("gru", "transformer")


class ContextNet(nn.Module):
    """A per-epoch network plus a sequence model over the features of neighbouring epochs.

    The batch holds ``U`` epochs once each and, for every epoch, the rows of its window: the
    epochs ``-context .. +context`` around it in the same recording, ``-1`` where the
    recording ends or has a gap (those positions are masked, never filled with another
    recording). Rows whose own (centre) position is ``-1`` are neighbours only: their features
    are used, no output is given for them. Each epoch's features are therefore computed once,
    however many windows it appears in, so classifying a whole night costs about one pass of the
    per-epoch network.

    The logits are the per-epoch network's own head on the centre epoch plus a correction from
    the sequence model, whose last layer starts at zero: an untrained ContextNet predicts what
    its per-epoch network predicts, and training learns what the neighbours add.

    Parameters
    ----------
    epoch_network : torch.nn.Module
        A network with ``forward_features(x) -> (fused (U, F), u, v)``, ``head`` and
        ``n_features`` (both SSC-SleepNet networks of this package).
    context : int
        Epochs on each side of the classified one (``k`` >= 1).
    model : ``'gru'`` | ``'transformer'``
        Bidirectional GRU over the window (read at the centre), or a one-layer transformer
        encoder with learned position embeddings and padding masks.
    hidden : int
        Hidden size of the sequence model (per GRU direction; the transformer's width).
    dropout : float
        Dropout on the sequence model's output.
    n_classes : int
        Number of stage outputs.
    night_time : bool
        Also feed each epoch's time of night (hours since the recording began and share of the
        night, the ``night_time`` input) to the sequence model, as YASA's stager does.

    Notes
    -----
    ``forward(x, windows, night_time=None)``: ``x`` of shape ``(U, 1, T)``, ``windows`` of shape
    ``(U, W)`` (int64 rows into ``x``, ``-1`` for none), ``night_time`` of shape ``(U, 2)`` ->
    ``(logits (N, n_classes), u (N, D), v (N, D))`` for the ``N`` rows whose centre is not
    ``-1``, in row order.

    Examples
    --------
    >>> from mne_sscsleep.nn import SSCSleepNetLite
    >>> net = ContextNet(SSCSleepNetLite(), context=1)
    >>> x = 20e-6 * torch.randn(3, 1, 3000)  # three consecutive epochs of one recording
    >>> windows = torch.tensor([[-1, 0, 1], [0, 1, 2], [1, 2, -1]])
    >>> logits, u, v = net(x, windows)
    >>> tuple(logits.shape)
    (3, 5)
    """

    def __init__(
        self,
        epoch_network,
        context,
        *,
        model="gru",
        hidden=64,
        dropout=0.25,
        n_classes=5,
        night_time=False,
    ):
        super().__init__()
        context = int(context)
        if context < 1:
            raise ValueError(f"context must be at least 1, got {context}.")
        if model not in CONTEXT_MODELS:
            raise ValueError(f"model must be one of {CONTEXT_MODELS}, got {model!r}.")
        if not callable(getattr(epoch_network, "forward_features", None)):
            raise TypeError(
                f"context={context} needs a per-epoch network with forward_features() and "
                f"n_features (SSCSleepNet, SSCSleepNetLite); {type(epoch_network).__name__} "
                "has none."
            )
        self.epoch_network = epoch_network
        self.context = context
        self.model = model
        self.night_time = bool(night_time)
        n_features = int(epoch_network.n_features) + 2 * self.night_time
        width = 2 * context + 1
        if model == "gru":
            # The mask is one more input feature, so padding reads as padding, not as silence.
            self.sequence = nn.GRU(n_features + 1, hidden, batch_first=True, bidirectional=True)
            n_out = 2 * hidden
        else:
            self.project = nn.Linear(n_features, hidden)
            self.position = nn.Parameter(torch.zeros(width, hidden))
            nn.init.normal_(self.position, std=0.02)
            layer = nn.TransformerEncoderLayer(
                hidden, nhead=4, dim_feedforward=2 * hidden, dropout=0.1, batch_first=True
            )
            self.sequence = nn.TransformerEncoder(layer, num_layers=1, enable_nested_tensor=False)
            n_out = hidden
        self.context_head = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(n_out, hidden), nn.ReLU(), nn.Linear(hidden, n_classes)
        )
        nn.init.zeros_(self.context_head[-1].weight)
        nn.init.zeros_(self.context_head[-1].bias)

    def forward(self, x, windows, night_time=None):
        """Classify the centre epoch of each window.

        Parameters
        ----------
        x : Tensor, shape (U, 1, T)
            The batch's epochs, each once.
        windows : Tensor of int64, shape (U, 2 * context + 1)
            Rows of ``x`` around each row's epoch (``-1``: none); rows whose centre is ``-1``
            are context only.
        night_time : Tensor, shape (U, 2) | None
            Hours since the recording began and share of the night of each row; needed when
            the network was built with ``night_time=True``, ignored otherwise.

        Returns
        -------
        logits : Tensor, shape (N, n_classes)
            Stage scores of the rows with a centre, in row order.
        u, v : Tensor, shape (N, D)
            Their per-epoch branch embeddings (for the contrastive loss).
        """
        k = self.context
        if windows.ndim != 2 or windows.shape != (len(x), 2 * k + 1):
            raise ValueError(
                f"windows must have shape ({len(x)}, {2 * k + 1}) for {len(x)} epochs and "
                f"context {k}, got {tuple(windows.shape)}."
            )
        fused, u, v = self.epoch_network.forward_features(x)
        features = fused
        if self.night_time:
            if night_time is None or night_time.shape != (len(x), 2):
                raise ValueError(
                    f"This ContextNet reads the time of night: pass night_time of shape "
                    f"({len(x)}, 2)."
                )
            features = torch.cat([fused, night_time.to(fused.dtype)], dim=1)
        output = windows[:, k] >= 0
        rows = windows[output]  # (N, W)
        valid = rows >= 0
        # Gather the windows as a product with a one-hot matrix, not by indexing: the backward
        # of an indexed gather adds into repeated rows in a thread-dependent order on CPU, which
        # made seeded fits differ run to run; a matrix product's backward is deterministic.
        pick = nn.functional.one_hot(rows.clamp(min=0).reshape(-1), len(features))
        pick = pick.to(features.dtype) * valid.reshape(-1, 1).to(features.dtype)
        sequence = (pick @ features).reshape(*rows.shape, -1)
        if self.model == "gru":
            sequence = torch.cat([sequence, valid.unsqueeze(-1).to(fused.dtype)], dim=-1)
            states, _ = self.sequence(sequence)
        else:
            states = self.sequence(
                self.project(sequence) + self.position, src_key_padding_mask=~valid
            )
        centre = fused[output]
        logits = self.epoch_network.head(centre) + self.context_head(states[:, k])
        return logits, u[output], v[output]
