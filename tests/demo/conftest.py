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

#: demo_setup sizes for the tests (the config's own: 2000/200/200 videos, 8000 images, 8 epochs).
SMALL_DATASET = dict(num_train=32, num_val=8, num_test=8, num_images=64)
SMALL_PRETRAIN = dict(epochs=1, batch_size=16)


def small_setup_options() -> List[str]:
    """``--cfg-options`` for the small ``demo_setup`` (every tool run on the same folder needs them:
    a config asking for other sizes would make the dataset again)."""
    opts: Dict[str, object] = {f"demo_setup.dataset.{k}": v for k, v in SMALL_DATASET.items()}
    opts.update({f"demo_setup.pretrain.{k}": v for k, v in SMALL_PRETRAIN.items()})
    return [f"{k}={v}" for k, v in opts.items()]


def small_cfg_options(work_dir: Path) -> List[str]:
    """``--cfg-options`` that shrink the demo config for an end-to-end run of a few seconds."""
    opts: Dict[str, object] = {"train_cfg.max_epochs": 1, "train_dataloader.batch_size": 8, "work_dir": str(work_dir)}
    for loader in ("train_dataloader", "val_dataloader", "test_dataloader"):
        opts[f"{loader}.num_workers"] = 0
        opts[f"{loader}.persistent_workers"] = False
    return small_setup_options() + [f"{k}={v}" for k, v in opts.items()]


def load_small_config(data_root: Path, path: Path = DEMO_CONFIG):
    """The demo config (mmengine ``Config``) with its data under ``data_root`` and the small sizes."""
    from mmengine.config import Config

    cfg = Config.fromfile(str(path))
    cfg.demo_setup.data_root = str(data_root)
    cfg.demo_setup.dataset.update(SMALL_DATASET)
    cfg.demo_setup.pretrain.update(SMALL_PRETRAIN, out=str(data_root / "clip_tiny_pretrained.pth"))
    cfg.model.backbone.pretrained = str(data_root / "clip_tiny_pretrained.pth")
    return cfg


@pytest.fixture(scope="session")
def prepared_demo(tmp_path_factory):
    """One small prepared demo folder (dataset + pre-trained image model) for read-only tests."""
    from mmaction.apis.demo_setup import prepare_demo

    root = tmp_path_factory.mktemp("demo_prepared") / "demo"
    cfg = load_small_config(root)
    prepare_demo(cfg, log=False)
    return root, cfg
