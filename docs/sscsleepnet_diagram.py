"""Draw the SSC-SleepNet architecture for the user guide (run by Sphinx's plot directive)."""

import matplotlib.pyplot as plt
from matplotlib.patches import FancyBboxPatch

BOXES = {
    # name: (x, y, width, height, text, colour)
    "input": (
        0.2,
        2.1,
        1.6,
        0.8,
        "30-s epoch\n(B, 1, 3000), volts\n-> uV, standardised",
        "#eeeeee",
    ),
    "se": (
        2.6,
        3.3,
        3.0,
        1.1,
        "SE-ResNet branch\n0.5-s conv stem, 3 residual\nSE blocks, pooling -> z_SE (64)",
        "#c6dbef",
    ),
    "lstm": (
        2.6,
        0.6,
        3.0,
        1.1,
        "CNN-LSTM branch\n0.5-s and 4-s conv paths,\nBiLSTM -> z_LSTM (64)",
        "#fdd0a2",
    ),
    "amp": (2.6, 2.15, 3.0, 0.7, "log amplitude (1)", "#e5f5e0"),
    "head": (6.4, 2.0, 1.6, 1.0, "fusion head\n129 -> 64 -> 5", "#dadaeb"),
    "logits": (8.6, 2.1, 1.3, 0.8, "5 logits\nW N1 N2 N3 R", "#eeeeee"),
    "loss": (
        6.1,
        4.5,
        3.8,
        1.0,
        "adaptive loss: weighted CE + focal,\nN1 penalty lambda, contrastive term\n"
        "between z_SE(a) and z_LSTM(b) of a pair",
        "#fee0d2",
    ),
}
ARROWS = [
    ("input", "se"),
    ("input", "lstm"),
    ("input", "amp"),
    ("se", "head"),
    ("lstm", "head"),
    ("amp", "head"),
    ("head", "logits"),
]


def _anchor(name, side):
    x, y, w, h = BOXES[name][:4]
    return {"right": (x + w, y + h / 2), "left": (x, y + h / 2)}[side]


fig, ax = plt.subplots(figsize=(10, 5.2))
for x, y, w, h, text, colour in BOXES.values():
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.05", fc=colour, ec="0.3"))
    ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=9)
for start, end in ARROWS:
    ax.annotate(
        "",
        _anchor(end, "left"),
        _anchor(start, "right"),
        arrowprops=dict(arrowstyle="->", color="0.3"),
    )
LOSS_INPUTS = [
    ((4.1, 4.45), (6.05, 4.9), -0.2),
    ((5.65, 1.6), (6.2, 4.45), 0.0),
    ((9.25, 2.95), (9.25, 4.45), 0.0),
]  # from z_SE, z_LSTM and the logits
for start, end, bend in LOSS_INPUTS:
    ax.annotate(
        "",
        end,
        start,
        arrowprops=dict(
            arrowstyle="->", color="#cb181d", ls="--", connectionstyle=f"arc3,rad={bend}"
        ),
    )
ax.text(
    0.2,
    0.15,
    "Training: rows 2k and 2k+1 of a batch are a pair (a, b) of epochs; "
    "prediction needs single epochs only.",
    fontsize=9,
    color="0.25",
)
ax.set(xlim=(0, 10.1), ylim=(0.0, 5.6))
ax.axis("off")
fig.tight_layout()
