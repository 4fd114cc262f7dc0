"""Translates 0.x-style (mmcv / MMAction2 0.x / original AIM) configs into mmengine 1.x keys.

Users still write, or copy from the original AIM repository, configs such as::

    data = dict(videos_per_gpu=8, workers_per_gpu=4, val_dataloader=dict(videos_per_gpu=1),
                train=dict(type='VideoDataset', ann_file=..., data_prefix=..., pipeline=...),
                val=dict(...), test=dict(...))
    evaluation = dict(interval=5, metrics=['top_k_accuracy', 'mean_class_accuracy'])
    optimizer = dict(type='AdamW', lr=3e-4, betas=(0.9, 0.999), weight_decay=0.05,
                     paramwise_cfg=dict(custom_keys={...}))
    optimizer_config = dict(grad_clip=None, update_interval=1, use_fp16=True)
    lr_config = dict(policy='CosineAnnealing', min_lr=0, warmup='linear',
                     warmup_by_epoch=True, warmup_iters=2.5)
    total_epochs = 30
    checkpoint_config = dict(interval=1)
    log_config = dict(interval=20, hooks=[dict(type='TextLoggerHook')])
    fp16 = None

:func:`convert_legacy_config` is the one place where they become ``train_dataloader``,
``train_cfg``, ``optim_wrapper``, ``param_scheduler``, ``default_hooks`` ... Values given in
0.x keys win over 1.x keys of the same meaning (they are what the user wrote last, e.g. with
``--cfg-options total_epochs=2``). Every translation is listed in the returned notes.
"""

import copy
from typing import Any, Dict, List, Tuple

from mmengine.config import Config

from .config_check import LEGACY_TOP_LEVEL_KEYS, ConfigError, to_plain
from .defaults import BEST_METRIC, default_runtime

# 0.x pipeline steps that 1.x replaces: Collect + ToTensor become PackActionInputs. Normalize
# stays (it only records img_norm_cfg, used by RandomErasing, and can swap to BGR; frames stay
# uint8) and its mean/std also go to the model's data preprocessor, which normalises.
_DROPPED_STEPS = ("ToTensor", "ImageToTensor")
_PACK_STEP = "PackActionInputs"
_EVAL_METRIC_KEYS = {"top_k_accuracy": "acc/top1", "mean_class_accuracy": "acc/mean1"}
_SAVE_BEST_ALIASES = {"auto": BEST_METRIC, "top1_acc": "acc/top1", "top_k_accuracy": "acc/top1",
                      "mean_class_accuracy": "acc/mean1", "top5_acc": "acc/top5"}


def is_legacy_config(cfg: Config) -> bool:
    """True when the config holds any 0.x-only top-level key (``data``, ``total_epochs`` ...)."""
    return any(key in cfg for key in LEGACY_TOP_LEVEL_KEYS)


def _pipeline_from_legacy(pipeline: list, info: Dict[str, Any]) -> list:
    """A 0.x pipeline -> the 1.x one (``Collect``/``ToTensor`` -> ``PackActionInputs``); records
    the ``Normalize`` step and the ``FormatShape`` format found in ``info``."""
    new_pipeline = []
    packed = False
    for step in pipeline:
        kind = step.get("type") if isinstance(step, dict) else None
        if kind == "Normalize":
            info["normalize"] = step
        if kind in _DROPPED_STEPS:
            continue
        if kind == "Collect":
            if not packed:
                new_pipeline.append(dict(type=_PACK_STEP))
                packed = True
            continue
        if kind == "FormatShape":
            info["format_shape"] = step.get("input_format", "NCTHW")
        if kind == _PACK_STEP:
            packed = True
        new_pipeline.append(step)
    if not packed:
        new_pipeline.append(dict(type=_PACK_STEP))
    return new_pipeline


