"""Prepares what a config's ``demo_setup`` names: the synthetic dataset and the pre-trained image model.

A config (``configs/recognition/vit/vitclip_tiny_demo.py``) may carry::

    demo_setup = dict(
        data_root='data/demo',
        dataset=dict(size=48, frames=16, ...),           # mmaction.datasets.moving_shapes.DemoSpec
        pretrain=dict(out='data/demo/clip_tiny_pretrained.pth', epochs=8, batch_size=32, lr=1e-3, seed=0))

``tools/train.py`` and ``tools/test.py`` call :func:`prepare_demo` on rank 0 before they build
anything, so that the first run on a fresh machine needs no download and no extra command.
Both steps are skipped when their output exists and was made with the same settings (the
dataset's ``dataset_info.json`` holds its parameters; the weights' ``.json`` holds the recipe:
``pretrain`` settings, backbone size, normalisation and the dataset's content hash, so changing
any of them redoes the pre-training). Both write atomically (temporary file or folder, then
rename): an interrupted run leaves nothing that a later run would mistake for finished.
"""

import json
import time
from pathlib import Path
from typing import Any, Dict, List, Sequence

from mmaction.datasets.moving_shapes import DemoSpec, is_complete, make_demo_dataset
from mmaction.engine.runner.config_check import ConfigError

from .image_pretrain import arch_from_model_cfg, pretrain, val_scores_text

PRETRAIN_KEYS = ("epochs", "batch_size", "lr", "seed")


def _pretrain_is_current(out: Path, recipe: Dict[str, Any]) -> bool:
    """Whether ``out`` exists and its ``.json`` says it was made with exactly ``recipe``."""
    meta_path = out.with_suffix(".json")
    if not out.is_file() or not meta_path.is_file():
        return False
    try:
        meta = json.loads(meta_path.read_text())
    except json.JSONDecodeError:
        return False
    return meta.get("recipe") == recipe


def pretrain_recipe(pre: Dict[str, Any], arch: Dict[str, int], mean: Sequence[float], std: Sequence[float],
                    dataset_sha256: str) -> Dict[str, Any]:
    """What the pre-trained weights' ``.json`` records as ``recipe``: same recipe, same weights."""
    return dict(pre, arch=dict(arch), mean=[float(m) for m in mean], std=[float(s) for s in std],
                dataset_sha256=dataset_sha256)


def _check_recipe(pre: Dict[str, Any]) -> None:
    """Raises ConfigError for a ``demo_setup.pretrain`` value ``pretrain`` cannot use."""
    for key in ("epochs", "batch_size", "seed"):
        least = 0 if key == "seed" else 1
        value = pre.get(key, least)
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ConfigError(f"demo_setup.pretrain.{key} must be an integer >= {least}, got {value!r}")
    lr = pre.get("lr", 1e-3)
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not lr > 0:
        raise ConfigError(f"demo_setup.pretrain.lr must be a number > 0, got {lr!r}")


def prepare_demo(cfg: Any, with_pretrain: bool = True, log: bool = True) -> List[str]:
    """Creates the dataset and (optionally) the pre-trained image model that ``cfg.demo_setup`` asks for.

    Args:
        cfg: a loaded config (mmengine ``Config`` or dict) with ``demo_setup`` and ``model``.
        with_pretrain: also pre-train the image model (training needs it; testing a
            checkpoint does not).
        log: print progress (the pre-training prints its accuracy).

    Returns:
        notes of what was done (empty when everything was already in place).

    Raises:
        ConfigError: naming the ``demo_setup`` key at fault (tools print it as one line).
    """
    setup = cfg.get("demo_setup")
    if not setup:
        return []
    if "data_root" not in setup:
        raise ConfigError("demo_setup.data_root is missing")
    root = Path(setup["data_root"])
    try:
        spec = DemoSpec(**dict(setup.get("dataset") or {}))
    except (TypeError, ValueError) as err:
        raise ConfigError(f"demo_setup.dataset: {err}") from None
    pre = dict(setup.get("pretrain") or {}) if with_pretrain else {}
    if pre:  # checked before anything is written
        if "out" not in pre:
            raise ConfigError("demo_setup.pretrain.out is missing")
        unknown = sorted(set(pre) - set(PRETRAIN_KEYS) - {"out"})
        if unknown:
            raise ConfigError(f"demo_setup.pretrain: unknown keys {unknown} (known: out, {', '.join(PRETRAIN_KEYS)})")
        out = Path(pre.pop("out"))
        _check_recipe(pre)
        arch, mean, std = arch_from_model_cfg(cfg["model"], source="model")

    notes: List[str] = []
    before = (root / "dataset_info.json").read_text() if (root / "dataset_info.json").is_file() else None
    if log and not is_complete(root, spec):
        print(f"demo_setup: writing the demo dataset to {root} ({spec.num_train} + {spec.num_val} + {spec.num_test} "
              f"videos, {spec.num_images} + {spec.num_images // 5} images)", flush=True)
    start = time.time()
    info = make_demo_dataset(root, spec)
    if json.dumps(info, indent=2) + "\n" != before:
        notes.append(f"demo dataset written to {root} ({spec.num_train} train / {spec.num_val} val / "
                     f"{spec.num_test} test videos, content sha256 {info['content_sha256'][:12]}) "
                     f"in {time.time() - start:.1f} s")

    if pre:
        recipe = pretrain_recipe(pre, arch, mean, std, info["content_sha256"])
        if not _pretrain_is_current(out, recipe):
            if log:
                print(f"demo_setup: pre-training the image model {arch} on single frames -> {out}", flush=True)
            meta = pretrain(root, out, arch, mean, std, log=log, extra_meta=dict(recipe=recipe), **pre)
            notes.append(f"image model pre-trained on single frames (val {val_scores_text(meta)}) "
                         f"in {meta['seconds']} s, saved to {out}")
    return notes
