"""Fixtures of tests/reliability: one set of tiny PyAV-written videos for the session.

Every test runs the real tools (``tools/train.py``, ``tools/test.py``, ``tools/dist_train.sh``,
``tools/dist_test.sh``) as subprocesses on the CPU with the tiny AIM model of
``tests/engine/engine_testkit.tiny_config`` (ViT_CLIP width 32, 1 layer, 32 px, 4 frames).
"""

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.engine.engine_testkit import make_video_set

NUM_TRAIN, NUM_TEST = 8, 4  # 8 training videos: 4 iterations per epoch at batch size 2


@dataclass
class VideoSet:
    root: Path
    train: Path  # list file, NUM_TRAIN lines
    test: Path  # list file, NUM_TEST lines

    def copy_lists(self, name: str) -> "VideoSet":
        """Copies of the two list files, ``<root>/<name>_{train,test}.txt``, which a test may
        change without touching the others' (the copies stay in ``root``: the configs join the
        lists' paths to the lists' folder)."""
        train, test = self.root / f"{name}_train.txt", self.root / f"{name}_test.txt"
        shutil.copy(self.train, train)
        shutil.copy(self.test, test)
        return VideoSet(self.root, train, test)


@pytest.fixture(scope="session")
def videos(tmp_path_factory) -> VideoSet:
    root = tmp_path_factory.mktemp("reliability_videos")
    return VideoSet(root, make_video_set(root, "train", NUM_TRAIN, seed=0),
                    make_video_set(root, "test", NUM_TEST, seed=1))
