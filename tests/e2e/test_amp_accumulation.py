"""Mixed precision on the CPU (``--amp bf16``) and gradient accumulation through the real tools.

Gradient accumulation: ``optim_wrapper.accumulative_counts=2`` with 2 videos per step, and the
original ``optimizer_config.update_interval=2`` of a 0.x config, give the weights of 4 videos
per step, when nothing random depends on the batch split (drop_path_rate=0, dropout_ratio=0)
and the learning rate changes per epoch only (an iteration-based schedule steps once per
iteration, i.e. per accumulated micro-batch, see docs/training.md). Not bit-exact: the mean
over 4 videos and the sum of two halved means over 2 videos round differently (float32).

Label smoothing, lr_mult / no-decay groups and the optim wrappers' NaN handling are covered by
tests/engine (test_optim_wrappers.py, test_schedule.py, test_config_tools.py).
"""

import math

import pytest
import torch

from tests.e2e.conftest import NUM_TRAIN, SEED
from tests.engine.engine_testkit import (
    describe,
    dist_tool,
    load_checkpoint_file,
    output,
    read_scalars,
    tensor_differences,
    tensors_in,
)

pytestmark = pytest.mark.slow

EPOCHS = 2
NO_RANDOMNESS = ("model.backbone.drop_path_rate=0.", "model.cls_head.dropout_ratio=0.")
EPOCH_SCHEDULE = "param_scheduler = [dict(type='MultiStepLR', milestones=[1], gamma=0.1, by_epoch=True)]\n"
LEGACY_ACCUMULATION = """
optimizer_config = dict(grad_clip=None, update_interval=2)
lr_config = dict(policy='step', step=[1], gamma=0.1)
"""
# float32 rounding of a different reduction order, after 6 AdamW steps of lr <= 3e-3
ATOL = 1e-7  # measured: 1.1e-8


def _train(cfg, work_dir, *options, flags=()):
    proc = dist_tool("dist_train.sh", str(cfg), "--seed", SEED, "--deterministic", *flags, "--cfg-options",
                     f"work_dir={work_dir}", *options, nproc=1)
    assert proc.returncode == 0, describe(proc)
    return proc, load_checkpoint_file(work_dir / f"epoch_{EPOCHS}.pth")


def _adam_steps(ckpt):
    return {int(s["step"]) for s in ckpt["optimizer"]["state"].values()}


@pytest.fixture(scope="module")
def batch_of_4(make_config, tmp_path_factory):
    cfg = make_config("tiny_bs4", max_epochs=EPOCHS, batch_size=4, extra=EPOCH_SCHEDULE)
    return _train(cfg, tmp_path_factory.mktemp("e2e_bs4") / "w", *NO_RANDOMNESS)[1]


def test_accumulative_counts_equals_double_batch(batch_of_4, make_config, tmp_path):
    cfg = make_config("tiny_bs2", max_epochs=EPOCHS, batch_size=2, extra=EPOCH_SCHEDULE)
    proc, ckpt = _train(cfg, tmp_path / "w", *NO_RANDOMNESS, "optim_wrapper.accumulative_counts=2")
    assert f"Epoch(train) [1][{NUM_TRAIN // 2}/{NUM_TRAIN // 2}]" in output(proc), "6 iterations of 2 videos"
    assert _adam_steps(ckpt) == _adam_steps(batch_of_4) == {EPOCHS * NUM_TRAIN // 4}, "one update per 2 iterations"
    problems = tensor_differences(batch_of_4["state_dict"], ckpt["state_dict"], atol=ATOL)
    assert not problems, "\n".join(problems)
    problems = tensor_differences(tensors_in(batch_of_4["optimizer"]["state"]), tensors_in(ckpt["optimizer"]["state"]),
                                  atol=ATOL)
    assert not problems, "\n".join(problems)
    # not a no-op: the weights moved away from those of plain 2-video steps
    plain = _train(cfg, tmp_path / "plain", *NO_RANDOMNESS)[1]
    assert tensor_differences(batch_of_4["state_dict"], plain["state_dict"], atol=1e-4)


def test_original_update_interval_equals_double_batch(batch_of_4, make_config, tmp_path):
    cfg = make_config("tiny_legacy_ui2", legacy=True, max_epochs=EPOCHS, batch_size=2, extra=LEGACY_ACCUMULATION)
    proc, ckpt = _train(cfg, tmp_path / "w", *NO_RANDOMNESS)
    assert "optimizer_config (grad_clip, update_interval, use_fp16) -> optim_wrapper" in output(proc)
    assert _adam_steps(ckpt) == {EPOCHS * NUM_TRAIN // 4}
    problems = tensor_differences(batch_of_4["state_dict"], ckpt["state_dict"], atol=ATOL)
    assert not problems, "\n".join(problems)


def test_bf16_mixed_precision_trains_on_cpu(make_config, tmp_path):
    cfg = make_config("tiny_amp", max_epochs=EPOCHS)
    proc, ckpt = _train(cfg, tmp_path / "w", flags=("--amp", "bf16"))
    assert "--amp: MixedPrecisionOptimWrapper(dtype='bfloat16')" in output(proc)
    dumped = (tmp_path / "w" / "tiny_amp.py").read_text()  # the config as run, copied into the work dir
    assert "MixedPrecisionOptimWrapper" in dumped and "bfloat16" in dumped
    losses = [r["loss"] for r in read_scalars(tmp_path / "w") if "loss" in r]
    assert len(losses) == EPOCHS * NUM_TRAIN // 2 and all(math.isfinite(x) for x in losses)
    assert _adam_steps(ckpt) == {EPOCHS * NUM_TRAIN // 2}, "no update was skipped"
    assert "Non-finite loss" not in output(proc)
    # autocast casts inside the forward pass only: the weights stay float32 (and finite)
    for key, value in ckpt["state_dict"].items():
        if value.is_floating_point():
            assert value.dtype == torch.float32 and value.isfinite().all(), key