def _dataset_from_legacy(ds: dict, split: str, notes: List[str]) -> Tuple[dict, dict]:
    """A 0.x dataset dict -> (1.x dataset dict, info about Normalize/FormatShape found)."""
    ds = copy.deepcopy(to_plain(ds))
    info: Dict[str, Any] = {}
    prefix = ds.get("data_prefix")
    if isinstance(prefix, str):
        key = "img" if "Rawframe" in str(ds.get("type", "")) else "video"
        ds["data_prefix"] = {key: prefix}
        notes.append(f"data.{split}.data_prefix='{prefix}' -> data_prefix=dict({key}=...)")
    pipeline = ds.get("pipeline")
    if isinstance(pipeline, list):
        new_pipeline = _pipeline_from_legacy(pipeline, info)
        if new_pipeline != pipeline:
            notes.append(f"data.{split}.pipeline: Collect/ToTensor -> {_PACK_STEP}")
        ds["pipeline"] = new_pipeline
    return ds, info


def _convert_pipeline_variables(cfg: dict, notes: List[str]) -> None:
    """The top-level ``train_pipeline``/``val_pipeline``/``test_pipeline`` variables of a 0.x
    config (which :func:`mmaction.apis.init_recognizer` reads) get the same translation."""
    for name in ("train_pipeline", "val_pipeline", "test_pipeline"):
        pipeline = cfg.get(name)
        if not isinstance(pipeline, list):
            continue
        kinds = {step.get("type") for step in pipeline if isinstance(step, dict)}
        if kinds & (set(_DROPPED_STEPS) | {"Collect"}):
            cfg[name] = _pipeline_from_legacy(to_plain(pipeline), {})
            notes.append(f"{name}: Collect/ToTensor -> {_PACK_STEP}")


def _convert_data(cfg: dict, notes: List[str]) -> Dict[str, Any]:
    data = to_plain(cfg.pop("data"))
    found: Dict[str, Any] = {}
    default_bs = data.get("videos_per_gpu", 1)
    default_workers = data.get("workers_per_gpu", 2)
    for split in ("train", "val", "test"):
        if split not in data:
            continue
        per_split = data.get(f"{split}_dataloader", {}) or {}
        workers = per_split.get("workers_per_gpu", default_workers)
        loader = dict(
            batch_size=per_split.get("videos_per_gpu", default_bs),
            num_workers=workers,
            persistent_workers=bool(data.get("persistent_workers", False)) and workers > 0,
            pin_memory=bool(data.get("pin_memory", False)),
            sampler=dict(type="DefaultSampler", shuffle=split == "train"),
        )
        dataset, info = _dataset_from_legacy(data[split], split, notes)
        if split != "train":
            dataset.setdefault("test_mode", True)
        loader["dataset"] = dataset
        key = f"{split}_dataloader"
        existing = to_plain(cfg.get(key) or {})
        existing.update(loader)
        cfg[key] = existing
        notes.append(f"data.{split} (+videos_per_gpu/workers_per_gpu) -> {key}")
        if split == "train" or not found:
            found.update(info)
    return found


def _convert_model(cfg: dict, pipeline_info: Dict[str, Any], notes: List[str]) -> None:
    model = cfg.get("model")
    if not isinstance(model, dict):
        return
    top_test = cfg.get("test_cfg")
    if isinstance(top_test, dict) and ({"average_clips", "max_testing_views"} & set(top_test)):
        merged = dict(to_plain(model.get("test_cfg") or {}))
        merged.update(to_plain(top_test))
        model["test_cfg"] = merged
        cfg["test_cfg"] = dict(type="TestLoop")
        notes.append("top-level test_cfg (average_clips/max_testing_views) -> model.test_cfg")
    top_train = cfg.get("train_cfg", "absent")
    if top_train is None or (isinstance(top_train, dict) and "blending" in top_train):
        if isinstance(top_train, dict):
            model["train_cfg"] = to_plain(top_train)
        cfg.pop("train_cfg")
    train_cfg = model.get("train_cfg")
    blending = train_cfg.get("blending") if isinstance(train_cfg, dict) else None
    preproc = model.get("data_preprocessor")
    if preproc is None and (pipeline_info or blending):
        preproc = dict(type="ActionDataPreprocessor", format_shape=pipeline_info.get("format_shape", "NCTHW"))
        norm = pipeline_info.get("normalize")
        if norm is not None:
            preproc["mean"] = list(norm["mean"])
            preproc["std"] = list(norm["std"])
        model["data_preprocessor"] = preproc
        notes.append("mean/std of Normalize, FormatShape of the pipeline -> model.data_preprocessor")
    if isinstance(blending, dict) and blending.get("type") == "LabelSmoothing":
        _label_smoothing_to_head(model, to_plain(blending), notes)
        del train_cfg["blending"]
    elif blending is not None:
        model["data_preprocessor"]["blending"] = to_plain(blending)
        del train_cfg["blending"]
        notes.append("model.train_cfg.blending -> model.data_preprocessor.blending")
    if isinstance(train_cfg, dict) and not train_cfg:
        del model["train_cfg"]


