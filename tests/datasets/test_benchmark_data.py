"""``tools/analysis/benchmark.py --mode data``: the K400 8x16 train pipeline on video files.

A tiny run from the command line checks the ``--json`` keys; the same config then runs on the
shared real videos (skipped where ../shared is absent).
"""

import json
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BENCHMARK = REPO / "tools" / "analysis" / "benchmark.py"
K400_8X16 = REPO / "configs" / "recognition" / "vit" / "vitclip_base_k400_8x16x1_3views.py"
KEYS = ("mode", "batch_size", "step_s", "clips_per_s", "peak_mem_mb", "tflops", "matmul_peak_tflops")

pytestmark = pytest.mark.timeout(120)


def check_result(result: dict, batch_size: int) -> None:
    assert set(KEYS) <= set(result)
    assert result["mode"] == "data" and result["batch_size"] == batch_size
    assert result["step_s"] > 0 and result["clips_per_s"] == pytest.approx(batch_size / result["step_s"])
    assert result["peak_mem_mb"] > 0
    assert result["tflops"] is None and result["matmul_peak_tflops"] is None  # no model in data mode


def test_data_mode_json_keys(video_dir, tmp_path):
    videos = tmp_path / "videos"
    videos.mkdir()
    for name in ("v64.mp4", "v300.mp4", "v30.mkv"):
        os.symlink(video_dir / name, videos / name)
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))
    proc = subprocess.run(
        [sys.executable, str(BENCHMARK), str(K400_8X16), "--mode", "data", "--videos", str(videos), "--batch-size", "2",
         "--iters", "1", "--warmup", "0", "--json"],
        cwd=str(REPO), env=env, capture_output=True, text=True, timeout=110,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    check_result(result, batch_size=2)
    assert result["num_videos"] == 3 and result["samples_timed"] == 2


def test_data_mode_on_the_shared_real_videos(shared_dir, capsys):
    real = shared_dir / "data" / "videos" / "real"
    main = runpy.run_path(str(BENCHMARK), run_name="benchmark_under_test")["main"]
    argv = [str(K400_8X16), "--mode", "data", "--videos", str(real), "--iters", "2", "--warmup", "0", "--json"]
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    check_result(result, batch_size=1)
    suffixes = (".mp4", ".avi", ".mkv", ".webm", ".mov", ".m4v")
    assert result["num_videos"] == sum(p.suffix in suffixes for p in real.iterdir())


def test_data_mode_reports_a_missing_video_folder(tmp_path, capsys):
    main = runpy.run_path(str(BENCHMARK), run_name="benchmark_under_test")["main"]
    assert main([str(K400_8X16), "--mode", "data", "--videos", str(tmp_path / "nope")]) == 1
    assert "no such folder or list file" in capsys.readouterr().err


def test_time_pipeline_counts_views_and_reports_the_median(video_dir):
    from mmaction.datasets import time_pipeline

    pipeline = [
        dict(type="DecordInit"),
        dict(type="SampleFrames", clip_len=4, frame_interval=2, num_clips=3, test_mode=True),
        dict(type="DecordDecode"),
        dict(type="CenterCrop", crop_size=32),
        dict(type="FormatShape", input_format="NCTHW"),
        dict(type="PackActionInputs"),
    ]
    files = [str(video_dir / n) for n in ("v64.mp4", "v30.mkv")]
    result = time_pipeline(pipeline, files, iters=4, warmup=0)
    assert result["iters"] == 4 and result["total_s"] > 0
    assert result["views_per_s"] == pytest.approx(3 * result["clips_per_s"])  # 3 clips per sample
    assert result["step_s"] == pytest.approx(result["total_s"] / 4)
    assert 0 < result["step_s_median"] <= result["total_s"]
    with pytest.raises(ValueError, match="no video file"):
        time_pipeline(pipeline, [], iters=1)
