"""AtomicCheckpointHook in-process, driven the way the train loop drives it (after_train_epoch,
then after_val_epoch), with a stand-in runner whose ``save_checkpoint`` writes real files through
the hook's backend and records which files existed at the moment each one was written.

- the new best (and the newest epoch checkpoint) is on disk before the old one is removed;
- a full disk (an injected ENOSPC from the write, as on a full tmpfs) names the file, keeps every
  previous file, leaves no temporary file, and keeps ``last_checkpoint`` on the last good one;
- stray ``.<name>.tmp-*`` files of killed writes are removed when training starts.
"""

import errno
import logging
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Dict, List, Set

import pytest
from mmengine.fileio import get_file_backend
from mmengine.hooks import CheckpointHook
from mmengine.logging import MessageHub

import mmaction.engine.runner.atomic_io as atomic_io
from mmaction.engine.hooks import AtomicCheckpointHook
from mmaction.engine.runner.atomic_io import DiskFullError


class StandInRunner:
    """What CheckpointHook uses of a Runner; ``save_checkpoint`` writes ``name`` as the payload."""

    def __init__(self, work_dir: Path, name: str) -> None:
        self.work_dir = str(work_dir)
        self.epoch, self.iter = 0, 0
        self.message_hub = MessageHub.get_instance(name)
        self.logger = logging.getLogger(name)
        self.present_at_write: Dict[str, Set[str]] = {}
        self.train_loop = SimpleNamespace(max_epochs=100)

    def save_checkpoint(self, out_dir, filename, file_client_args=None, save_optimizer=True,
                        save_param_scheduler=True, meta=None, by_epoch=True, backend_args=None, **kwargs):
        path = os.path.join(out_dir, filename)
        self.present_at_write.setdefault(filename, set(os.listdir(out_dir)))  # at the first write
        get_file_backend(path, backend_args=backend_args).put(f"{filename} {meta}".encode(), path)


def _epoch(hook, runner, epoch: int, score: float) -> None:
    """Epoch ``epoch`` (1-based): its checkpoint, then its validation with ``score``."""
    runner.epoch, runner.iter = epoch - 1, epoch * 3
    hook.after_train_epoch(runner)
    runner.epoch = epoch
    hook.after_val_epoch(runner, {"acc/top1": score})


def _files(folder: Path) -> List[str]:
    return sorted(os.listdir(folder))


def _fail_writes_of(monkeypatch, name_part: str) -> None:
    """Every write of a file whose name contains ``name_part`` fails as on a full disk, after
    half the bytes reached the temporary file."""
    real = atomic_io.write_payload

    def write(fileobj, data):
        tmp_name = os.path.basename(os.readlink(f"/proc/self/fd/{fileobj.fileno()}"))  # .<name>.tmp-XXXX
        if name_part in tmp_name:
            fileobj.write(data[: len(data) // 2])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(fileobj, data)

    monkeypatch.setattr(atomic_io, "write_payload", write)


def test_new_best_is_written_before_the_old_one_is_removed(tmp_path):
    runner = StandInRunner(tmp_path, "ckpt_order")
    hook = AtomicCheckpointHook(interval=1, save_best="acc/top1", rule="greater", max_keep_ckpts=1, save_last=False)
    hook.before_train(runner)
    _epoch(hook, runner, 1, 0.5)
    _epoch(hook, runner, 2, 0.7)
    # when best_..._epoch_2 was written, the previous best and epoch_1 were still there
    assert "best_acc_top1_epoch_1.pth" in runner.present_at_write["best_acc_top1_epoch_2.pth"]
    assert "epoch_1.pth" in runner.present_at_write["epoch_2.pth"]
    assert _files(tmp_path) == ["best_acc_top1_epoch_2.pth", "epoch_2.pth", "last_checkpoint"]
    assert runner.message_hub.get_info("best_ckpt") == str(tmp_path / "best_acc_top1_epoch_2.pth")
    assert (tmp_path / "last_checkpoint").read_text() == str(tmp_path / "epoch_2.pth")
    # an equal score is not better: nothing changes
    _epoch(hook, runner, 3, 0.7)
    assert _files(tmp_path) == ["best_acc_top1_epoch_2.pth", "epoch_3.pth", "last_checkpoint"]


def test_mmengine_hook_removes_the_old_best_first(tmp_path):
    """The ordering the test above checks is not a given: mmengine's own hook deletes first."""
    runner = StandInRunner(tmp_path, "ckpt_order_mmengine")
    hook = CheckpointHook(interval=1, save_best="acc/top1", rule="greater", save_last=False)
    hook.before_train(runner)
    _epoch(hook, runner, 1, 0.5)
    _epoch(hook, runner, 2, 0.7)
    assert "best_acc_top1_epoch_1.pth" not in runner.present_at_write["best_acc_top1_epoch_2.pth"]


@pytest.mark.parametrize("failing", ["best_acc_top1_epoch_3", "epoch_3.pth"])
def test_full_disk_names_the_file_and_keeps_the_previous_ones(tmp_path, monkeypatch, failing):
    runner = StandInRunner(tmp_path, f"ckpt_enospc_{failing}")
    hook = AtomicCheckpointHook(interval=1, save_best="acc/top1", rule="greater", max_keep_ckpts=2, save_last=False)
    hook.before_train(runner)
    _epoch(hook, runner, 1, 0.5)
    _epoch(hook, runner, 2, 0.7)
    runner.epoch, runner.iter = 2, 9
    if failing.startswith("best"):  # epoch 3's checkpoint is written; its best checkpoint fails
        hook.after_train_epoch(runner)
    before = {name: (tmp_path / name).read_bytes() for name in _files(tmp_path)}
    assert "best_acc_top1_epoch_2.pth" in before and "last_checkpoint" in before

    _fail_writes_of(monkeypatch, failing)
    with pytest.raises(DiskFullError) as info:
        if failing.startswith("best"):
            runner.epoch = 3
            hook.after_val_epoch(runner, {"acc/top1": 0.9})
        else:
            hook.after_train_epoch(runner)
    target = tmp_path / (failing + ".pth" if failing.startswith("best") else failing)
    message = str(info.value)
    assert message.startswith(f"cannot write {target}: ") and "\n" not in message
    assert f"errno {errno.ENOSPC}" in message
    assert not target.exists()
    # every file that was there is still there, byte for byte (previous best, epochs, last_checkpoint)
    assert {name: (tmp_path / name).read_bytes() for name in _files(tmp_path)} == before
    assert not [n for n in _files(tmp_path) if ".tmp-" in n]


def test_stale_temporary_files_are_removed_at_start(tmp_path):
    stale = [".epoch_2.pth.tmp-k3j_x9ab", ".last_checkpoint.tmp-0a1b2c3d"]
    kept = [".hidden", "notes.tmp-1", "epoch_1.pth"]
    for name in stale + kept:
        (tmp_path / name).write_bytes(b"x" * 10)
    runner = StandInRunner(tmp_path, "ckpt_stale")
    AtomicCheckpointHook(interval=1).before_train(runner)
    assert _files(tmp_path) == sorted(kept)