def _label_smoothing_to_head(model: dict, blending: dict, notes: List[str]) -> None:
    """0.x ``blending=dict(type='LabelSmoothing', num_classes=K, smoothing=eps)`` -> the head's
    ``label_smooth_eps=eps``: both train on ``(1 - eps) * one_hot + eps / K``."""
    head = model.get("cls_head")
    if not isinstance(head, dict):
        raise ConfigError("model.train_cfg.blending: LabelSmoothing needs a model.cls_head to carry label_smooth_eps")
    head_classes = head.get("num_classes")
    if blending.get("num_classes") is not None and head_classes is not None and blending["num_classes"] != head_classes:
        raise ConfigError(
            f"model.train_cfg.blending.num_classes={blending['num_classes']} differs from "
            f"model.cls_head.num_classes={head_classes}"
        )
    eps = float(blending.get("smoothing", 0.0))
    head["label_smooth_eps"] = eps
    notes.append(f"model.train_cfg.blending LabelSmoothing(smoothing={eps}) -> model.cls_head.label_smooth_eps={eps}")


def _convert_optimizer(cfg: dict, notes: List[str]) -> None:
    wrapper = to_plain(cfg.get("optim_wrapper") or {})
    if "optimizer" in cfg:
        opt = to_plain(cfg.pop("optimizer"))
        paramwise = opt.pop("paramwise_cfg", None)
        if opt.pop("constructor", None) not in (None, "DefaultOptimizerConstructor"):
            notes.append("optimizer.constructor dropped (not supported); TunableParamsOptimWrapperConstructor is used")
        if "type" in opt:
            wrapper["optimizer"] = opt
        else:  # e.g. --cfg-options optimizer.lr=... on a 1.x config
            wrapper.setdefault("optimizer", {}).update(opt)
        if paramwise is not None:
            wrapper["paramwise_cfg"] = paramwise
        notes.append("optimizer -> optim_wrapper.optimizer (+ paramwise_cfg)")
    oc = cfg.pop("optimizer_config", None)
    if oc is not None:
        oc = to_plain(oc)
        if oc.get("grad_clip"):
            wrapper["clip_grad"] = dict(oc["grad_clip"])
        if oc.get("update_interval", 1) != 1:
            wrapper["accumulative_counts"] = int(oc["update_interval"])
        if oc.get("cumulative_iters", 1) != 1:
            wrapper["accumulative_counts"] = int(oc["cumulative_iters"])
        if oc.get("use_fp16"):
            wrapper["type"] = "MixedPrecisionOptimWrapper"
            wrapper["dtype"] = "float16"
        notes.append("optimizer_config (grad_clip, update_interval, use_fp16) -> optim_wrapper")
    fp16 = cfg.pop("fp16", None)
    if fp16 is not None:
        wrapper["type"] = "MixedPrecisionOptimWrapper"
        wrapper["dtype"] = "float16"
        scale = to_plain(fp16).get("loss_scale", "dynamic")
        wrapper["loss_scale"] = scale
        notes.append("fp16 -> optim_wrapper MixedPrecisionOptimWrapper(dtype='float16')")
    if wrapper:
        wrapper.setdefault("type", "SafeOptimWrapper")
        wrapper.setdefault("constructor", "TunableParamsOptimWrapperConstructor")
        cfg["optim_wrapper"] = wrapper


