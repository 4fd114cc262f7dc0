"""Shared steps of tools/train.py and tools/test.py: loading and checking configs, applying
command-line options, setting up distributed runs and building the Runner."""

import os
import os.path as osp
import sys
from typing import Any, Dict, List, Optional, Tuple

from mmengine.config import Config
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from mmaction.engine.runner import (
    ConfigError,
    check_cfg_options,
    check_config_types,
    configure_distributed,
    convert_legacy_config,
    stretch_schedulers,
    upgrade_engine_types,
)
from mmaction.utils import register_all_modules


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
    """Swaps in our engine types, sets up DDP on CPU and checks every ``type`` name.

    Returns:
        notes of what was changed.
    """
    notes = upgrade_engine_types(cfg)
    configure_distributed(cfg, launcher)
    check_config_types(cfg, skip_top_level=skip_type_check)
    return notes


def build_runner(cfg: Config) -> Runner:
    """``RUNNERS.build`` when the config names a ``runner_type``, else ``Runner.from_cfg``."""
    if "runner_type" in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)


def report_error_and_exit(exc: BaseException, code: int = 2) -> None:
    """Prints a config error as one clear line on stderr and exits with ``code``."""
    rank = os.environ.get("RANK", "0")
    prefix = "" if rank == "0" else f"[rank {rank}] "
    print(f"{prefix}error: {exc}", file=sys.stderr, flush=True)
    sys.exit(code)
