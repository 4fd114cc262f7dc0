"""Shared steps of tools/train.py and tools/test.py: loading and checking configs, applying
command-line options, setting up distributed runs and building the Runner."""

import copy
import gc
import os
import os.path as osp
import sys
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from mmengine.config import Config
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from mmaction.engine.runner import (
    ConfigError,
    check_cfg_options,
    check_config_keys,
    check_config_types,
    configure_distributed,
    convert_legacy_config,
    share_num_classes,
    stretch_schedulers,
    upgrade_engine_types,
)
from mmaction.datasets.list_file import AnnotationError
from mmaction.models.backbones.clip_checkpoint import PretrainedWeightsError
from mmaction.utils.setup_env import register_all_modules


def load_config(path: str, cfg_options: Optional[Dict[str, Any]] = None) -> Tuple[Config, List[str]]:
    """Reads a config, checks and merges ``cfg_options``, translates 0.x keys.

    Nothing is built here: mistakes (missing file, unknown option key) raise
    :class:`ConfigError` before any model or dataset exists.

    Args:
        path: the config file.
        cfg_options: ``{'dotted.key': value}`` from ``--cfg-options`` (mmengine's DictAction).

    Returns:
        (config in mmengine 1.x keys, notes of what was translated or adjusted).
    """
    register_all_modules(init_default_scope=True)
    if not osp.isfile(path):
        raise ConfigError(f"config file not found: {path}")
    cfg = Config.fromfile(path)
    options = dict(cfg_options or {})
    old_max_epochs = (cfg.get("train_cfg") or {}).get("max_epochs") if isinstance(cfg.get("train_cfg"), dict) else None
    if options:
        check_cfg_options(cfg, options)
        cfg.merge_from_dict(options)
    cfg, notes = convert_legacy_config(cfg)
    stretched = stretch_schedulers(cfg, old_max_epochs)
    if stretched:
        notes.append(stretched)
    return cfg, notes


def default_work_dir(config_path: str) -> str:
    """``./work_dirs/<config name without .py>``."""
    return osp.join("./work_dirs", osp.splitext(osp.basename(config_path))[0])


def finalize_config(cfg: Config, launcher: str, skip_type_check: tuple = ()) -> List[str]:
    """Swaps in our engine types, sets up DDP on CPU, gives the head's ``num_classes`` to the
    datasets (:func:`share_num_classes`) and checks every ``type`` name and every key of a typed
    dict (:func:`check_config_types`, :func:`check_config_keys`).

    Returns:
        notes of what was changed.
    """
    notes = upgrade_engine_types(cfg)
    configure_distributed(cfg, launcher)
    shared = share_num_classes(cfg)
    if shared:
        notes.append(shared)
    check_config_types(cfg, skip_top_level=skip_type_check)
    check_config_keys(cfg, skip_top_level=skip_type_check)
    return notes


def check_test_list(cfg: Config) -> None:
    """Builds (and drops) the test dataset, so that a mistake in the test list (or its pipeline)
    is reported before training rather than after it (the Runner builds it only at test time).
    Nothing random is drawn."""
    loader = cfg.get("test_dataloader")
    dataset = loader.get("dataset") if isinstance(loader, dict) else None
    if isinstance(dataset, dict):
        from mmaction.registry import DATASETS

        DATASETS.build(copy.deepcopy(dataset))


def build_runner(cfg: Config) -> Runner:
    """``RUNNERS.build`` when the config names a ``runner_type``, else ``Runner.from_cfg``."""
    if "runner_type" in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)


#: Errors that mean "fix the config, a list file or a weights file" (each names the key, the
#: file and line, or the file and tensor): the tools print them as one ``error: ...`` line and
#: exit with code 2 instead of a traceback.
USER_INPUT_ERRORS = (ConfigError, AnnotationError, PretrainedWeightsError)


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