def _convert_schedule(cfg: dict, notes: List[str]) -> None:
    total_epochs = cfg.pop("total_epochs", None)
    evaluation = to_plain(cfg.pop("evaluation", None) or {})
    if total_epochs is not None:
        train_cfg = to_plain(cfg.get("train_cfg") or {})
        train_cfg.update(type="EpochBasedTrainLoop", max_epochs=int(total_epochs))
        train_cfg.pop("by_epoch", None)
        cfg["train_cfg"] = train_cfg
        notes.append(f"total_epochs={total_epochs} -> train_cfg.max_epochs")
    if evaluation:
        if "interval" in evaluation and isinstance(cfg.get("train_cfg"), dict):
            cfg["train_cfg"]["val_interval"] = int(evaluation["interval"])
        metrics = evaluation.get("metrics", evaluation.get("metric"))
        if metrics is not None:
            metrics = [metrics] if isinstance(metrics, str) else list(metrics)
            acc = [m for m in metrics if m in _EVAL_METRIC_KEYS]
            if len(acc) != len(metrics):
                raise ConfigError(
                    f"evaluation.metrics: {sorted(set(metrics) - set(acc))} not supported; use {sorted(_EVAL_METRIC_KEYS)}"
                )
            metric = dict(type="AccMetric", metric_list=acc)
            if "metric_options" in evaluation:
                metric["metric_options"] = evaluation["metric_options"]
            cfg["val_evaluator"] = metric
        if "save_best" in evaluation and evaluation["save_best"]:
            key = _SAVE_BEST_ALIASES.get(evaluation["save_best"], evaluation["save_best"])
            hooks = cfg.setdefault("default_hooks", {})
            hooks.setdefault("checkpoint", dict(type="AtomicCheckpointHook"))
            hooks["checkpoint"]["save_best"] = key
            if evaluation.get("rule"):
                hooks["checkpoint"]["rule"] = evaluation["rule"]
        notes.append("evaluation (interval, metrics, save_best) -> train_cfg.val_interval, val_evaluator")
    for split in ("val", "test"):
        if f"{split}_dataloader" in cfg:
            cfg.setdefault(f"{split}_evaluator", dict(type="AccMetric"))
            if not isinstance(cfg.get(f"{split}_cfg"), dict) or not cfg.get(f"{split}_cfg"):
                cfg[f"{split}_cfg"] = dict(type="ValLoop" if split == "val" else "TestLoop")

    lr = cfg.pop("lr_config", None)
    if cfg.pop("momentum_config", None) is not None:
        notes.append("momentum_config dropped (not supported)")
    if lr is None:
        return
    lr = to_plain(lr)
    max_epochs = (cfg.get("train_cfg") or {}).get("max_epochs")
    by_epoch = lr.get("by_epoch", True)
    schedulers: List[dict] = []
    warmup = lr.get("warmup")
    if warmup is not None:
        ratio = float(lr.get("warmup_ratio", 0.1))
        length = lr.get("warmup_iters", 0)
        warm_by_epoch = bool(lr.get("warmup_by_epoch", False))
        common = dict(begin=0, end=length, by_epoch=warm_by_epoch)
        if warm_by_epoch:
            common["convert_to_iter_based"] = True
        if warmup == "linear":
            schedulers.append(dict(type="LinearLR", start_factor=ratio, end_factor=1.0, **common))
        elif warmup == "constant":
            schedulers.append(dict(type="ConstantLR", factor=ratio, **common))
        else:
            raise ConfigError(f"lr_config.warmup={warmup!r} not supported; use 'linear' or 'constant'")
    policy = str(lr.get("policy", "fixed")).lower()
    if policy in ("cosineannealing", "cosine"):
        if max_epochs is None:
            raise ConfigError("lr_config.policy='CosineAnnealing' needs total_epochs (train_cfg.max_epochs)")
        eta_min = lr.get("min_lr")
        if eta_min is None:
            eta_min_ratio = lr.get("min_lr_ratio", 0.0)
            sched = dict(type="CosineAnnealingLR", eta_min_ratio=eta_min_ratio)
        else:
            sched = dict(type="CosineAnnealingLR", eta_min=eta_min)
        # Like mmcv, the cosine spans the whole run and the warm-up factor multiplies it.
        sched.update(T_max=max_epochs, begin=0, end=max_epochs, by_epoch=True, convert_to_iter_based=True)
        schedulers.append(sched)
    elif policy == "step":
        steps = lr.get("step")
        steps = [steps] if isinstance(steps, int) else list(steps)
        schedulers.append(dict(type="MultiStepLR", milestones=steps, gamma=lr.get("gamma", 0.1), by_epoch=by_epoch))
    elif policy != "fixed":
        raise ConfigError(f"lr_config.policy={lr.get('policy')!r} not supported; use 'CosineAnnealing', 'step' or 'fixed'")
    cfg["param_scheduler"] = schedulers
    notes.append(f"lr_config (policy={lr.get('policy')}, warmup={warmup}) -> param_scheduler")


