"""Fixtures of tests/tools: one tiny training run shared by every test, and in-process tool loading.

The run trains the tiny AIM config of :mod:`tests.engine.engine_testkit` (ViT_CLIP width 32,
1 block, 32 px, 4 frames; test pipeline 2 clips x 1 crop) for 2 epochs on generated videos, with
validation, so its work dir holds checkpoints and the loss / lr / accuracy scalars.
"""

import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Dict, List

import pytest

from tests.engine.engine_testkit import REPO_ROOT, make_video_set, python_tool, run_tool, tiny_config

NUM_CLASSES = 6  # > 5, so the demo has five classes to print
TRAIN_VIDEOS = 6
TRAIN_BATCH = 2
EPOCHS = 2


@dataclass
class TinyRun:
    """What the tiny training run left behind."""

    root: Path  # the videos and list files
    config: Path
    work_dir: Path
    checkpoint: Path
    test_list: Path
    label_map: Path
    labels: List[str]
    num_classes: int
    iters_per_epoch: int
    epochs: int


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> TinyRun:
    """Trains the tiny model for 2 epochs once per session (~10-15 s on 2 cores)."""
    root = tmp_path_factory.mktemp("tools_run")
    train = make_video_set(root, "train", TRAIN_VIDEOS, num_classes=NUM_CLASSES, seed=0)
    val = make_video_set(root, "val", 3, num_classes=NUM_CLASSES, seed=1)
    test = make_video_set(root, "test", 3, num_classes=NUM_CLASSES, seed=2)
    config = tiny_config(root / "tiny_aim.py", train, val, test, max_epochs=EPOCHS, batch_size=TRAIN_BATCH,
                         num_classes=NUM_CLASSES)
    work_dir = root / "work_dir"
    proc = run_tool(python_tool("train.py", str(config), "--validate", "--cfg-options", f"work_dir={work_dir}"),
                    timeout=300)
    assert proc.returncode == 0, f"tiny training failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    checkpoint = work_dir / f"epoch_{EPOCHS}.pth"
    assert checkpoint.is_file(), f"no {checkpoint.name} in {sorted(p.name for p in work_dir.iterdir())}"
    labels = [f"class {i}" if i % 2 else f"action_{i}" for i in range(NUM_CLASSES)]  # some names with spaces
    label_map = root / "labels.txt"
    label_map.write_text("\n".join(labels) + "\n")
    return TinyRun(root=root, config=config, work_dir=work_dir, checkpoint=checkpoint, test_list=test,
                   label_map=label_map, labels=labels, num_classes=NUM_CLASSES,
                   iters_per_epoch=-(-TRAIN_VIDEOS // TRAIN_BATCH), epochs=EPOCHS)


_TOOLS: Dict[str, ModuleType] = {}


def _load_tool(relpath: str) -> ModuleType:
    """Imports a script of the repository (e.g. ``'tools/analysis/get_flops.py'``) as a module, once."""
    if relpath not in _TOOLS:
        path = REPO_ROOT / relpath
        name = "tool_" + relpath.replace("/", "_").removesuffix(".py")
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        _TOOLS[relpath] = module
    return _TOOLS[relpath]


@pytest.fixture(scope="session")
def load_tool():
    """``load_tool('tools/analysis/get_flops.py')`` -> the script imported as a module (its ``main(argv)``)."""
    return _load_tool
