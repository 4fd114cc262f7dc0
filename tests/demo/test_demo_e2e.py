"""The CPU demo end to end, as the README runs it (``bash tools/dist_train.sh <demo config> 1
--validate --test-last``), shrunk with ``--cfg-options`` and pointed at a temporary folder with
``AIM_DEMO_DATA``: generation, image pre-training, AIM training, validation and test in one
command; then the frame-averaging baseline on the same files (nothing prepared again), a test
of the checkpoint with dist_test.sh and demo/demo.py on a demo video.

Accuracy is not asserted here (one short epoch on 32 videos); docs/get_started.md has the
numbers of the full demo.
"""

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.engine.engine_testkit import REPO_ROOT, describe, dist_tool, output, parse_metric_line, run_tool, tool_env

from .conftest import DEMO_CONFIG, FRAME_AVG_CONFIG, SMALL_SPEC, small_cfg_options, small_setup_options


@dataclass
class DemoRun:
    data_root: Path
    work_dir: Path
    text: str


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory) -> DemoRun:
    base = tmp_path_factory.mktemp("demo_e2e")
    data_root, work_dir = base / "data", base / "work"
    env = tool_env({"AIM_DEMO_DATA": str(data_root)})
    proc = dist_tool("dist_train.sh", str(DEMO_CONFIG), "--validate", "--test-last", "--cfg-options",
                     *small_cfg_options(work_dir), env=env, timeout=300)
    assert proc.returncode == 0, describe(proc)
    return DemoRun(data_root, work_dir, output(proc))


def test_demo_prepares_trains_validates_and_tests(demo_run):
    text = demo_run.text
    assert "demo dataset: writing" in text and "image pre-training: the tiny image model" in text
    num_videos = sum(SMALL_SPEC[k] for k in ("num_train", "num_val", "num_test"))
    assert f"demo dataset: {num_videos}/{num_videos} videos (100%)" in text  # progress lines
    assert re.search(r"image pre-training: (\d+)/\1 iterations \(100%\)", text)
    assert "image pre-training epoch 1/1" in text
    # the dataset is written before, and the image model trained before, the first training step
    assert text.index("demo dataset: writing") < text.index("image pre-training:") < text.index("Epoch(train)")
    assert re.search(r"Epoch\(val\).*acc/top1: [0-9.]+\s+acc/top2: [0-9.]+\s+acc/top5: [0-9.]+", text), text[-3000:]
    metrics = parse_metric_line(text, "test (last weights):")
    assert {"acc/top1", "acc/top2", "acc/top5", "acc/mean1"} <= set(metrics)
    assert 0.0 <= metrics["acc/top1"] <= 1.0 and metrics["acc/top5"] == 1.0  # 4 classes
    assert metrics["acc/num_failed"] == 0
    root = demo_run.data_root
    for name in ("dataset_info.json", "label_map.txt", "clip_tiny_pretrained.pth", "clip_tiny_pretrained.json"):
        assert (root / name).is_file(), name
    assert len((root / "test_list_videos.txt").read_text().splitlines()) == SMALL_SPEC["num_test"]
    assert (demo_run.work_dir / "epoch_1.pth").is_file()
    # what was made is logged, with the image model's validation scores
    assert "demo dataset written to" in text and "image model pre-trained on single frames (val top1" in text


def test_baseline_reuses_the_prepared_files(demo_run, tmp_path):
    root = demo_run.data_root
    stamp = {p.name: p.stat().st_mtime_ns for p in root.iterdir() if p.is_file()}
    env = tool_env({"AIM_DEMO_DATA": str(root)})
    proc = dist_tool("dist_train.sh", str(FRAME_AVG_CONFIG), "--validate", "--test-last", "--cfg-options",
                     *small_cfg_options(tmp_path / "work"), env=env, timeout=300)
    assert proc.returncode == 0, describe(proc)
    text = output(proc)
    assert "demo dataset:" not in text and "image pre-training" not in text  # nothing made again
    assert {p.name: p.stat().st_mtime_ns for p in root.iterdir() if p.is_file()} == stamp
    assert "acc/top1" in parse_metric_line(text, "test (last weights):")


def test_dist_test_and_demo_script_on_the_checkpoint(demo_run):
    env = tool_env({"AIM_DEMO_DATA": str(demo_run.data_root)})
    ckpt = demo_run.work_dir / "epoch_1.pth"
    stamp = {p.name: p.stat().st_mtime_ns for p in demo_run.data_root.iterdir() if p.is_file()}
    proc = dist_tool("dist_test.sh", str(DEMO_CONFIG), str(ckpt), "--eval", "top_k_accuracy",
                     "--cfg-options", *small_setup_options(), "test_dataloader.num_workers=0",
                     "test_dataloader.persistent_workers=False", f"work_dir={demo_run.work_dir / 'test'}",
                     env=env, timeout=300)
    assert proc.returncode == 0, describe(proc)
    metrics = parse_metric_line(output(proc), f"test {ckpt}:")
    assert {"acc/top1", "acc/top5"} <= set(metrics)
    text = output(proc)
    assert "demo dataset:" not in text and "image pre-training" not in text  # the files fit: nothing made again
    assert {p.name: p.stat().st_mtime_ns for p in demo_run.data_root.iterdir() if p.is_file()} == stamp

    video = sorted((demo_run.data_root / "test").glob("*.mp4"))[0]
    proc = run_tool([sys.executable, str(REPO_ROOT / "demo" / "demo.py"), str(video), str(DEMO_CONFIG), str(ckpt),
                     "--label-map", str(demo_run.data_root / "label_map.txt"), "--device", "cpu"], env=env, timeout=300)
    assert proc.returncode == 0, describe(proc)
    classes = json.loads((demo_run.data_root / "dataset_info.json").read_text())["classes"]
    printed = [c for c in classes if c in proc.stdout]
    assert sorted(printed) == sorted(classes), proc.stdout  # all 4 classes ranked (top-5 of 4)
