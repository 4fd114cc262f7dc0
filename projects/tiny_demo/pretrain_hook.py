"""``PretrainImageModelHook``: makes the demo's pre-trained image model before training uses it.

In a config::

    custom_hooks = [dict(type='PretrainImageModelHook', data_root='data/demo',
                         out='data/demo/clip_tiny_pretrained.pth', epochs=8, batch_size=32, lr=1e-3, seed=0)]
    model = dict(backbone=dict(type='ViT_CLIP', pretrained='data/demo/clip_tiny_pretrained.pth', ...))

mmengine's ``Runner.train`` builds the datasets (the demo's ``MovingShapesDataset`` writes the
images here), calls the hooks' ``before_run`` and then initialises the model's weights, which
loads ``model.backbone.pretrained``. In ``before_run`` of a training run this hook pre-trains the
image model (:func:`projects.tiny_demo.image_pretrain.pretrain`) on rank 0 while the other ranks
wait, unless ``out`` exists and its ``.json`` records the same recipe: the settings above, the
backbone's size, the input normalisation and the dataset's content hash (so changing any of them
redoes the pre-training). The pre-training leaves torch's random state as it found it. Testing (``Runner.test``) loads a checkpoint and needs no image model:
the hook does nothing there.
"""

import json
from pathlib import Path
from typing import Any, Dict, Sequence

import torch
from mmengine.dist import barrier, get_rank
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.runner import BaseLoop

from mmaction.engine.runner.config_check import ConfigError
from mmaction.registry import HOOKS

from .image_pretrain import arch_from_model_cfg, pretrain, val_scores_text
from .moving_shapes import INFO_FILE

RECIPE_KEYS = ("epochs", "batch_size", "lr", "seed")


def pretrain_recipe(pre: Dict[str, Any], arch: Dict[str, int], mean: Sequence[float], std: Sequence[float],
                    dataset_sha256: str) -> Dict[str, Any]:
    """What the pre-trained weights' ``.json`` records as ``recipe``: same recipe, same weights."""
    return dict(pre, arch=dict(arch), mean=[float(m) for m in mean], std=[float(s) for s in std],
                dataset_sha256=dataset_sha256)


def pretrain_is_current(out: Path, recipe: Dict[str, Any]) -> bool:
    """Whether ``out`` exists and its ``.json`` says it was made with exactly ``recipe``."""
    meta_path = out.with_suffix(".json")
    if not out.is_file() or not meta_path.is_file():
        return False
    try:
        meta = json.loads(meta_path.read_text())
    except json.JSONDecodeError:
        return False
    return meta.get("recipe") == recipe


def check_recipe(recipe: Dict[str, Any], where: str = "PretrainImageModelHook") -> None:
    """Raises ConfigError, naming the argument, for a value :func:`pretrain` cannot use."""
    for key in ("epochs", "batch_size", "seed"):
        least = 0 if key == "seed" else 1
        value = recipe[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ConfigError(f"{where}.{key} must be an integer >= {least}, got {value!r}")
    lr = recipe["lr"]
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not lr > 0:
        raise ConfigError(f"{where}.lr must be a number > 0, got {lr!r}")


def dataset_sha256(data_root: Path) -> str:
    """The demo dataset's content hash from its ``dataset_info.json``.

    Raises:
        ConfigError: when ``data_root`` holds no finished demo dataset.
    """
    info_path = Path(data_root) / INFO_FILE
    try:
        return str(json.loads(info_path.read_text())["content_sha256"])
    except (OSError, ValueError, KeyError):
        raise ConfigError(
            f"PretrainImageModelHook: {info_path} not found or unreadable: the images come with the demo dataset "
            "(MovingShapesDataset with the same data_root); a config with other data drops this hook "
            "(custom_hooks=[]) and sets model.backbone.pretrained") from None


def ensure_pretrained(data_root: Path, out: Path, recipe: Dict[str, Any], model_cfg: Dict[str, Any],
                      log: bool = True) -> str:
    """Pre-trains the image model into ``out`` unless it is there with the same recipe.

    Args:
        data_root: the demo dataset (``images_{train,val}.npz``, ``dataset_info.json``).
        out: the weights to write (CLIP layout) and, beside them, their ``.json``.
        recipe: ``RECIPE_KEYS`` values.
        model_cfg: the recognizer config (the backbone's size and the normalisation).
        log: print progress lines.

    Returns:
        a note of what was done, or ``''`` when the weights were up to date.
    """
    arch, mean, std = arch_from_model_cfg(model_cfg, source="model")
    full = pretrain_recipe(recipe, arch, mean, std, dataset_sha256(data_root))
    if pretrain_is_current(out, full):
        return ""
    if log:
        print(f"image pre-training: the tiny image model {arch} on single frames -> {out}", flush=True)
    meta = pretrain(data_root, out, arch, mean, std, log=log, extra_meta=dict(recipe=full), **recipe)
    return f"image model pre-trained on single frames (val {val_scores_text(meta)}) in {meta['seconds']} s, " \
           f"saved to {out}"


@HOOKS.register_module()
class PretrainImageModelHook(Hook):
    """Pre-trains the demo's image model (``out``) in ``before_run`` of a training run.

    Args:
        data_root: the demo dataset's folder (its images and ``dataset_info.json``).
        out: where the weights go; ``model.backbone.pretrained`` should name the same file.
        epochs, batch_size, lr, seed: the recipe of :func:`projects.tiny_demo.image_pretrain.pretrain`.

    Raises:
        ConfigError: a recipe value :func:`pretrain` cannot use (when the hook is built).
    """

    priority = "VERY_HIGH"

    def __init__(self, data_root: str, out: str, epochs: int = 8, batch_size: int = 32, lr: float = 1e-3,
                 seed: int = 0) -> None:
        self.data_root, self.out = Path(data_root), Path(out)
        self.recipe = dict(epochs=epochs, batch_size=batch_size, lr=lr, seed=seed)
        check_recipe(self.recipe)

    def before_run(self, runner) -> None:
        # Runner.train() has built its loop by now; test() and val() load a checkpoint instead.
        if not isinstance(getattr(runner, "_train_loop", None), BaseLoop):
            return
        model_cfg = runner.cfg["model"]
        pretrained = model_cfg.get("backbone", {}).get("pretrained")
        if str(pretrained) != str(self.out):
            print_log(f"PretrainImageModelHook: model.backbone.pretrained is {pretrained!r}, not {str(self.out)!r}: "
                      "nothing pre-trained", logger="current")
            return
        note = ""
        if get_rank() == 0:
            # the pre-training seeds torch's generator; the run's own random stream (seeded by the
            # Runner from ``randomness``) continues as if it had not run, so a run that finds the
            # weights in place trains exactly as the one that made them
            with torch.random.fork_rng(devices=[]):
                note = ensure_pretrained(self.data_root, self.out, self.recipe, model_cfg)
        barrier()
        if note:
            print_log(note, logger="current")
