"""Checks a config before anything is built: unknown ``--cfg-options`` keys and unknown ``type`` names.

Both mistakes would otherwise surface late (after minutes of model building or data
scanning) or never (mmengine silently adds a misspelt key, and the class default is used).
"""

import difflib
import inspect
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Set, Tuple

from mmengine.config import Config, ConfigDict
from mmengine.registry import Registry
from torch.utils.data import DataLoader

import mmaction.registry as registries


class ConfigError(ValueError):
    """A config mistake, with the key (dotted path) at fault in the message."""


# Keys the Runner (or our tools) read at the top level of a config, beyond the variables a
# config file defines itself.
RUNNER_TOP_LEVEL_KEYS: Set[str] = {
    "model", "work_dir", "train_dataloader", "val_dataloader", "test_dataloader", "train_cfg", "val_cfg",
    "test_cfg", "auto_scale_lr", "optim_wrapper", "param_scheduler", "val_evaluator", "test_evaluator",
    "default_hooks", "custom_hooks", "data_preprocessor", "load_from", "resume", "launcher", "env_cfg",
    "log_processor", "log_level", "visualizer", "vis_backends", "default_scope", "randomness", "experiment_name",
    "find_unused_parameters", "model_wrapper_cfg", "sync_bn", "activation_checkpointing",
    "efficient_conv_bn_eval", "compile", "runner_type", "custom_imports", "strategy",
}
# 0.x (mmcv) keys that legacy_config.py translates.
LEGACY_TOP_LEVEL_KEYS: Set[str] = {
    "data", "total_epochs", "evaluation", "optimizer", "optimizer_config", "lr_config", "momentum_config",
    "fp16", "checkpoint_config", "log_config", "dist_params", "workflow", "resume_from", "gpu_ids",
    "omnisource", "eval_config", "module_hooks", "opencv_num_threads", "mp_start_method",
}

# Known keys of config dicts that have no ``type`` but a fixed meaning.
_LOADER_KEYS = set(inspect.signature(DataLoader).parameters) | {"sampler", "batch_sampler", "dataset", "collate_fn"}
UNTYPED_CONTAINER_KEYS: Dict[str, Set[str]] = {
    "train_dataloader": _LOADER_KEYS,
    "val_dataloader": _LOADER_KEYS,
    "test_dataloader": _LOADER_KEYS,
    "train_cfg": {"by_epoch", "max_epochs", "max_iters", "val_begin", "val_interval", "dynamic_intervals"},
    "val_cfg": {"fp16"},
    "test_cfg": {"fp16"},
    "env_cfg": {"cudnn_benchmark", "mp_cfg", "dist_cfg", "resource_limit"},
    "randomness": {"seed", "diff_rank_seed", "deterministic"},
    "auto_scale_lr": {"enable", "base_batch_size"},
    "data": {
        "videos_per_gpu", "workers_per_gpu", "train", "val", "test", "train_dataloader", "val_dataloader",
        "test_dataloader", "persistent_workers", "pin_memory", "shuffle", "seed",
    },
}
# Keys a builder consumes before calling the constructor (so they are not in its signature).
BUILDER_KEYS: Set[str] = {"type", "_scope_", "priority", "convert_to_iter_based", "constructor", "paramwise_cfg",
                          "optimizer", "_delete_"}

# Dicts whose ``type`` is no registry name.
_NON_REGISTRY_TYPE_PATHS = ("clip_grad",)


def all_registries() -> List[Registry]:
    """Every mmaction registry (each falls back to its mmengine parent)."""
    return [obj for obj in vars(registries).values() if isinstance(obj, Registry) and obj.scope == "mmaction"]


def lookup_type(name: str) -> Optional[Any]:
    """The class/function registered as ``name`` in any mmaction (or mmengine) registry, or None."""
    for registry in all_registries():
        try:
            found = registry.get(name)
        except Exception:  # noqa: BLE001 - a broken lazy import in one registry must not hide the others
            found = None
        if found is not None:
            return found
    return None


def _registered_names() -> List[str]:
    names: Set[str] = set()
    for registry in all_registries():
        current: Optional[Registry] = registry
        while current is not None:
            names.update(current.module_dict)
            current = current.parent
    return sorted(names)


def _suggest(word: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=3, cutoff=0.6)
    return f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


def _fmt(path: Sequence[Any]) -> str:
    return ".".join(str(p) for p in path)


