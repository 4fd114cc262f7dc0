"""Shared settings of the CPU-demo tests: the demo config, shrunk so that a test runs in seconds.

The overrides keep the demo's architecture and pipelines (what the tests are about) and only
shrink the amounts: fewer videos and images, one short epoch of image pre-training and of
video training, no dataloader worker processes.
"""

from pathlib import Path
from typing import Dict, List

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO_CONFIG = REPO_ROOT / "configs" / "recognition" / "vit" / "vitclip_tiny_demo.py"
FRAME_AVG_CONFIG = REPO_ROOT / "configs" / "recognition" / "vit" / "vitclip_tiny_demo_frame_avg.py"
LOADERS = ("train_dataloader", "val_dataloader", "test_dataloader")
PTH = "clip_tiny_pretrained.pth"

#: DemoSpec fields for the tests (the config's own: 2000/200/200 videos, 8000 images).
SMALL_SPEC = dict(num_train=32, num_val=8, num_test=8, num_images=64)
#: PretrainImageModelHook recipe for the tests (the config's own: 8 epochs, batch 32).
SMALL_RECIPE = dict(epochs=1, batch_size=16)


def pretrain_hook_index(cfg) -> int:
    """Position of ``PretrainImageModelHook`` in the config's ``custom_hooks``."""
    types = [h["type"] for h in cfg.custom_hooks]
    return types.index("PretrainImageModelHook")


def small_setup_options() -> List[str]:
    """``--cfg-options`` for the small dataset and pre-training (every tool run on the same folder
    needs them: a config asking for other sizes would make the dataset again)."""
    from mmengine.config import Config

    hook = pretrain_hook_index(Config.fromfile(str(DEMO_CONFIG)))
    opts: Dict[str, object] = {f"{loader}.dataset.spec.{k}": v for loader in LOADERS for k, v in SMALL_SPEC.items()}
    opts.update({f"custom_hooks.{hook}.{k}": v for k, v in SMALL_RECIPE.items()})
    return [f"{k}={v}" for k, v in opts.items()]


def small_cfg_options(work_dir: Path) -> List[str]:
    """``--cfg-options`` that shrink the demo config for an end-to-end run of a few seconds."""
    opts: Dict[str, object] = {"train_cfg.max_epochs": 1, "train_dataloader.batch_size": 8, "work_dir": str(work_dir)}
    for loader in LOADERS:
        opts[f"{loader}.num_workers"] = 0
        opts[f"{loader}.persistent_workers"] = False
    return small_setup_options() + [f"{k}={v}" for k, v in opts.items()]


def load_small_config(data_root: Path, path: Path = DEMO_CONFIG):
    """The demo config (mmengine ``Config``) with its data under ``data_root`` and the small sizes."""
    from mmengine.config import Config

    cfg = Config.fromfile(str(path))
    for loader in LOADERS:
        cfg[loader].dataset.data_root = str(data_root)
        cfg[loader].dataset.spec.update(SMALL_SPEC)
    hook = cfg.custom_hooks[pretrain_hook_index(cfg)]
    hook.update(SMALL_RECIPE, data_root=str(data_root), out=str(data_root / PTH))
    cfg.model.backbone.pretrained = str(data_root / PTH)
    return cfg


def small_spec(cfg):
    """The config's (shrunk) DemoSpec."""
    from projects.tiny_demo.moving_shapes import DemoSpec

    return DemoSpec(**cfg.train_dataloader.dataset.spec)


def small_recipe(cfg) -> dict:
    """The config's (shrunk) pre-training recipe."""
    from projects.tiny_demo.pretrain_hook import RECIPE_KEYS

    hook = cfg.custom_hooks[pretrain_hook_index(cfg)]
    return {k: hook[k] for k in RECIPE_KEYS}


def build_dataset(cfg, split: str = "train"):
    """Builds the config's MovingShapesDataset of ``split`` (which writes the folder if needed)."""
    from mmaction.registry import DATASETS

    return DATASETS.build(dict(cfg[f"{split}_dataloader"].dataset))


def prepare(cfg) -> str:
    """What a training run of the config makes first: the dataset, then the image model.
    Returns the pre-training's note ('' when the weights were up to date)."""
    from projects.tiny_demo.pretrain_hook import ensure_pretrained

    build_dataset(cfg)
    root = Path(cfg.train_dataloader.dataset.data_root)
    return ensure_pretrained(root, root / PTH, small_recipe(cfg), cfg.model, log=False)


@pytest.fixture(scope="session")
def prepared_demo(tmp_path_factory):
    """One small prepared demo folder (dataset + pre-trained image model) for read-only tests."""
    import projects.tiny_demo  # noqa: F401  (registers MovingShapesDataset)

    root = tmp_path_factory.mktemp("demo_prepared") / "demo"
    cfg = load_small_config(root)
    prepare(cfg)
    return root, cfg
