"""Final touches on a (translated) config before the Runner is built.

- mmengine's optim wrappers, constructor and checkpoint hook are swapped for ours, which take
  the same arguments and add: NaN/inf-safe updates, mixed precision that also runs on CPU,
  frozen weights left out of the optimizer, atomic checkpoint files;
- ``RNGStateHook`` and ``ScheduleResumeHook`` are added when missing (exact resume);
- ``--amp`` is applied;
- the distributed backend ``'auto'`` is resolved, and DDP on CPU gets ``device_ids=None``;
- when ``train_cfg.max_epochs`` changed (``--cfg-options`` / ``total_epochs``), schedulers that
  ended at the old last epoch are stretched to the new one.
"""

import logging
from typing import List, Optional

import torch
from mmengine.config import Config
from mmengine.logging import print_log

from .config_check import ConfigError
from .distributed import resolve_backend

AMP_CHOICES = ("none", "auto", "bf16", "bfloat16", "fp16", "float16")
_AMP_ONLY_KEYS = ("dtype", "loss_scale", "device_type", "use_fsdp")


def _note(notes: List[str], message: str) -> None:
    notes.append(message)


def upgrade_engine_types(cfg: Config) -> List[str]:
    """Swaps mmengine's OptimWrapper/AmpOptimWrapper, default constructor and CheckpointHook
    for ours, and adds RNGStateHook and ScheduleResumeHook. Returns one note per change."""
    notes: List[str] = []
    wrapper = cfg.get("optim_wrapper")
    if isinstance(wrapper, dict):
        kind = wrapper.get("type", "OptimWrapper")
        if kind == "AmpOptimWrapper" and not wrapper.get("use_fsdp", False):
            wrapper["type"] = "MixedPrecisionOptimWrapper"
            wrapper.pop("use_fsdp", None)
            _note(notes, "optim_wrapper.type AmpOptimWrapper -> MixedPrecisionOptimWrapper (also runs on CPU)")
        elif kind in ("OptimWrapper", "SafeOptimWrapper"):
            if kind == "OptimWrapper":
                _note(notes, "optim_wrapper.type OptimWrapper -> SafeOptimWrapper (skips steps with NaN/inf gradients)")
            wrapper["type"] = "SafeOptimWrapper"
            dropped = [k for k in _AMP_ONLY_KEYS if k in wrapper]
            for key in dropped:
                wrapper.pop(key)
            if dropped:
                _note(notes, f"optim_wrapper {kind}: mixed-precision keys {dropped} dropped (full precision)")
        constructor = wrapper.get("constructor", "DefaultOptimWrapperConstructor")
        if constructor == "DefaultOptimWrapperConstructor":
            wrapper["constructor"] = "TunableParamsOptimWrapperConstructor"
            _note(notes, "optim_wrapper.constructor DefaultOptimWrapperConstructor -> "
                  "TunableParamsOptimWrapperConstructor (frozen weights left out of the optimizer)")
    hooks = cfg.get("default_hooks")
    if isinstance(hooks, dict) and isinstance(hooks.get("checkpoint"), dict):
        if hooks["checkpoint"].get("type") in ("CheckpointHook", "mmengine.CheckpointHook"):
            hooks["checkpoint"]["type"] = "AtomicCheckpointHook"
            _note(notes, "default_hooks.checkpoint CheckpointHook -> AtomicCheckpointHook (atomic writes)")
    if cfg.get("train_cfg"):
        custom = list(cfg.get("custom_hooks") or [])
        purposes = {
            "RNGStateHook": "random generator states in checkpoints, for exact resume",
            "ScheduleResumeHook": "epoch-based schedules re-derived when a resume changes the epoch length",
        }
        for hook_type, purpose in purposes.items():
            if not any(isinstance(h, dict) and h.get("type") == hook_type for h in custom):
                custom.append(dict(type=hook_type))
                cfg["custom_hooks"] = custom
                _note(notes, f"custom_hooks += {hook_type} ({purpose})")
    return notes


