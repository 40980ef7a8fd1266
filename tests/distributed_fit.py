"""One process of a data-parallel fit, for tests/test_scale.py (run under torchrun).

Usage: python -m torch.distributed.run --standalone --nproc_per_node 2 distributed_fit.py STORE OUT
"""

import json
import os
import sys
from pathlib import Path

from helpers import TINY

from mne_sscsleep import SSCSleepClassifier
from mne_sscsleep.datasets import EpochStore


def main(store_path, out, distributed=True):
    store = EpochStore.open(store_path)
    clf = SSCSleepClassifier(**{**TINY, "max_epochs": 3, "distributed": distributed})
    clf.fit(store)
    dataset = clf.get_dataset(store)
    sampler = clf.get_iterator(dataset, training=True).sampler  # fit's sharding
    rank = int(os.environ.get("RANK", 0))
    result = {
        "rank": rank,
        "recordings": sorted(set(dataset.recording[sampler.indices].tolist())),
        "n_batches": len(sampler),
        "weights": {k: v.flatten().tolist() for k, v in clf.module_.state_dict().items()},
        "accuracy": float((clf.predict(store) == store.labels).mean()),
    }
    Path(out, f"rank{rank}.json").write_text(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], distributed=len(sys.argv) < 4)
