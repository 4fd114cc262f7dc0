"""Numerical faults during training: a NaN loss at chosen iterations is detected, logged with
its iteration, its update skipped (the weights do not move) and training goes on; too many bad
iterations in a row stop the run with a clear message and a non-zero exit, keeping the
checkpoints already written. fp16 overflow is the GradScaler's job (GPU only).

The optimizer wrapper's own unit tests are in tests/engine/test_optim_wrappers.py; these run
tools/train.py end to end with :class:`EngineTestNaNRecognizer` (tests/engine/engine_testkit.py)."""

import json
import math
import re

import pytest
import torch

from mmaction.engine.runner import is_complete_checkpoint
from tests.engine.engine_testkit import load_state
from tests.reliability.reliability_kit import checkpoints, describe, output, reliability_config, run_train

pytestmark = pytest.mark.slow

PROBE = "custom_hooks = [dict(type='RNGStateHook'), dict(type='ReliabilityTestWeightProbe')]\n"


def _probe(work_dir):
    return {int(k): v for k, v in json.loads((work_dir / "weight_probe.json").read_text()).items()}


def test_nan_loss_step_is_skipped_and_training_continues(videos, tmp_path):
    cfg = reliability_config(tmp_path / "cfg.py", videos.train, videos.test, videos.test, max_epochs=2,
                             model_type="EngineTestNaNRecognizer", extra=PROBE + "model['nan_iters'] = [3, 6]\n")
    proc = run_train(cfg, tmp_path / "work")
    assert proc.returncode == 0, describe(proc)
    text = output(proc)
    for it in (3, 6):
        assert re.search(rf"Non-finite loss \(\[nan\]\) at iteration {it}: this update is skipped", text), describe(proc)
    assert len(re.findall(r"Non-finite loss", text)) == 2

    probe = _probe(tmp_path / "work")
    assert sorted(probe) == list(range(1, 9))  # 2 epochs x 4 iterations, all ran
    assert [it for it, r in probe.items() if not r["changed"]] == [3, 6], probe  # only the NaN steps left weights alone
    assert probe[3]["skipped_updates"] == 1 and probe[8]["skipped_updates"] == 2

    assert checkpoints(tmp_path / "work") == ["epoch_1.pth", "epoch_2.pth"]
    state = load_state(tmp_path / "work" / "epoch_2.pth")
    assert all(torch.isfinite(v).all() for v in state.values() if v.is_floating_point())


def test_too_many_nan_steps_in_a_row_stop_the_run_and_keep_checkpoints(videos, tmp_path):
    cfg = reliability_config(tmp_path / "cfg.py", videos.train, videos.test, videos.test, max_epochs=3,
                             model_type="EngineTestNaNRecognizer",
                             extra=PROBE + "model['nan_iters'] = [2, 6, 7]\n"
                                           "optim_wrapper['max_consecutive_nonfinite'] = 2\n")
    proc = run_train(cfg, tmp_path / "work")
    text = output(proc)
    assert proc.returncode not in (0, None) and proc.returncode > 0, describe(proc)
    # iteration 2 alone is tolerated; 6 and 7 in a row reach the limit of 2
    assert "1 non-finite iteration(s) in a row, the run stops at 2" in text
    assert "NonFiniteLossError: the loss was NaN/inf for 2 consecutive iterations (last at iteration 7)" in text
    assert "Epoch(train) [2][3/4]" not in text  # nothing after iteration 7 (epoch 2, batch 3)
    probe = _probe(tmp_path / "work")
    assert max(probe) == 6 and not probe[6]["changed"] and probe[5]["changed"]
    # the checkpoint written before the fault is intact and is what --resume would use
    work = tmp_path / "work"
    assert checkpoints(work) == ["epoch_1.pth"] and is_complete_checkpoint(str(work / "epoch_1.pth"))
    assert (work / "last_checkpoint").read_text().strip().endswith("epoch_1.pth")


@pytest.mark.skipif(not torch.cuda.is_available(),
                    reason="fp16 loss scaling (torch.amp.GradScaler) needs a CUDA GPU; on a CPU --amp fp16 falls "
                           "back to bf16, which needs no scaler")
def test_fp16_overflow_is_skipped_by_the_grad_scaler(videos, tmp_path):
    """An iteration whose fp16 gradients overflow (loss x 1e30, finite in fp32) is skipped by the
    GradScaler, which halves its scale; the run goes on and ends with finite weights."""
    extra = PROBE + ("model['overflow_iters'] = [3]\n"
                     "optim_wrapper['loss_scale'] = dict(init_scale=256.0)\n")
    cfg = reliability_config(tmp_path / "cfg.py", videos.train, videos.test, videos.test, max_epochs=2,
                             model_type="ReliabilityTestOverflowRecognizer", extra=extra)
    proc = run_train(cfg, tmp_path / "work", "--amp", "fp16", deterministic=False)
    assert proc.returncode == 0, describe(proc)
    assert "MixedPrecisionOptimWrapper(dtype='float16')" in output(proc)
    probe = _probe(tmp_path / "work")
    assert sorted(probe) == list(range(1, 9))
    assert not probe[3]["changed"], probe  # the overflowing step left the weights alone
    assert probe[4]["changed"] and probe[8]["changed"]
    assert math.isclose(probe[3]["loss_scale"], probe[2]["loss_scale"] / 2), probe  # the scaler backed off
    assert probe[3]["skipped_updates"] == 0  # a finite loss: not a NaN skip, the scaler's own
    state = load_state(tmp_path / "work" / "epoch_2.pth")
    assert all(torch.isfinite(v).all() for v in state.values() if v.is_floating_point())