def apply_amp(cfg: Config, amp: Optional[str]) -> Optional[str]:
    """Applies ``--amp``: ``'none'`` (full precision), ``'bf16'``, ``'fp16'`` or ``'auto'``
    (bf16 where supported, else fp16). Returns a note, or None when ``amp`` is None."""
    if amp is None:
        return None
    amp = amp.lower()
    if amp not in AMP_CHOICES:
        raise ConfigError(f"--amp {amp!r}: use one of {AMP_CHOICES}")
    wrapper = cfg.get("optim_wrapper")
    if not isinstance(wrapper, dict):
        raise ConfigError("--amp needs an optim_wrapper in the config")
    if amp == "none":
        wrapper["type"] = "SafeOptimWrapper"
        for key in _AMP_ONLY_KEYS:
            wrapper.pop(key, None)
        return "--amp none: full precision (SafeOptimWrapper)"
    if amp == "auto":
        amp = "fp16" if torch.cuda.is_available() and not torch.cuda.is_bf16_supported() else "bf16"
    dtype = "bfloat16" if amp in ("bf16", "bfloat16") else "float16"
    wrapper["type"] = "MixedPrecisionOptimWrapper"
    wrapper["dtype"] = dtype
    wrapper.pop("use_fsdp", None)
    return f"--amp: MixedPrecisionOptimWrapper(dtype={dtype!r})"


def configure_distributed(cfg: Config, launcher: str) -> List[str]:
    """Sets ``launcher``, resolves ``env_cfg.dist_cfg.backend`` and makes DDP usable on CPU
    (``device_ids=None``). Returns one note per change."""
    notes: List[str] = []
    if cfg.get("launcher", "none") != launcher:
        _note(notes, f"launcher={launcher!r} (from the command line)")
    cfg["launcher"] = launcher
    env = cfg.get("env_cfg")
    if not isinstance(env, dict):
        cfg["env_cfg"] = dict(dist_cfg=dict(backend="auto"))
        env = cfg["env_cfg"]
    if not isinstance(env.get("dist_cfg"), dict):
        env["dist_cfg"] = dict(backend="auto")
    if launcher == "none":  # no process group: the backend is not used
        return notes
    given = env["dist_cfg"].get("backend", "auto")
    env["dist_cfg"]["backend"] = resolve_backend(given)
    if env["dist_cfg"]["backend"] != given:
        _note(notes, f"env_cfg.dist_cfg.backend {given!r} -> {env['dist_cfg']['backend']!r}")
    if torch.cuda.is_available():
        return notes
    wrapper = cfg.get("model_wrapper_cfg")
    if isinstance(wrapper, dict):
        if "device_ids" not in wrapper:
            wrapper["device_ids"] = None
            _note(notes, "model_wrapper_cfg.device_ids=None (DDP on CPU)")
    else:
        cfg["model_wrapper_cfg"] = dict(
            type="MMDistributedDataParallel",
            device_ids=None,
            broadcast_buffers=False,
            find_unused_parameters=bool(cfg.get("find_unused_parameters", False)),
        )
        _note(notes, "model_wrapper_cfg=MMDistributedDataParallel(device_ids=None, broadcast_buffers=False) (DDP on CPU)")
    return notes


def unpin_memory_without_gpu(cfg: Config) -> List[str]:
    """Without a GPU, ``pin_memory=True`` in a dataloader does nothing but warn on every run:
    it is set to False. Returns one note per loader changed."""
    if torch.cuda.is_available():
        return []
    notes: List[str] = []
    for key in ("train_dataloader", "val_dataloader", "test_dataloader"):
        loader = cfg.get(key)
        if isinstance(loader, dict) and loader.get("pin_memory"):
            loader["pin_memory"] = False
            _note(notes, f"{key}.pin_memory True -> False (no GPU)")
    return notes


