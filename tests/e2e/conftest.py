"""Fixtures of tests/e2e: one set of tiny PyAV-written videos for the whole session, tiny AIM
configs, and one 2-process training run that several tests read (train/val/test, checkpoints,
logs), compare against (resume) or evaluate again (dist_test.sh).

Everything runs the real tools as subprocesses (``bash tools/dist_train.sh``, ``dist_test.sh``,
``python tools/test.py``) on the CPU: 2 processes use torchrun + gloo.
"""

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.engine.engine_testkit import dist_tool, make_video_set, tiny_config

# The training set gives 3 iterations per epoch with 2 processes x 2 videos (6 with 1 process);
# the test set has an odd number of videos, so 2 processes get 4 + 4 with one padding sample.
NUM_TRAIN, NUM_VAL, NUM_TEST = 12, 6, 7
SEED = "0"


@dataclass
class VideoLists:
    root: Path
    train: Path
    val: Path
    test: Path


@dataclass
class RunResult:
    config: Path
    work_dir: Path
    proc: object  # subprocess.CompletedProcess


@pytest.fixture(scope="session")
def videos(tmp_path_factory) -> VideoLists:
    root = tmp_path_factory.mktemp("e2e_videos")
    return VideoLists(
        root=root,
        train=make_video_set(root, "train", NUM_TRAIN, seed=0),
        val=make_video_set(root, "val", NUM_VAL, seed=1),
        test=make_video_set(root, "test", NUM_TEST, seed=2),
    )


@pytest.fixture(scope="session")
def make_config(videos, tmp_path_factory):
    """``make_config(name, **tiny_config kwargs)`` -> path of a tiny config in a session folder."""
    folder = tmp_path_factory.mktemp("e2e_configs")

    def make(name: str, **kwargs) -> Path:
        return tiny_config(folder / f"{name}.py", videos.train, videos.val, videos.test, **kwargs)

    return make


# A SIGKILL right after epoch 1's checkpoint is on disk (rank 0); the other ranks are then
# stopped by torchrun. On the restart with --resume the hook never fires (epoch 1 is done).
KILL_AFTER_EPOCH_1 = """
custom_hooks = [dict(type='RNGStateHook'), dict(type='EngineTestKillHook', when='after_epoch', epoch=1)]
"""


@pytest.fixture(scope="session")
def dist_run(make_config, tmp_path_factory) -> RunResult:
    """The issue's command on 2 CPU processes, 3 epochs, seeded and deterministic:
    ``bash tools/dist_train.sh CFG 2 --validate --test-last --seed 0 --deterministic``."""
    cfg = make_config("tiny_3e", max_epochs=3)
    work_dir = tmp_path_factory.mktemp("e2e_dist_run") / "work"
    proc = dist_tool("dist_train.sh", str(cfg), "--validate", "--test-last", "--seed", SEED, "--deterministic",
                     "--cfg-options", f"work_dir={work_dir}", nproc=2)
    return RunResult(cfg, work_dir, proc)
