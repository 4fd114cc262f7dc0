"""Checks a config before anything is built: a missing config or ``_base_`` file, unknown
``--cfg-options`` keys, unknown ``type`` names and keys, and values of the wrong type or out of range.

These mistakes would otherwise surface late (after minutes of model building or data
scanning) or never (mmengine silently adds a misspelt key, and the class default is used).
"""

import difflib
import inspect
import os.path as osp
import typing
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
    "allow_random_backbone",
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


# ---------------------------------------------------------------------------------------
# reading the file
# ---------------------------------------------------------------------------------------
def read_config_file(path: str) -> Config:
    """``Config.fromfile`` with one-line errors: a missing config or ``_base_`` file, or a
    config that is not valid Python, is a :class:`ConfigError` naming the file."""
    if not osp.isfile(path):
        raise ConfigError(f"config file not found: {path}")
    try:
        return Config.fromfile(path)
    except FileNotFoundError as err:
        missing = err.filename or str(err)
        raise ConfigError(f"{path}: a _base_ file does not exist: {missing}") from None
    except SyntaxError as err:
        raise ConfigError(f"{err.filename or path}, line {err.lineno}: invalid Python in the config: {err.msg}") from None


# ---------------------------------------------------------------------------------------
# value types and ranges
# ---------------------------------------------------------------------------------------
_NUMBER_TYPES = (int, float)
# Keys of untyped runner dicts whose values must be whole numbers.
_UNTYPED_INT_KEYS: Dict[str, Set[str]] = {
    "train_cfg": {"max_epochs", "max_iters", "val_begin", "val_interval"},
    "train_dataloader": {"batch_size", "num_workers"},
    "val_dataloader": {"batch_size", "num_workers"},
    "test_dataloader": {"batch_size", "num_workers"},
}
# (key name, smallest value) checked wherever the key appears in a dict of these kinds.
_AT_LEAST_ONE = ("num_classes", "batch_size", "num_frames", "max_epochs", "clip_len", "num_clips")


def _expected_type(annotation: Any) -> Optional[type]:
    """``int``/``float``/``bool`` for such an annotation (or ``Optional`` of one), else None."""
    if annotation in (int, float, bool):
        return annotation
    if typing.get_origin(annotation) is typing.Union:
        inner = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(inner) == 1 and inner[0] in (int, float, bool):
            return inner[0]
    return None


def _value_problem(value: Any, expected: Optional[type]) -> Optional[str]:
    """What is wrong with ``value`` for a parameter of type ``expected`` (None when fine).

    Numbers must be numbers (an int where a float is expected, and a float where an int is
    annotated, are let through: mmengine's schedulers take fractional epochs) and bools bools."""
    if expected is None or value is None:
        return None
    if expected is bool:
        return None if isinstance(value, bool) else "a bool (True/False)"
    if expected in (int, float):
        ok = isinstance(value, _NUMBER_TYPES) and not isinstance(value, bool)
        return None if ok else ("an int" if expected is int else "a number")
    return None


def _parameter_types(obj: Any) -> Dict[str, Optional[type]]:
    """``{argument: int/float/bool/str or None}`` from the annotations of a class or function."""
    target = obj.__init__ if isinstance(obj, type) else obj
    try:
        hints = typing.get_type_hints(target)
    except Exception:  # noqa: BLE001 - unresolvable annotations: nothing to check
        return {}
    return {name: _expected_type(hint) for name, hint in hints.items() if name != "return"}


def _type_problems(root: Dict[str, Any], skip: Set[str]) -> Iterator[str]:
    for key, value in root.items():
        if key in skip:
            continue
        if key in _UNTYPED_INT_KEYS and isinstance(value, dict):
            for sub in _UNTYPED_INT_KEYS[key] & set(value):
                given = value[sub]
                if given is not None and (not isinstance(given, int) or isinstance(given, bool)):
                    yield f"{key}.{sub}={given!r}: expected an int"
        for where, typed, type_name in _typed_dicts(value, (key,)):
            obj = lookup_type(type_name)
            if obj is None:
                continue
            types = _parameter_types(obj)
            for arg, given in typed.items():
                problem = _value_problem(given, types.get(arg))
                if problem:
                    yield f"{_fmt(where + (arg,))}={given!r}: expected {problem} ({type_name}.{arg})"


def _range_problems(node: Any, path: Tuple) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _AT_LEAST_ONE and isinstance(value, _NUMBER_TYPES) and not isinstance(value, bool) and value < 1:
                yield f"{_fmt(path + (key,))}={value!r}: expected >= 1"
            yield from _range_problems(value, path + (key,))
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            yield from _range_problems(value, path + (i,))


