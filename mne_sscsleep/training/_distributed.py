"""Data-parallel training over several processes (GPUs or nodes) with ``torch.distributed``.

Launch one process per GPU with ``torchrun`` (or ``accelerate launch``, or ``srun`` running
``torchrun``); each process builds the same classifier with ``distributed=True``. Then:

- each process trains on its own shard of the recordings (:class:`PairBatchSampler`'s ``rank``
  and ``world_size``), the same number of batches per pass;
- :class:`DistributedSync` averages the gradients of every step across processes (an
  all-reduce, what ``DistributedDataParallel`` does) and the batch-norm statistics after each
  step, and starts every process from rank 0's weights, so the weights stay identical;
- every process scores the whole validation set with those identical weights, so early
  stopping, the N1 adaptation and the learning-rate schedule decide alike everywhere.

Why not ``DistributedDataParallel`` itself, or skorch's ``AccelerateMixin``: both re-wrap the
network or the data loaders (``module.`` prefixes in the weights; Accelerate's loader sharding
assumes fixed-size batches and pads the last ones, which breaks the pair batches, the context
windows and the order of predictions). The collectives are the same ``torch.distributed`` ones
(gloo on CPUs, NCCL on GPUs); only the few lines that call them are ours.
"""

from __future__ import annotations

import os

import torch
from skorch.callbacks import Callback


def check_device(device):
    """Check that ``device`` names a device this machine has, before any work.

    Parameters
    ----------
    device : str | torch.device
        ``'cpu'``, ``'cuda'``, ``'cuda:N'`` or ``'mps'``.

    Raises
    ------
    ValueError
        Naming the device, what PyTorch sees and how to fix it (a CUDA build of PyTorch,
        or ``device='cpu'``).

    Examples
    --------
    >>> check_device("cpu")
    """
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"device must be 'cpu', 'cuda' or 'cuda:N', got {device!r}.") from None
    name = str(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        build = "a CPU-only build" if torch.version.cuda is None else "a CUDA build"
        raise ValueError(
            f"device={name!r}, but PyTorch sees no CUDA GPU (torch "
            f"{torch.__version__}, {build}). On a GPU machine install a CUDA build of "
            "PyTorch (plain pip install torch from PyPI is one on Linux; see "
            "https://pytorch.org/get-started/locally/), or use device='cpu' (--device cpu)."
        )
    if device.type == "cuda" and device.index is not None:
        if device.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={name!r}, but PyTorch sees {torch.cuda.device_count()} "
                "GPU(s), numbered from 0."
            )
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device={name!r}, but this machine has no MPS device.")


def process_group(device="cpu"):
    """Join the launcher's process group; return this process's rank and the group's size.

    The first call initialises ``torch.distributed`` from the environment that ``torchrun``,
    ``accelerate launch`` or ``srun`` + ``torchrun`` set (``RANK``, ``WORLD_SIZE``,
    ``MASTER_ADDR``, ...); later calls only read it.

    Parameters
    ----------
    device : str
        The training device: NCCL is used for CUDA, gloo otherwise.

    Returns
    -------
    rank : int
        This process's number, from 0.
    world_size : int
        The number of processes.

    Examples
    --------
    >>> rank, world_size = process_group("cuda:0")  # doctest: +SKIP
    """
    import torch.distributed as dist

    if not dist.is_available():
        raise RuntimeError("This PyTorch build has no torch.distributed; distributed=False.")
    if not dist.is_initialized():
        if "WORLD_SIZE" not in os.environ:
            raise RuntimeError(
                "distributed=True needs one process per device, started by a launcher: "
                "torchrun --nproc_per_node N your_script.py (or accelerate launch, or srun "
                "running torchrun). None set WORLD_SIZE here; for one process, leave "
                "distributed=False."
            )
        backend = "nccl" if torch.device(device).type == "cuda" else "gloo"
        dist.init_process_group(backend=backend)
    return dist.get_rank(), dist.get_world_size()


def is_main_process():
    """Whether this process should print and save: rank 0, or the only process.

    Returns
    -------
    main : bool
        True outside distributed training, and on rank 0 within it.

    Examples
    --------
    >>> is_main_process()
    True
    """
    import torch.distributed as dist

    return not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0


def _average(tensors, world_size):
    """Replace each tensor by its mean over the processes, in one all-reduce."""
    import torch.distributed as dist

    if not tensors:
        return
    flat = torch.cat([tensor.reshape(-1) for tensor in tensors])
    dist.all_reduce(flat)
    flat /= world_size
    for tensor, part in zip(tensors, flat.split([tensor.numel() for tensor in tensors])):
        tensor.copy_(part.view_as(tensor))


class DistributedSync(Callback):
    """Keep the weights of data-parallel processes identical.

    At the start of training every process takes rank 0's weights and buffers; after each
    backward pass the gradients are averaged over processes (one flat all-reduce), and after
    each training step the floating-point buffers (batch-norm running statistics) are
    averaged. With one process it does nothing. ``SSCSleepClassifier(distributed=True)`` adds
    it; another skorch net can add it to its callbacks.

    Examples
    --------
    >>> from skorch import NeuralNetClassifier
    >>> net = NeuralNetClassifier(MyModule, callbacks=[DistributedSync()])  # doctest: +SKIP
    """

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        if self._world() > 1:
            import torch.distributed as dist

            for tensor in self._state(net):
                dist.broadcast(tensor.data, src=0)

    def on_grad_computed(self, net, named_parameters, X=None, y=None, training=False, **kwargs):
        world = self._world()
        if world == 1:
            return
        params = [param for _, param in named_parameters if param.requires_grad]
        for param in params:
            if param.grad is None:  # unused in this step: the same zeros on every process
                param.grad = torch.zeros_like(param)
        _average([param.grad for param in params], world)

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        world = self._world()
        if world == 1 or not training:
            return
        _average([b for b in net.module_.buffers() if torch.is_floating_point(b)], world)

    @staticmethod
    def _world():
        import torch.distributed as dist

        return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1

    @staticmethod
    def _state(net):
        criterion = getattr(net, "criterion_", None)
        modules = [net.module_] + ([criterion] if isinstance(criterion, torch.nn.Module) else [])
        for module in modules:
            yield from module.parameters()
            yield from module.buffers()