def _accepted_kwargs(obj: Any) -> Optional[Set[str]]:
    """Keyword names accepted by a class/function, or None when it takes ``**kwargs``."""
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in sig.parameters.values()):
        return None
    return {name for name, p in sig.parameters.items() if p.kind is not inspect.Parameter.VAR_POSITIONAL}


# ---------------------------------------------------------------------------------------
# --cfg-options keys
# ---------------------------------------------------------------------------------------
def _check_new_key(parent: Any, parent_path: Tuple, key: str, full_key: str) -> None:
    """Raises ConfigError when ``key`` may not be added to ``parent`` (it does not exist yet)."""
    if not parent_path:
        if key in RUNNER_TOP_LEVEL_KEYS or key in LEGACY_TOP_LEVEL_KEYS:
            return
        raise ConfigError(
            f"--cfg-options: unknown key {full_key!r}: the config has no top-level key {key!r} and it is no "
            f"runner setting.{_suggest(key, RUNNER_TOP_LEVEL_KEYS | LEGACY_TOP_LEVEL_KEYS | set(parent))}"
        )
    type_name = parent.get("type") if isinstance(parent, dict) else None
    if isinstance(type_name, str):
        obj = lookup_type(type_name)
        if obj is None:
            raise ConfigError(
                f"--cfg-options: cannot check key {full_key!r}: {_fmt(parent_path)}.type={type_name!r} is not a "
                f"registered type.{_suggest(type_name, _registered_names())}"
            )
        accepted = _accepted_kwargs(obj)
        if accepted is None or key in accepted or key in BUILDER_KEYS:
            return
        raise ConfigError(
            f"--cfg-options: unknown key {full_key!r}: {type_name} has no argument {key!r}."
            f"{_suggest(key, accepted | set(parent))} Arguments of {type_name}: {sorted(accepted - {'self'})}"
        )
    if len(parent_path) == 1 and parent_path[0] in UNTYPED_CONTAINER_KEYS:
        allowed = UNTYPED_CONTAINER_KEYS[parent_path[0]]
        if key in allowed:
            return
        raise ConfigError(
            f"--cfg-options: unknown key {full_key!r}: {parent_path[0]} takes {sorted(allowed)}."
            f"{_suggest(key, allowed | set(parent))}"
        )
    # A free-form dict (e.g. model.test_cfg): anything may be added.


def check_cfg_options(cfg: Config, options: Dict[str, Any]) -> None:
    """Checks that every dotted key of ``options`` exists in ``cfg`` or is a valid new argument.

    A key that does not exist yet is accepted when its parent dict has a registered ``type``
    whose constructor takes that argument, when it is a known runner/0.x top-level key, or
    when its parent is a free-form dict. List items are addressed by index (``pipeline.1.scale``).

    Raises:
        ConfigError: naming the first offending key (with close matches).
    """
    for full_key in options:
        node: Any = cfg._cfg_dict if isinstance(cfg, Config) else cfg
        path: Tuple = ()
        for part in full_key.split("."):
            if isinstance(node, (list, tuple)):
                if not part.isdigit() or int(part) >= len(node):
                    raise ConfigError(
                        f"--cfg-options: bad key {full_key!r}: {_fmt(path) or 'config'} is a list of {len(node)} "
                        f"items, {part!r} is no index in it"
                    )
                node, path = node[int(part)], path + (int(part),)
                continue
            if not isinstance(node, dict):
                raise ConfigError(
                    f"--cfg-options: bad key {full_key!r}: {_fmt(path)} is a {type(node).__name__} "
                    f"({node!r}), not a dict"
                )
            if part not in node:
                _check_new_key(node, path, part, full_key)
                break
            node, path = node[part], path + (part,)


# ---------------------------------------------------------------------------------------
# type names
# ---------------------------------------------------------------------------------------
def _typed_dicts(node: Any, path: Tuple) -> Iterator[Tuple[Tuple, dict, str]]:
    """``(key path, dict, type name)`` of every dict below ``node`` whose ``type`` names a registry
    entry (a string, outside :data:`_NON_REGISTRY_TYPE_PATHS`), parents before children."""
    if isinstance(node, dict):
        type_name = node.get("type")
        if isinstance(type_name, str) and not (path and path[-1] in _NON_REGISTRY_TYPE_PATHS):
            yield path, node, type_name
        for key, value in node.items():
            yield from _typed_dicts(value, path + (key,))
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            yield from _typed_dicts(value, path + (i,))


