"""The one path from a config file to a config that runs, shared by every entry point.

``tools/train.py``, ``tools/test.py``, :func:`mmaction.apis.init_recognizer` (and through it
``demo/demo.py`` and ``tools/misc/extract_features.py``), ``tools/analysis/get_flops.py``,
``tools/analysis/benchmark.py`` and ``tools/misc/print_config.py`` all call :func:`load_config`.
It is the only place where the tools change a user's config; each change is returned as one
line, which the tools log (one log line per change), and the result is what runs:

1. read the file (a missing config or ``_base_`` file is a :class:`ConfigError`);
2. check ``--cfg-options`` (known keys, value types) and merge them;
3. translate 0.x keys (:func:`~mmaction.engine.runner.convert_legacy_config`);
4. move schedulers that ended at the old last epoch when ``max_epochs`` changed;
5. apply the tool's own command-line options (``tool_changes``: work dir, resume, ``--amp`` ...);
6. upgrade engine types (optim wrapper, constructor, checkpoint hook, RNGStateHook), set up
   the distributed settings (``launcher``), unpin dataloader memory without a GPU, and give the
   head's class count to the datasets;
7. check every ``type`` name, every key and every value (types, ``num_classes >= 1``, ...).

Nothing is built before step 7 has passed.
"""

import copy
import os
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple, Union

from mmengine.config import Config

from mmaction.engine.runner import (
    ConfigError,
    check_cfg_options,
    check_config_keys,
    check_config_types,
    configure_distributed,
    convert_legacy_config,
    share_num_classes,
    stretch_schedulers,
    unpin_memory_without_gpu,
    upgrade_engine_types,
)
from mmaction.engine.runner.config_check import check_config_values, check_option_values, read_config_file
from mmaction.utils.setup_env import register_all_modules

#: ``tool_changes(cfg) -> notes``: a tool's own command-line options applied to the config.
ToolChanges = Callable[[Config], List[str]]


def load_config(
    path: Union[str, "os.PathLike[str]", Config],
    cfg_options: Optional[Dict[str, Any]] = None,
    *,
    launcher: Optional[str] = None,
    tool_changes: Optional[ToolChanges] = None,
    skip_checks: Iterable[str] = (),
) -> Tuple[Config, List[str]]:
    """Reads, translates, adjusts and checks a config (steps in the module docstring).

    Args:
        path: the config file (mmengine 1.x or 0.x style), or a Config already read (a copy is
            changed, never the given one).
        cfg_options: ``{'dotted.key': value}`` from ``--cfg-options`` (mmengine's DictAction).
        launcher: ``'none' | 'pytorch' | 'slurm' | 'mpi'`` for the tools that build a Runner
            (step 6: engine types, ``launcher``, the dist backend and DDP on CPU); None for tools
            that only build the model (step 6 then only shares the class count).
        tool_changes: the tool's command-line options, applied after the translation and before
            the checks; returns one note per change.
        skip_checks: top-level keys not checked (parts a tool clears or will not build).

    Returns:
        (the effective config, one line per change the tools made).

    Raises:
        ConfigError: naming the file, key or value at fault, before anything is built.
    """
    register_all_modules(init_default_scope=True)
    cfg = copy.deepcopy(path) if isinstance(path, Config) else read_config_file(os.fspath(path))
    options = dict(cfg_options or {})
    train_cfg = cfg.get("train_cfg")
    old_max_epochs = train_cfg.get("max_epochs") if isinstance(train_cfg, dict) else None
    if options:
        check_cfg_options(cfg, options)
        check_option_values(cfg, options)
        cfg.merge_from_dict(options)
    cfg, notes = convert_legacy_config(cfg)
    # the schedule warning matters where a Runner trains, once per job (before the process group exists)
    warn = launcher is not None and os.environ.get("RANK", "0") == "0"
    stretched = stretch_schedulers(cfg, old_max_epochs, warn=warn)
    if stretched:
        notes.append(stretched)
    if tool_changes is not None:
        notes += tool_changes(cfg)
    if launcher is not None:
        notes += upgrade_engine_types(cfg)
        notes += configure_distributed(cfg, launcher)
        notes += unpin_memory_without_gpu(cfg)
    shared = share_num_classes(cfg)
    if shared:
        notes.append(shared)
    check_config_types(cfg, skip_top_level=skip_checks)
    check_config_keys(cfg, skip_top_level=skip_checks)
    check_config_values(cfg, skip_top_level=skip_checks)
    return cfg, notes


__all__ = ["ConfigError", "ToolChanges", "load_config"]