def check_config_values(cfg: Config, skip_top_level: Iterable[str] = ()) -> None:
    """Checks the values written in the config: an argument annotated ``int``/``float``/``bool``
    (or ``Optional`` of one) gets a value of that kind, the loops' and loaders' counts are
    ints, and ``num_classes``, ``batch_size``, ``num_frames``, ``max_epochs``, ``clip_len`` and
    ``num_clips`` are >= 1 wherever they appear.

    Raises:
        ConfigError: one line naming the key, the value and what was expected.
    """
    root = cfg._cfg_dict if isinstance(cfg, Config) else cfg
    skip = set(skip_top_level)
    for problem in _type_problems(root, skip):
        raise ConfigError(problem)
    for key, value in root.items():
        if key not in skip:
            for problem in _range_problems(value, (key,)):
                raise ConfigError(problem)
    for problem in _normalize_problems(root, skip):
        raise ConfigError(problem)


def _normalize_problems(root: Dict[str, Any], skip: Set[str]) -> Iterator[str]:
    """A pipeline ``Normalize`` (which leaves the frames as they are) whose mean/std differ from
    those of the model's data preprocessor (which normalises): the frames would be normalised
    with other values than the config says."""
    model = root.get("model")
    preproc = model.get("data_preprocessor") if isinstance(model, dict) else None
    if not isinstance(preproc, dict):
        return
    for key, value in root.items():
        if key in skip:
            continue
        for where, typed, type_name in _typed_dicts(value, (key,)):
            if type_name != "Normalize":
                continue
            for stat in ("mean", "std"):
                want, have = typed.get(stat), preproc.get(stat)
                if want is not None and (have is None or [float(v) for v in want] != [float(v) for v in have]):
                    yield (f"{_fmt(where)}.{stat}={list(want)} but model.data_preprocessor.{stat}={have}: the "
                           "preprocessor normalises (the pipeline step does not); give it the same values")


def check_option_values(cfg: Config, options: Dict[str, Any]) -> None:
    """Checks each ``--cfg-options`` value against the value it replaces: a number (or bool)
    replaced by a string that is no number (``model.backbone.num_frames=abc``) is refused.

    Raises:
        ConfigError: ``--cfg-options KEY=VALUE: expected ...`` (before anything is built).
    """
    root = cfg._cfg_dict if isinstance(cfg, Config) else cfg
    for full_key, value in options.items():
        node: Any = root
        for part in full_key.split("."):
            if isinstance(node, (list, tuple)) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            elif isinstance(node, dict) and part in node:
                node = node[part]
            else:
                node = None
                break
        if node is None or not isinstance(value, str):
            continue
        if isinstance(node, bool):
            raise ConfigError(f"--cfg-options {full_key}={value!r}: expected a bool (True/False), the config has {node!r}")
        if isinstance(node, _NUMBER_TYPES):
            kind = "an int" if isinstance(node, int) else "a number"
            raise ConfigError(f"--cfg-options {full_key}={value!r}: expected {kind}, the config has {node!r}")


# ---------------------------------------------------------------------------------------
# frozen image weights
# ---------------------------------------------------------------------------------------
ALLOW_RANDOM_BACKBONE_KEY = "allow_random_backbone"
_FROZEN_TUNINGS = ("adapter", "linear_probe")


def _pretrained_init_cfg(node: Any) -> bool:
    init_cfg = node.get("init_cfg") if isinstance(node, dict) else None
    items = init_cfg if isinstance(init_cfg, (list, tuple)) else [init_cfg]
    return any(isinstance(i, dict) and i.get("type") == "Pretrained" and i.get("checkpoint") for i in items)


def check_weights_given(cfg: Config) -> None:
    """Refuses to train a backbone whose frozen image weights are never loaded.

    With ``tuning='adapter'`` or ``'linear_probe'`` the image weights are frozen, so they must
    come from somewhere: ``model.backbone.pretrained``, ``load_from`` (or resume), or an
    ``init_cfg=dict(type='Pretrained', ...)`` on the model or the backbone. A config that
    really means random frozen weights (tiny demos, tests) says ``allow_random_backbone = True``.

    Raises:
        ConfigError: one line saying how to give the weights.
    """
    if cfg.get(ALLOW_RANDOM_BACKBONE_KEY):
        return
    model = cfg.get("model")
    backbone = model.get("backbone") if isinstance(model, dict) else None
    if not isinstance(backbone, dict):
        return
    kind = lookup_type(backbone["type"]) if isinstance(backbone.get("type"), str) else None
    accepted = _accepted_along_mro(kind) if kind is not None else None
    if accepted is None or "tuning" not in accepted:
        return
    tuning = backbone.get("tuning", inspect.signature(kind).parameters["tuning"].default)
    if tuning not in _FROZEN_TUNINGS:
        return
    if backbone.get("pretrained") or cfg.get("load_from") or _pretrained_init_cfg(model) or _pretrained_init_cfg(backbone):
        return
    raise ConfigError(
        f"model.backbone.pretrained=None with tuning={tuning!r}: the frozen image weights would stay random; give "
        "them with --cfg-options model.backbone.pretrained=openaiclip (or a weights file path), or load_from=FILE "
        f"(set {ALLOW_RANDOM_BACKBONE_KEY}=True in the config to train on random frozen weights on purpose)"
    )