def check_config_types(cfg: Config, skip_top_level: Iterable[str] = ()) -> None:
    """Checks that every ``type='Name'`` in the config names a registered class or function,
    and that ``optim_wrapper.constructor`` does.

    Args:
        cfg: the (translated) config.
        skip_top_level: top-level keys not to check (e.g. parts a tool will not build).

    Raises:
        ConfigError: naming the key path and the unknown type (with close matches).
    """
    root = cfg._cfg_dict if isinstance(cfg, Config) else cfg
    skip = set(skip_top_level)
    found: List[Tuple[Tuple, str]] = []
    for key, value in root.items():
        if key not in skip:
            found.extend((path, type_name) for path, _, type_name in _typed_dicts(value, (key,)))
    constructor = (root.get("optim_wrapper") or {}).get("constructor") if "optim_wrapper" not in skip else None
    if isinstance(constructor, str):
        found.append((("optim_wrapper", "constructor"), constructor))
    for path, type_name in found:
        if lookup_type(type_name) is None:
            where = _fmt(path) + ("" if path[-1] == "constructor" else ".type")
            raise ConfigError(
                f"unknown type {type_name!r} at {where}: no such class is registered in mmaction or mmengine."
                f"{_suggest(type_name, _registered_names())}"
            )


# ---------------------------------------------------------------------------------------
# keys written in the config file
# ---------------------------------------------------------------------------------------
def _accepted_along_mro(obj: Any) -> Optional[Set[str]]:
    """Keyword names a class accepts, following ``**kwargs`` up its base classes (the usual
    ``super().__init__(**kwargs)`` chain) until an ``__init__`` without ``**kwargs``; None when
    the chain never ends in a fixed signature (then nothing can be checked)."""
    if not isinstance(obj, type):
        return _accepted_kwargs(obj)
    names: Set[str] = set()
    for klass in obj.__mro__:
        if "__init__" not in vars(klass):
            continue
        if klass is object:
            return None
        accepted = _accepted_kwargs(klass.__init__)
        try:
            params = inspect.signature(klass.__init__).parameters.values()
        except (TypeError, ValueError):
            return None
        names.update(p.name for p in params if p.kind not in (inspect.Parameter.VAR_POSITIONAL,
                                                                inspect.Parameter.VAR_KEYWORD))
        if accepted is not None:
            return names - {"self"}
    return None


def _unknown_keys(node: Any, path: Tuple) -> Iterator[str]:
    """A message for each key of a typed dict below ``node`` that its class does not take."""
    for where, typed, type_name in _typed_dicts(node, path):
        obj = lookup_type(type_name)
        accepted = _accepted_along_mro(obj) if obj is not None else None
        if accepted is None:
            continue
        for key in typed:
            if key not in accepted and key not in BUILDER_KEYS:
                yield (f"unknown key {_fmt(where + (key,))!r}: {type_name} has no argument {key!r}."
                       f"{_suggest(str(key), accepted)} Arguments of {type_name}: {sorted(accepted)}")


def check_config_keys(cfg: Config, skip_top_level: Iterable[str] = ()) -> None:
    """Checks the keys written in the config: in every dict with a registered ``type``, each key
    must be an argument of that class (followed through ``**kwargs`` to the base classes) or a
    builder key (``type``, ``_scope_``, ``priority`` ...); in the untyped runner dicts
    (``train_dataloader``, ``randomness``, ``env_cfg`` ...) each key must be one they take.

    A misspelt argument (``model.backbone.widht``, ``train_dataloader.dataset.decode_timout``)
    would otherwise surface as a bare ``TypeError`` while the Runner builds, or never.

    Raises:
        ConfigError: naming the dotted key, the class and its arguments (with close matches).
    """
    root = cfg._cfg_dict if isinstance(cfg, Config) else cfg
    skip = set(skip_top_level)
    problems: List[str] = []
    for key, value in root.items():
        if key in skip:
            continue
        if key in UNTYPED_CONTAINER_KEYS and isinstance(value, dict) and not isinstance(value.get("type"), str):
            allowed = UNTYPED_CONTAINER_KEYS[key]
            for sub in value:
                if sub not in allowed and sub not in BUILDER_KEYS:
                    problems.append(f"unknown key '{key}.{sub}': {key} takes {sorted(allowed)}."
                                    f"{_suggest(str(sub), allowed)}")
        problems.extend(_unknown_keys(value, (key,)))
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ConfigError(f"{problems[0]}{more}")


def to_plain(node: Any) -> Any:
    """ConfigDict/list tree -> plain dict/list tree (for comparisons and printing)."""
    if isinstance(node, (dict, ConfigDict)):
        return {k: to_plain(v) for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        return type(node)(to_plain(v) for v in node)
    return node
