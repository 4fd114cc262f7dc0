"""A run SIGKILLed while it writes a checkpoint loses nothing that was on disk before, leaves no
partial ``epoch_N.pth`` that ``--resume`` could pick, and ``--resume`` continues from the last
complete checkpoint to the same final weights as a run that was never interrupted; the killed
write's temporary file is deleted when the next run starts.

(The plain "killed right after an epoch, --resume, equal weights" case is
tests/e2e/test_resume.py; here the kill lands in the middle of the checkpoint file.)"""

import shutil
import signal

import pytest
import torch

from mmaction.engine.runner import find_resume_checkpoint, is_complete_checkpoint
from tests.engine.engine_testkit import load_state
from tests.reliability.reliability_kit import checkpoints, describe, log_files, output, reliability_config, run_train

pytestmark = pytest.mark.slow

MAX_EPOCHS = 3
KILL_DURING_EPOCH_2_CHECKPOINT = """
custom_hooks = [dict(type='RNGStateHook'), dict(type='EngineTestKillHook', when='during_checkpoint', epoch=2)]
"""


def test_kill_during_checkpoint_write_then_resume(videos, tmp_path):
    plain = reliability_config(tmp_path / "plain.py", videos.train, videos.test, videos.test, max_epochs=MAX_EPOCHS)
    killer = reliability_config(tmp_path / "killer.py", videos.train, videos.test, videos.test, max_epochs=MAX_EPOCHS,
                                extra=KILL_DURING_EPOCH_2_CHECKPOINT)

    reference = run_train(plain, tmp_path / "reference")
    assert reference.returncode == 0, describe(reference)

    work = tmp_path / "interrupted"
    killed = run_train(killer, work)
    assert killed.returncode == -signal.SIGKILL, describe(killed)
    # the kill came half-way through epoch 2's checkpoint: epoch 2 had trained
    assert "Epoch(train) [2][4/4]" in output(killed) and "Saving checkpoint at 2 epochs" in output(killed)

    # nothing partial under a checkpoint name; the half-written bytes are only in a temp file
    assert checkpoints(work) == ["epoch_1.pth"], sorted(p.name for p in work.iterdir())
    strays = list(work.glob(".epoch_2.pth.tmp-*"))
    assert len(strays) == 1 and not is_complete_checkpoint(str(strays[0]))
    assert is_complete_checkpoint(str(work / "epoch_1.pth"))
    pointer = (work / "last_checkpoint").read_text().strip()
    assert pointer.endswith("epoch_1.pth") and is_complete_checkpoint(pointer)
    # logs from before the kill are still there
    logs_before = log_files(work)
    assert len(logs_before) == 1 and "Epoch(train) [2][4/4]" in logs_before[0].read_text()
    log_text_before = logs_before[0].read_text()

    # A file system or copy tool that is not atomic would leave the partial file under its real
    # name, with last_checkpoint pointing at it: --resume must still take the last complete one.
    shutil.copyfile(strays[0], work / "epoch_2.pth")
    (work / "last_checkpoint").write_text(str(work / "epoch_2.pth"))
    assert find_resume_checkpoint(str(work)) == str(work / "epoch_1.pth")

    resumed = run_train(plain, work, "--resume")
    assert resumed.returncode == 0, describe(resumed)
    text = output(resumed)
    assert f"--resume: continuing from {work / 'epoch_1.pth'}" in text
    assert f"resume: skipping {work / 'epoch_2.pth'}: missing or incomplete" in text
    assert "Epoch(train) [1]" not in text and "Epoch(train) [2][1/4]" in text
    # the killed write's temporary file is deleted when the next run starts
    assert f"removed 1 unfinished temporary file(s) of an interrupted write in {work}: ['{strays[0].name}']" in text
    assert not list(work.glob(".*.tmp-*"))

    # the earlier run's log and checkpoint are untouched; the new run wrote its own log
    logs_after = log_files(work)
    assert len(logs_after) == 2 and logs_after[0].read_text() == log_text_before
    assert checkpoints(work) == ["epoch_1.pth", "epoch_2.pth", "epoch_3.pth"]
    assert all(is_complete_checkpoint(str(work / name)) for name in checkpoints(work))

    expected, got = load_state(tmp_path / "reference" / "epoch_3.pth"), load_state(work / "epoch_3.pth")
    assert expected.keys() == got.keys()
    different = [k for k in expected if not torch.equal(expected[k], got[k])]
    assert not different, f"weights differ from the uninterrupted run: {different[:5]}"
