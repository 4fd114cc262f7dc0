"""A run SIGKILLed after epoch 1 of 3 and restarted with ``--resume`` ends with exactly the weights
(and optimizer state) of an uninterrupted run with the same seed: model, optimizer, scheduler,
epoch/iteration, sampler epoch and every rank's random generator states come back from the
checkpoint, and validation does not shift the training's random stream.

Bit-exact (tolerance 0): on the CPU with ``--deterministic`` and ``num_workers=0`` both runs do
the same floating-point operations in the same order. The tiny config keeps drop_path (0.1),
dropout (0.5) and random flips on, so the random stream really has to be restored.
"""

import math
from pathlib import Path

import pytest

from tests.e2e.conftest import KILL_AFTER_EPOCH_1, SEED
from tests.engine.engine_testkit import (
    describe,
    dist_tool,
    load_checkpoint_file,
    output,
    read_logs,
    tensor_differences,
    run_dirs,
    tensors_in,
)

pytestmark = pytest.mark.slow

EPOCHS = 3
FLAGS = ("--validate", "--seed", SEED, "--deterministic")


def _kill_and_resume(cfg, work_dir, nproc):
    # the same command twice, as a job script that always passes --resume (e.g. after preemption):
    # the first start finds no checkpoint and trains from scratch until it is killed
    killed = dist_tool("dist_train.sh", str(cfg), *FLAGS, "--resume", "--cfg-options", f"work_dir={work_dir}",
                       nproc=nproc)
    assert killed.returncode != 0, "the kill hook did not fire\n" + describe(killed)
    assert "--resume: no complete checkpoint in" in output(killed), describe(killed)
    assert "training starts from scratch" in output(killed)
    assert (work_dir / "epoch_1.pth").is_file(), describe(killed)
    assert not (work_dir / "epoch_2.pth").exists(), "the run went on after the kill"
    resumed = dist_tool("dist_train.sh", str(cfg), *FLAGS, "--resume", "--cfg-options", f"work_dir={work_dir}",
                        nproc=nproc)
    assert resumed.returncode == 0, describe(resumed)
    text = output(resumed) + read_logs(work_dir)
    assert f"--resume: continuing from {work_dir / 'epoch_1.pth'}" in text
    assert "RNGStateHook: random generator states restored from the checkpoint" in text
    assert "Epoch(train) [1]" not in output(resumed), "the resumed run trained epoch 1 again"
    # killed after epoch 1's checkpoint, before its validation: that validation runs first
    assert "resume: the checkpoint of epoch 1 was written before its validation finished" in text
    assert "Epoch(val) [1]" in output(resumed)
    return resumed


def _assert_same_final_state(reference, resumed):
    ref = load_checkpoint_file(reference)
    new = load_checkpoint_file(resumed)
    assert (new["meta"]["epoch"], new["meta"]["iter"]) == (ref["meta"]["epoch"], ref["meta"]["iter"])
    problems = tensor_differences(ref["state_dict"], new["state_dict"], atol=0.0)
    assert not problems, "final weights differ:\n" + "\n".join(problems)
    problems = tensor_differences(tensors_in(ref["optimizer"]), tensors_in(new["optimizer"]), atol=0.0)
    assert not problems, "final optimizer states differ:\n" + "\n".join(problems)
    assert ref["param_schedulers"] == new["param_schedulers"]
    _assert_same_best_bookkeeping(reference.parent, resumed.parent, ref, new)


def _assert_same_best_bookkeeping(ref_dir, new_dir, ref, new):
    """The same best files on disk, and the same best score and best file recorded in the last
    checkpoint (the killed run's epoch 1 was validated after the resume, as in the reference)."""
    assert sorted(p.name for p in new_dir.glob("best_*.pth")) == sorted(p.name for p in ref_dir.glob("best_*.pth"))
    ref_info, new_info = ref["message_hub"]["runtime_info"], new["message_hub"]["runtime_info"]
    assert "best_score" in ref_info
    assert new_info["best_score"] == ref_info["best_score"]
    assert Path(new_info["best_ckpt"]).name == Path(ref_info["best_ckpt"]).name
    assert Path(new_info["best_ckpt"]).parent == new_dir and Path(new_info["best_ckpt"]).is_file()


def test_resume_after_kill_matches_uninterrupted_run_1_process(make_config, tmp_path):
    cfg = make_config("tiny_3e_1p", max_epochs=EPOCHS)
    kill_cfg = make_config("tiny_3e_1p_kill", max_epochs=EPOCHS, extra=KILL_AFTER_EPOCH_1)
    reference = dist_tool("dist_train.sh", str(cfg), *FLAGS, "--cfg-options", f"work_dir={tmp_path / 'ref'}",
                          nproc=1)
    assert reference.returncode == 0, describe(reference)
    _kill_and_resume(kill_cfg, tmp_path / "killed", nproc=1)
    _assert_same_final_state(tmp_path / "ref" / f"epoch_{EPOCHS}.pth", tmp_path / "killed" / f"epoch_{EPOCHS}.pth")


