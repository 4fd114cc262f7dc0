"""Distributed runs (torchrun, 2 CPU processes, gloo): a rank that fails brings the whole job down
within a bounded time with its error in the output (no rank is left waiting in a collective);
distributed evaluation counts every video exactly once (odd list length, one unreadable video)."""

import pickle
import re
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from tests.reliability.reliability_kit import append_to_list, describe, dist, output, reliability_config

pytestmark = pytest.mark.slow

RAISE_ON_RANK_1 = """
custom_hooks = [dict(type='RNGStateHook'), dict(type='EngineTestKillHook', when='raise', rank=1, iteration=2)]
"""
# torchrun stops the other workers as soon as one fails; the job must not wait for the
# collective timeout (env_cfg.dist_cfg.timeout, 1800 s by default).
FAILURE_BOUND_S = 150


def test_failing_rank_stops_the_job_with_its_error(videos, tmp_path):
    cfg = reliability_config(tmp_path / "cfg.py", videos.train, videos.test, videos.test, max_epochs=2,
                             extra=RAISE_ON_RANK_1)
    proc = dist("dist_train.sh", str(cfg), "2", "--seed", "0", "--cfg-options", f"work_dir={tmp_path / 'work'}",
                timeout=FAILURE_BOUND_S)
    text = output(proc)
    assert proc.returncode != 0, describe(proc)
    assert "RuntimeError: injected failure on rank 1 at iteration 2" in text, describe(proc)
    assert re.search(r"rank\s*:\s*1", text), describe(proc)  # torchrun's summary names the failed rank
    assert "Epoch(train) [1][2/" not in text  # iteration 2 never completed on rank 0
    assert not list((tmp_path / "work").glob("*.pth"))


def test_distributed_evaluation_counts_every_video_once(videos, tmp_path):
    # 7 entries (odd: 2 ranks get 4 + 4 with one padding sample), one of them unreadable
    lines = videos.train.read_text().splitlines()[:6]
    test_list = videos.root / "dist_eval_test.txt"
    test_list.write_text("\n".join(lines) + "\n")
    append_to_list(test_list, [videos.root / "dist_eval_missing.mp4"], labels=[1])
    cfg = reliability_config(tmp_path / "cfg.py", videos.train, test_list, test_list)

    from mmaction.registry import MODELS

    model = MODELS.build(Config.fromfile(str(cfg)).model)
    checkpoint = tmp_path / "weights.pth"
    torch.save(model.state_dict(), checkpoint)

    out = tmp_path / "results.pkl"
    proc = dist("dist_test.sh", str(cfg), str(checkpoint), "2", "--out", str(out), "--work-dir", str(tmp_path / "w"),
                timeout=240)
    assert proc.returncode == 0, describe(proc)
    text = output(proc)
    assert "AccMetric: evaluated 7 videos" in text, describe(proc)
    assert re.search(r"acc/num_failed[:=] ?1\b", text), describe(proc)
    with open(out, "rb") as f:
        results = pickle.load(f)
    assert len(results) == 7
    assert sorted(r["sample_idx"] for r in results) == list(range(7))
    listed = [str((videos.root / ln.split()[0]).resolve()) for ln in test_list.read_text().splitlines()]
    assert sorted(r["filename"] for r in results) == sorted(listed)
    assert [Path(r["filename"]).name for r in results if r["decode_failed"]] == ["dist_eval_missing.mp4"]