def _convert_runtime(cfg: dict, notes: List[str]) -> None:
    hooks = cfg.setdefault("default_hooks", {})
    ckpt_cfg = cfg.pop("checkpoint_config", None)
    if ckpt_cfg is not None:
        hooks.setdefault("checkpoint", dict(type="AtomicCheckpointHook"))
        hooks["checkpoint"].update({k: v for k, v in to_plain(ckpt_cfg).items() if k not in ("create_symlink",)})
        notes.append("checkpoint_config -> default_hooks.checkpoint")
    log_cfg = cfg.pop("log_config", None)
    if log_cfg is not None:
        log_cfg = to_plain(log_cfg)
        if "interval" in log_cfg:
            hooks.setdefault("logger", dict(type="LoggerHook"))
            hooks["logger"]["interval"] = int(log_cfg["interval"])
        kinds = [h.get("type") for h in log_cfg.get("hooks", [])]
        backends = [dict(type="LocalVisBackend")]
        if "TensorboardLoggerHook" in kinds:
            backends.append(dict(type="TensorboardVisBackend"))
        cfg["visualizer"] = dict(type="Visualizer", vis_backends=backends)
        notes.append("log_config -> default_hooks.logger.interval, visualizer.vis_backends")
    dist_params = cfg.pop("dist_params", None)
    if dist_params is not None:
        cfg.setdefault("env_cfg", {})
        cfg["env_cfg"].setdefault("dist_cfg", {})
        cfg["env_cfg"]["dist_cfg"].update(to_plain(dist_params))
        notes.append("dist_params -> env_cfg.dist_cfg")
    resume_from = cfg.pop("resume_from", None)
    if resume_from:
        cfg["load_from"] = resume_from
        cfg["resume"] = True
        notes.append("resume_from -> load_from + resume=True")
    if cfg.pop("omnisource", False):
        raise ConfigError("omnisource=True is not supported")
    for key in ("workflow", "gpu_ids", "eval_config", "module_hooks", "opencv_num_threads", "mp_start_method"):
        if key in cfg:
            cfg.pop(key)
            notes.append(f"{key} dropped (no 1.x meaning)")


def _fill_runtime_defaults(cfg: dict) -> None:
    for key, value in default_runtime().items():
        if key == "default_hooks":
            hooks = cfg.setdefault("default_hooks", {})
            for name, hook in value.items():
                if name in hooks:
                    merged = dict(hook)
                    merged.update(to_plain(hooks[name]))
                    hooks[name] = merged
                else:
                    hooks[name] = hook
        elif key not in cfg:
            cfg[key] = value


def convert_legacy_config(cfg: Config) -> Tuple[Config, List[str]]:
    """Returns a 1.x version of a 0.x-style config and the list of translations made.

    A config without 0.x keys is returned unchanged (a copy) with an empty list.

    Raises:
        ConfigError: for 0.x settings that have no 1.x equivalent here (naming the key).
    """
    notes: List[str] = []
    if not is_legacy_config(cfg):
        return copy.deepcopy(cfg), notes
    # Work on plain dicts: values stored into a ConfigDict are copied, so in-place edits of a
    # nested value fetched from it would be lost.
    plain: Dict[str, Any] = to_plain(cfg._cfg_dict)
    pipeline_info: Dict[str, Any] = {}
    if "data" in plain:
        pipeline_info = _convert_data(plain, notes)
    _convert_pipeline_variables(plain, notes)
    _convert_model(plain, pipeline_info, notes)
    _convert_optimizer(plain, notes)
    _convert_schedule(plain, notes)
    _convert_runtime(plain, notes)
    _fill_runtime_defaults(plain)
    return Config(plain, filename=cfg.filename), notes

