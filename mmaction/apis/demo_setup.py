"""Prepares what a config's ``demo_setup`` names: the synthetic dataset and the pre-trained image model.

A config (``configs/recognition/vit/vitclip_tiny_demo.py``) may carry::

    demo_setup = dict(
        data_root='data/demo',
        dataset=dict(size=48, frames=24, ...),           # mmaction.datasets.moving_shapes.DemoSpec
        pretrain=dict(out='data/demo/clip_tiny_pretrained.pth', epochs=40, batch_size=64, lr=1e-3, seed=0))

``tools/train.py`` and ``tools/test.py`` call :func:`prepare_demo` on rank 0 before they build
anything, so that the first run on a fresh machine needs no download and no extra command.
Both steps are skipped when their output exists and was made with the same settings; both write
atomically (temporary file or folder, then rename).
"""

import json
from pathlib import Path
from typing import Any, Dict, List

from mmaction.datasets.moving_shapes import DemoSpec, make_demo_dataset

from .image_pretrain import arch_from_model_cfg, pretrain

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
        KeyError / TypeError / ValueError: naming the ``demo_setup`` key at fault.
    """
    setup = cfg.get("demo_setup")
    if not setup:
        return []
    if "data_root" not in setup:
        raise KeyError("demo_setup.data_root is missing")
    root = Path(setup["data_root"])
    try:
        spec = DemoSpec(**dict(setup.get("dataset") or {}))
    except TypeError as err:
        raise TypeError(f"demo_setup.dataset: {err}") from None
    notes: List[str] = []
    before = (root / "dataset_info.json").read_text() if (root / "dataset_info.json").is_file() else None
    info = make_demo_dataset(root, spec)
    if json.dumps(info, indent=2) + "\n" != before:
        notes.append(f"demo dataset written to {root} ({spec.num_train} train / {spec.num_val} val / "
                     f"{spec.num_test} test videos, content sha256 {info['content_sha256'][:12]})")

    pre = setup.get("pretrain")
    if with_pretrain and pre:
        pre = dict(pre)
        if "out" not in pre:
            raise KeyError("demo_setup.pretrain.out is missing")
        unknown = sorted(set(pre) - set(PRETRAIN_KEYS) - {"out"})
        if unknown:
            raise KeyError(f"demo_setup.pretrain: unknown keys {unknown} (known: out, {', '.join(PRETRAIN_KEYS)})")
        out = Path(pre.pop("out"))
        arch, mean, std = arch_from_model_cfg(cfg["model"], source="model")
        recipe = dict(pre, arch=arch, mean=list(mean), std=list(std), dataset_sha256=info["content_sha256"])
        if not _pretrain_is_current(out, recipe):
            if log:
                print(f"demo_setup: pre-training the image model {arch} on single frames -> {out}", flush=True)
            meta = pretrain(root, out, arch, mean, std, log=log, extra_meta=dict(recipe=recipe), **pre)
            notes.append(f"image model pre-trained on single frames: shape top-1 {meta['val_top1']:.3f} "
                         f"in {meta['seconds']} s, saved to {out}")
    return notes
