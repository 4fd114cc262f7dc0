"""Process-group set-up for ``--launcher pytorch`` (torchrun) and ``--launcher slurm``.

mmengine's own launcher calls ``torch.cuda.set_device`` unconditionally, which fails on a
CPU-only machine. The group is therefore initialised here, before the Runner is built
(mmengine then sees an initialised group and skips its own set-up): NCCL when CUDA devices
are available, gloo otherwise.

A worker started by torchrun (``TORCHELASTIC_RUN_ID`` set) also asks the kernel to end it when its launcher dies
(:func:`exit_with_parent`): killing only the ``torchrun`` process must not leave workers training on.
"""

import ctypes
import datetime
import logging
import os
import signal
import subprocess
import sys
from typing import Optional, Tuple

import torch
import torch.distributed as dist
from mmengine.logging import print_log

LAUNCHERS = ("none", "pytorch", "slurm")


def resolve_backend(backend: Optional[str]) -> str:
    """``'auto'``/None -> ``'nccl'`` with CUDA, ``'gloo'`` without; NCCL without CUDA -> gloo (warned)."""
    has_cuda = torch.cuda.is_available()
    if backend in (None, "auto"):
        return "nccl" if has_cuda else "gloo"
    if backend == "nccl" and not has_cuda:
        print_log("dist backend 'nccl' needs CUDA devices; none found, using 'gloo'", logger="current",
                  level=logging.WARNING)
        return "gloo"
    return backend


def _require_env(*names: str) -> None:
    missing = [n for n in names if n not in os.environ]
    if missing:
        raise RuntimeError(
            f"--launcher pytorch needs the environment variables {missing} that torchrun sets; start the job with "
            "`bash tools/dist_train.sh CONFIG NUM_GPUS ...` or `python -m torch.distributed.run ...`"
        )


def _slurm_env(port: Optional[int]) -> None:
    """Fills RANK/WORLD_SIZE/LOCAL_RANK/MASTER_ADDR/MASTER_PORT from SLURM's variables."""
    for name in ("SLURM_PROCID", "SLURM_NTASKS", "SLURM_NODELIST"):
        if name not in os.environ:
            raise RuntimeError(f"--launcher slurm needs {name}; start the job with srun (tools/slurm_train.sh)")
    rank = int(os.environ["SLURM_PROCID"])
    world = int(os.environ["SLURM_NTASKS"])
    num_gpus = max(torch.cuda.device_count(), 1)
    local_rank = int(os.environ.get("SLURM_LOCALID", rank % num_gpus))
    if "MASTER_ADDR" not in os.environ:
        nodes = os.environ["SLURM_NODELIST"]
        try:
            out = subprocess.run(["scontrol", "show", "hostnames", nodes], check=True, capture_output=True, text=True)
            os.environ["MASTER_ADDR"] = out.stdout.split()[0]
        except (OSError, subprocess.CalledProcessError, IndexError) as exc:
            raise RuntimeError(f"cannot resolve the first host of SLURM_NODELIST={nodes!r} with scontrol: {exc}")
    os.environ.setdefault("MASTER_PORT", str(port or 29500))
    os.environ["RANK"] = str(rank)
    os.environ["WORLD_SIZE"] = str(world)
    os.environ["LOCAL_RANK"] = str(local_rank)
    os.environ["LOCAL_WORLD_SIZE"] = os.environ.get("SLURM_NTASKS_PER_NODE", str(num_gpus)).split("(")[0]


_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def exit_with_parent(sig: int = signal.SIGKILL) -> bool:
    """Makes the kernel send ``sig`` to this process when its parent (the launcher) dies.

    Linux only (``prctl(PR_SET_PDEATHSIG)``); elsewhere nothing is done. If the parent already
    died before the call (this process was re-parented), ``sig`` is sent at once.

    Returns:
        True when the request is in place.
    """
    if not sys.platform.startswith("linux"):
        return False
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
            return False
    except (OSError, AttributeError):
        return False
    if os.getppid() != parent:  # the launcher died between getppid() and prctl()
        os.kill(os.getpid(), sig)
    return True


def init_distributed(
    launcher: str, backend: Optional[str] = "auto", timeout_s: Optional[float] = 1800, port: Optional[int] = None
) -> Tuple[int, int]:
    """Initialises the default process group for ``launcher`` (no-op for ``'none'``).

    Args:
        launcher: ``'none'``, ``'pytorch'`` (torchrun environment) or ``'slurm'`` (srun).
        backend: ``'auto'``, ``'nccl'``, ``'gloo'`` ...
        timeout_s: collective timeout in seconds: a rank stuck in a collective fails after it.
        port: MASTER_PORT for slurm when the environment has none.

    Returns:
        (rank, world_size).
    """
    if launcher not in LAUNCHERS:
        raise ValueError(f"unknown launcher {launcher!r}; use one of {LAUNCHERS}")
    if launcher == "none":
        return 0, 1
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    if launcher == "slurm":
        _slurm_env(port)
    elif "TORCHELASTIC_RUN_ID" in os.environ:  # started by torchrun, which is the parent
        exit_with_parent()  # the workers must not outlive it (not for a process started by hand)
    _require_env("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")
    backend = resolve_backend(backend)
    local_rank = int(os.environ["LOCAL_RANK"])
    if backend == "nccl":
        torch.cuda.set_device(local_rank % torch.cuda.device_count())
    kwargs = {}
    if timeout_s is not None:
        kwargs["timeout"] = datetime.timedelta(seconds=float(timeout_s))
    dist.init_process_group(backend=backend, rank=int(os.environ["RANK"]), world_size=int(os.environ["WORLD_SIZE"]),
                            **kwargs)
    return dist.get_rank(), dist.get_world_size()


def destroy_distributed() -> None:
    """Tears the default process group down (if any)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
