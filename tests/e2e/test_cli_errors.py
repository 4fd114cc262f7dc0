"""A mistyped ``--cfg-options`` key stops the tools before anything is built or written: one
error line naming the key, a non-zero exit code, no work dir, no hang with 2 processes.
(``python tools/train.py`` on one process is covered by tests/engine/test_config_tools.py.)"""

import time

import pytest

from tests.engine.engine_testkit import describe, dist_tool, python_tool, run_tool

pytestmark = pytest.mark.slow


def _error_lines(text):
    return [line for line in text.splitlines() if "error: --cfg-options" in line]


def test_dist_train_two_processes_unknown_key(make_config, tmp_path):
    cfg = make_config("tiny_1e", max_epochs=1)
    start = time.monotonic()
    proc = dist_tool("dist_train.sh", str(cfg), "--validate", "--test-last", "--cfg-options",
                     f"work_dir={tmp_path / 'w'}", "model.backbone.pretraind=openaiclip", nproc=2, timeout=120)
    elapsed = time.monotonic() - start
    assert proc.returncode != 0, describe(proc)
    lines = _error_lines(proc.stderr)
    assert len(lines) == 1, f"expected one error line (rank 0), got {lines}\n" + describe(proc)
    assert lines[0].startswith("error: --cfg-options: unknown key 'model.backbone.pretraind'")
    assert "Did you mean 'pretrained'" in lines[0]
    assert 'tools/train.py", line' not in proc.stderr, "no Python traceback from our code"
    assert proc.returncode == 2 and proc.stderr.strip().splitlines()[-1] == lines[0], "the job ends with the line"
    assert "Traceback" not in proc.stderr and "ChildFailedError" not in proc.stderr, "no torchrun traceback"
    assert not (tmp_path / "w").exists(), "nothing may be built or written"
    assert elapsed < 60, f"took {elapsed:.0f} s"


def test_test_py_unknown_key(make_config, tmp_path):
    cfg = make_config("tiny_1e", max_epochs=1)
    # any existing file does as checkpoint: the config is checked before the checkpoint is read
    proc = run_tool(python_tool("test.py", str(cfg), str(cfg), "--work-dir",
                                str(tmp_path / "w"), "--cfg-options", "test_dataloader.batchsize=4"))
    assert proc.returncode == 2, describe(proc)
    assert proc.stderr.strip().splitlines() == _error_lines(proc.stderr)
    assert len(_error_lines(proc.stderr)) == 1 and "'test_dataloader.batchsize'" in proc.stderr
    assert "Did you mean 'batch_size'" in proc.stderr
    assert not (tmp_path / "w").exists()


def test_legacy_config_unknown_key_suggests_the_0x_name(make_config, tmp_path):
    cfg = make_config("tiny_legacy_1e", legacy=True, max_epochs=1)
    proc = run_tool(python_tool("train.py", str(cfg), "--work-dir", str(tmp_path / "w"), "--cfg-options",
                                "total_epoch=3"))
    assert proc.returncode == 2, describe(proc)
    assert len(_error_lines(proc.stderr)) == 1 and "'total_epoch'" in proc.stderr
    assert "Did you mean 'total_epochs'" in proc.stderr
    assert not (tmp_path / "w").exists()


def test_dist_train_random_frozen_backbone_is_one_line(make_config, tmp_path):
    """Adapter tuning without image weights stops before the first step, saying how to give them."""
    cfg = make_config("tiny_1e_random", max_epochs=1)
    cfg.write_text(cfg.read_text().replace("allow_random_backbone = True", "allow_random_backbone = False"))
    proc = dist_tool("dist_train.sh", str(cfg), "--cfg-options", f"work_dir={tmp_path / 'w'}", nproc=2, timeout=120)
    assert proc.returncode == 2, describe(proc)
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: model.backbone.pretrained=None with tuning='adapter'"), describe(proc)
    assert "--cfg-options model.backbone.pretrained=openaiclip" in last and "Traceback" not in proc.stderr
    assert not (tmp_path / "w").exists()