def test_resume_after_kill_matches_uninterrupted_run_2_processes(dist_run, make_config, tmp_path):
    # reference: the session's uninterrupted 2-process run (same seed, --deterministic; its extra
    # --test-last only runs after the last checkpoint)
    assert dist_run.proc.returncode == 0, describe(dist_run.proc)
    kill_cfg = make_config("tiny_3e_2p_kill", max_epochs=EPOCHS, extra=KILL_AFTER_EPOCH_1)
    _kill_and_resume(kill_cfg, tmp_path / "killed", nproc=2)
    _assert_same_final_state(dist_run.work_dir / f"epoch_{EPOCHS}.pth", tmp_path / "killed" / f"epoch_{EPOCHS}.pth")


def test_resume_from_missing_file_is_one_error_line(make_config, tmp_path):
    cfg = make_config("tiny_1e", max_epochs=1)
    proc = dist_tool("dist_train.sh", str(cfg), "--resume-from", str(tmp_path / "nope.pth"), "--cfg-options",
                     f"work_dir={tmp_path / 'w'}", nproc=1)
    assert proc.returncode == 2, describe(proc)
    assert proc.stderr.strip().splitlines() == [
        f"error: --resume-from {tmp_path / 'nope.pth'}: no such file, or not a complete checkpoint"]
    assert not (tmp_path / "w").exists()


def _logged_lr(work_dir, run_index):
    """``{iteration (1-based): lr}`` logged by one run (``run_index`` in start order) of a work dir."""
    import json

    folder = run_dirs(work_dir)[run_index]
    records = [json.loads(line) for line in (folder / "vis_data" / "scalars.json").read_text().splitlines() if line]
    return {r["step"]: r["lr"] for r in records if "lr" in r and "loss" in r}


def test_resume_with_another_world_size_keeps_the_epoch_schedule(make_config, tmp_path):
    """2 processes (3 iterations per epoch) killed after epoch 1, resumed with 1 process (6 per epoch):
    every remaining iteration trains at the lr of a 1-process schedule of the same 3 epochs, computed
    here in closed form: warm-up (LinearLR, 1 epoch) x cosine (T_max 3 epochs) converted to 6
    iterations per epoch, lr(t) = 3e-3 * 0.5 * (1 + cos(pi * t / 18)) for t >= 6 (warm-up over).
    Before the fix the cosine, converted for 3 iterations per epoch, reached 0 at iteration 9."""
    work_dir = tmp_path / "killed"
    kill_cfg = make_config("tiny_3e_2p_kill_then_1p", max_epochs=EPOCHS, extra=KILL_AFTER_EPOCH_1)
    args = (str(kill_cfg), *FLAGS, "--resume", "--cfg-options", f"work_dir={work_dir}")
    killed = dist_tool("dist_train.sh", *args, nproc=2)
    assert killed.returncode != 0 and (work_dir / "epoch_1.pth").is_file(), describe(killed)
    assert load_checkpoint_file(work_dir / "epoch_1.pth")["meta"]["iter"] == 3
    resumed = dist_tool("dist_train.sh", *args, nproc=1)
    assert resumed.returncode == 0, describe(resumed)
    ipe_1p, total = 6, 6 * EPOCHS
    lrs = _logged_lr(work_dir, -1)
    assert sorted(lrs) == list(range(ipe_1p + 1, total + 1)), sorted(lrs)  # iterations 7..18, none repeated
    for step, lr in lrs.items():
        t = step - 1  # the lr an iteration uses was set after the previous one
        expected = 3e-3 * 0.5 * (1 + math.cos(math.pi * t / total))
        assert lr == pytest.approx(expected, rel=1e-6, abs=1e-12), (step, lr, expected)
    assert min(lrs.values()) > 1e-5  # the last iteration (t=17) is at 3e-3 * 0.0076
    text = output(resumed)
    assert ("resume: iterations per epoch 3 -> 6 (world size 2 -> 1, batch size 2 -> 2, dataset length 12 -> 12): "
            "epoch-based schedules ['LinearLR', 'CosineAnnealingLR'] re-derived for 6 iterations per epoch from "
            "epoch 1 (iteration 3 -> 6)") in text, describe(resumed)
    assert "resume: not carried over exactly: which samples each process and batch draws" in text

    final = load_checkpoint_file(work_dir / f"epoch_{EPOCHS}.pth")
    assert (final["meta"]["epoch"], final["meta"]["iter"]) == (EPOCHS, total)
    assert final["meta"]["train_iters_per_epoch"] == ipe_1p and final["meta"]["train_world_size"] == 1
