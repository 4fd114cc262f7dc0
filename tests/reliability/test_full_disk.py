"""A full disk during training: on a small tmpfs work dir, the checkpoint of epoch 2 does not fit.
The run stops with one error line naming the file, the previous checkpoint, the best checkpoint and
``last_checkpoint`` survive byte for byte, no temporary file is left, and ``--resume`` (after space is
freed) continues from epoch 1.

Mounting a tmpfs needs root; without it the test is skipped (the same guarantees are checked with an
injected ENOSPC in tests/reliability/test_checkpoint_hook_safety.py).
"""

import hashlib
import json
import subprocess

import pytest

from mmaction.engine.runner import is_complete_checkpoint
from tests.reliability.reliability_kit import checkpoints, describe, output, reliability_config, run_train

pytestmark = pytest.mark.slow


@pytest.fixture
def small_disk(tmp_path):
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount_point)], capture_output=True,
                          text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({proc.stderr.strip() or proc.returncode}); the injected-ENOSPC "
                    "tests of test_checkpoint_hook_safety.py cover the same guarantees")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], capture_output=True)


def test_full_disk_keeps_previous_checkpoints_and_names_the_file(videos, tmp_path, small_disk):
    record = tmp_path / "hashes_at_fill.json"
    fill = (f"custom_hooks = [dict(type='RNGStateHook'), "
            f"dict(type='ReliabilityTestFillDisk', record='{record}', epoch=2, leave_fraction=0.5)]\n")
    cfg = reliability_config(tmp_path / "fill.py", videos.train, videos.test, videos.test, max_epochs=3, extra=fill)
    work = small_disk / "work"
    proc = run_train(cfg, work, "--validate")
    assert proc.returncode == 2, describe(proc)
    errors = [line for line in proc.stderr.splitlines() if "error" in line.lower()]
    assert errors == [f"error: cannot write {work / 'epoch_2.pth'}: No space left on device (errno 28); the file was "
                      "left as it was and the previous checkpoints are kept: free space (or move the work dir) and "
                      "resume"], describe(proc)
    assert "Traceback" not in output(proc)

    at_fill = json.loads(record.read_text())
    assert {"epoch_1.pth", "best_acc_top1_epoch_1.pth", "last_checkpoint"} <= set(at_fill)
    for name, digest in at_fill.items():
        assert hashlib.sha256((work / name).read_bytes()).hexdigest() == digest, f"{name} changed"
    assert checkpoints(work) == ["best_acc_top1_epoch_1.pth", "epoch_1.pth"]
    assert all(is_complete_checkpoint(str(work / name)) for name in checkpoints(work))
    assert (work / "last_checkpoint").read_text().strip() == str(work / "epoch_1.pth")
    assert not [p.name for p in work.iterdir() if ".tmp-" in p.name]

    (work / "filler.bin").unlink()  # space freed: the run continues from epoch 1
    plain = reliability_config(tmp_path / "plain.py", videos.train, videos.test, videos.test, max_epochs=3)
    resumed = run_train(plain, work, "--validate", "--resume")
    assert resumed.returncode == 0, describe(resumed)
    assert f"--resume: continuing from {work / 'epoch_1.pth'}" in output(resumed)
    assert "epoch_3.pth" in checkpoints(work)