def stretch_schedulers(cfg: Config, old_max_epochs: Optional[int], warn: bool = True) -> Optional[str]:
    """After ``train_cfg.max_epochs`` changed from ``old_max_epochs``, moves the ``end`` (and
    ``T_max`` when it spanned the same range) of every epoch-based scheduler that ended at the
    old last epoch to the new one. Returns a note, or None when nothing changed. With ``warn``,
    schedulers that end after the last epoch are warned about (once)."""
    train_cfg = cfg.get("train_cfg")
    schedulers = cfg.get("param_scheduler")
    if not isinstance(train_cfg, dict) or not schedulers:
        return None
    new_max = train_cfg.get("max_epochs")
    if old_max_epochs is None or new_max == old_max_epochs:
        if warn:
            _warn_late_schedulers(schedulers, new_max)
        return None
    if new_max is None:
        return None
    changed = []
    for sched in schedulers if isinstance(schedulers, list) else [schedulers]:
        if not isinstance(sched, dict) or not sched.get("by_epoch", True) or sched.get("end") != old_max_epochs:
            continue
        span = old_max_epochs - sched.get("begin", 0)
        sched["end"] = new_max
        if sched.get("T_max") == span:
            sched["T_max"] = new_max - sched.get("begin", 0)
        changed.append(sched.get("type"))
    if not changed:
        return None
    return f"train_cfg.max_epochs {old_max_epochs} -> {new_max}: schedulers {changed} now end at epoch {new_max}"


def _warn_late_schedulers(schedulers, max_epochs: Optional[int]) -> None:
    if max_epochs is None:
        return
    for i, sched in enumerate(schedulers if isinstance(schedulers, list) else [schedulers]):
        end = sched.get("end") if isinstance(sched, dict) else None
        if sched.get("by_epoch", True) and isinstance(end, (int, float)) and end > max_epochs:
            print_log(
                f"param_scheduler[{i}] ({sched.get('type')}) ends at epoch {end} but training stops at epoch "
                f"{max_epochs}: set its end/T_max too, or change max_epochs with --cfg-options "
                "train_cfg.max_epochs=N (which moves them)",
                logger="current",
                level=logging.WARNING,
            )


def log_notes(notes: List[str], title: str = "config change") -> None:
    """Logs the changes made to a config, one line each: ``config change: <note>``."""
    for note in notes:
        print_log(f"{title}: {note}", logger="current", level=logging.INFO)


def _dataset_dicts(node) -> List[dict]:
    """The dataset dicts of a dataloader's ``dataset`` entry, looking inside wrappers
    (``dataset=`` of RepeatDataset / ClassBalancedDataset, ``datasets=`` of ConcatDataset)."""
    if not isinstance(node, dict):
        return []
    found = [node]
    found += _dataset_dicts(node.get("dataset"))
    for inner in node.get("datasets") or []:
        found += _dataset_dicts(inner)
    return found


def share_num_classes(cfg: Config) -> Optional[str]:
    """Gives ``model.cls_head.num_classes`` to the list datasets that set neither ``num_classes``
    nor ``label_map``, so that a label outside ``[0, num_classes)`` is an error naming the list
    file and line when the dataset is built (before the first iteration), not an index error in
    the loss (or, on a GPU, a device-side assert) at the first batch that holds it. A dataset
    whose ``label_map`` (or ``num_classes``) names more classes than the head has is refused
    (``ConfigError`` naming both). Returns a note, or None when nothing changed."""
    from mmaction.datasets.base_action_dataset import BaseActionDataset, classes_beyond_head
    from mmaction.datasets.list_file import AnnotationError

    from .config_check import lookup_type

    model = cfg.get("model")
    head = model.get("cls_head") if isinstance(model, dict) else None
    num_classes = head.get("num_classes") if isinstance(head, dict) else None
    if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 1:
        return None
    changed = []
    for key in ("train_dataloader", "val_dataloader", "test_dataloader"):
        loader = cfg.get(key)
        if not isinstance(loader, dict):
            continue
        for ds in _dataset_dicts(loader.get("dataset")):
            kind = lookup_type(ds["type"]) if isinstance(ds.get("type"), str) else None
            if not (isinstance(kind, type) and issubclass(kind, BaseActionDataset)):
                continue
            if ds.get("num_classes") is None and ds.get("label_map") is None:
                ds["num_classes"] = num_classes
                changed.append(key)
            else:
                try:
                    problem = classes_beyond_head(ds, num_classes, f"{key}.dataset")
                except AnnotationError as exc:
                    raise ConfigError(f"{key}.dataset: {exc}") from None
                if problem:
                    raise ConfigError(problem)
    if not changed:
        return None
    return f"model.cls_head.num_classes={num_classes} -> dataset num_classes of {sorted(set(changed))} (labels checked)"
