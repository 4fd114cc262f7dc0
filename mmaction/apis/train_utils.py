"""Shared steps of tools/train.py and tools/test.py: building the Runner (with the effective
config written to the work dir), one-line errors and exit codes. Configs are loaded by
:func:`mmaction.apis.config_loader.load_config`."""

import copy
import gc
import os
import os.path as osp
import sys
import time
from typing import Any, Callable, Dict, List, Optional

from mmengine.config import Config
from mmengine.dist import get_rank
from mmengine.runner import Runner

from mmaction.datasets.list_file import AnnotationError
from mmaction.engine.runner import ConfigError, ToolRunner, atomic_write_text, log_notes
from mmaction.engine.runner.atomic_io import DiskFullError
from mmaction.models.backbones.clip_checkpoint import PretrainedWeightsError
from mmaction.registry import RUNNERS
from mmaction.utils.safe_load import CheckpointReadError

from .config_loader import load_config  # noqa: F401 - the tools' one config loader, re-exported

#: The effective config (after every change the tools made) in each run's log folder.
EFFECTIVE_CONFIG_NAME = "effective_config.py"


def default_work_dir(config_path: str) -> str:
    """``./work_dirs/<config name without .py>``."""
    return osp.join("./work_dirs", osp.splitext(osp.basename(config_path))[0])


def check_test_list(cfg: Config) -> None:
    """Builds (and drops) the test dataset, so that a mistake in the test list (or its pipeline)
    is reported before training rather than after it (the Runner builds it only at test time).
    Nothing random is drawn."""
    loader = cfg.get("test_dataloader")
    dataset = loader.get("dataset") if isinstance(loader, dict) else None
    if isinstance(dataset, dict):
        from mmaction.registry import DATASETS

        DATASETS.build(copy.deepcopy(dataset))


def choose_cpu_threads() -> Optional[str]:
    """For a one-process CPU run without ``OMP_NUM_THREADS``: as many torch threads as there are
    idle cores (CPU count minus the 1-minute load average, at least 1), so that a busy machine is
    not made slower by threads that wait for each other. Returns a note, or None when nothing
    was changed (``OMP_NUM_THREADS`` set, a GPU present, or the default already fits)."""
    import torch

    if "OMP_NUM_THREADS" in os.environ or torch.cuda.is_available() or not hasattr(os, "getloadavg"):
        return None
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    idle = max(1, int(cpus - os.getloadavg()[0] + 0.5))
    current = torch.get_num_threads()
    if idle >= current:
        return None
    torch.set_num_threads(idle)
    return (f"torch CPU threads {current} -> {idle} (load average {os.getloadavg()[0]:.1f} on {cpus} CPUs; "
            "set OMP_NUM_THREADS to choose)")


def build_runner(cfg: Config, changes: List[str]) -> Runner:
    """Builds the Runner (``RUNNERS.build`` when the config names a ``runner_type``, else
    :class:`~mmaction.engine.runner.ToolRunner`), logs ``changes`` one line each, and writes
    the effective config with them to ``<work_dir>/<timestamp>/effective_config.py`` (rank 0)."""
    runner = RUNNERS.build(cfg) if "runner_type" in cfg else ToolRunner.from_cfg(cfg)
    log_notes(changes)
    if get_rank() == 0:
        header = "# The config that ran: the config file after these changes made by the tools:\n"
        header += "".join(f"#   {note}\n" for note in changes) if changes else "#   (none)\n"
        atomic_write_text(osp.join(runner.log_dir, EFFECTIVE_CONFIG_NAME), header + runner.cfg.pretty_text)
    return runner


#: Errors that mean "fix the config, a list file or a weights file" (each names the key, the
#: file and line, or the file and tensor), or "free disk space" (names the file that could not be
#: written): the tools print them as one ``error: ...`` line and exit with code 2 instead of a
#: traceback.
USER_INPUT_ERRORS = (ConfigError, AnnotationError, PretrainedWeightsError, CheckpointReadError,
                     DiskFullError)


def report_error_and_exit(exc: BaseException, code: int = 2, other_ranks_wait_s: float = 30.0) -> None:
    """Prints a config error as one clear line on stderr and exits with ``code``.

    In a job of several processes (torchrun: ``WORLD_SIZE``/``RANK``; srun: ``SLURM_NTASKS``/
    ``SLURM_PROCID``) every process checks the same config and fails the same way. Rank 0
    prints the line and exits at once; the launcher then stops the other ranks, which wait
    up to ``other_ranks_wait_s`` seconds before printing their own ``[rank N] error: ...``
    line, so that it appears only when rank 0 did not fail (an error only they saw, e.g. a
    file missing on their node). Without the wait, the first rank to fail made torchrun kill
    the others, and the message came once per process, or from a random rank.
    """
    rank = os.environ.get("RANK", os.environ.get("SLURM_PROCID", "0"))
    world_size = os.environ.get("WORLD_SIZE", os.environ.get("SLURM_NTASKS", "1"))
    if rank != "0" and world_size.isdigit() and int(world_size) > 1:
        time.sleep(other_ranks_wait_s)
    prefix = "" if rank == "0" else f"[rank {rank}] "
    print(f"{prefix}error: {exc}", file=sys.stderr, flush=True)
    sys.exit(code)


def format_metrics(metrics: Dict[str, Any]) -> str:
    """``'acc/top1=0.8125, acc/top5=1.0000, ...'``: floats with 4 decimals, the rest as they are."""
    return ", ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in metrics.items())


def run_main_and_exit(main: Callable[[], int]) -> None:
    """Runs a tool's ``main()`` and exits with its code, after freeing what the run left behind.

    The Runner lives in reference cycles, and with it the DDP model, its process group and
    gloo's worker threads. Left to interpreter shutdown, a worker thread that still needs the GIL
    makes the process abort at exit ("terminate called without an active exception", SIGABRT)
    after a successful run; collecting them while the interpreter is fully alive avoids that.
    """
    exit_code = main()
    gc.collect()
    sys.exit(exit_code)
