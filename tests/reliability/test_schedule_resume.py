"""ScheduleResumeHook in-process: what it records in checkpoints, what it re-derives, and what it
refuses (one line naming the scheduler) when a resume changes the iterations per epoch. The
end-to-end case (2 processes killed, resumed with 1) is tests/e2e/test_resume.py."""

import logging
import math
from types import SimpleNamespace

import pytest
import torch
from mmengine.config import Config
from mmengine.optim.scheduler import CosineAnnealingLR, LinearLR
from mmengine.runner import EpochBasedTrainLoop

from mmaction.engine.hooks import ScheduleResumeHook
from mmaction.engine.runner import ConfigError

BASE_LR = 0.1


def _loop(iters_per_epoch: int) -> EpochBasedTrainLoop:
    loop = object.__new__(EpochBasedTrainLoop)  # only what the hook reads: dataloader, a real loop type
    loop.dataloader = _Loader(iters_per_epoch)
    return loop


class _Loader:
    def __init__(self, iters_per_epoch: int) -> None:
        self.batch_size, self.dataset, self._n = 2, list(range(2 * iters_per_epoch)), iters_per_epoch

    def __len__(self) -> int:
        return self._n


def _build(cfgs, iters_per_epoch):
    """An optimizer and the schedulers mmengine's Runner would build for ``cfgs``."""
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=BASE_LR)
    kinds = dict(LinearLR=LinearLR, CosineAnnealingLR=CosineAnnealingLR)
    built = []
    for cfg in cfgs:
        args = {k: v for k, v in cfg.items() if k not in ("type", "convert_to_iter_based")}
        kind = kinds[cfg["type"]]
        if cfg.get("convert_to_iter_based") and cfg.get("by_epoch", True):
            built.append(kind.build_iter_from_epoch(optimizer, epoch_length=iters_per_epoch, **args))
        else:
            built.append(kind(optimizer, **args))
    return optimizer, built


def _runner(cfgs, iters_per_epoch, world_size=1):
    optimizer, schedulers = _build(cfgs, iters_per_epoch)
    return SimpleNamespace(
        _resume=True, _train_loop=_loop(iters_per_epoch), world_size=world_size, param_schedulers=schedulers,
        cfg=Config(dict(param_scheduler=cfgs)), optim_wrapper=SimpleNamespace(optimizer=optimizer),
        logger=logging.getLogger("schedule_resume_test"))


def _checkpoint_after(cfgs, iters_per_epoch, epochs, world_size=2):
    """The checkpoint a run with ``iters_per_epoch`` writes after ``epochs`` epochs."""
    runner = _runner(cfgs, iters_per_epoch, world_size)
    for _ in range(epochs):
        for _ in range(iters_per_epoch):
            for s in runner.param_schedulers:
                if not s.by_epoch:
                    s.step()
        for s in runner.param_schedulers:
            if s.by_epoch:
                s.step()
    checkpoint = dict(meta=dict(epoch=epochs, iter=epochs * iters_per_epoch),
                      param_schedulers=[s.state_dict() for s in runner.param_schedulers],
                      optimizer=runner.optim_wrapper.optimizer.state_dict())
    ScheduleResumeHook().before_save_checkpoint(runner, checkpoint)
    return checkpoint


WARMUP_COSINE = [
    dict(type="LinearLR", start_factor=0.1, by_epoch=True, begin=0, end=1, convert_to_iter_based=True),
    dict(type="CosineAnnealingLR", T_max=4, eta_min=0, by_epoch=True, begin=0, end=4, convert_to_iter_based=True),
]


def test_checkpoint_records_the_epoch_length():
    meta = _checkpoint_after(WARMUP_COSINE, 3, 1)["meta"]
    assert (meta["train_iters_per_epoch"], meta["train_world_size"], meta["train_batch_size"],
            meta["train_dataset_size"]) == (3, 2, 2, 6)


def test_epoch_schedule_is_rederived_for_the_new_epoch_length(caplog):
    checkpoint = _checkpoint_after(WARMUP_COSINE, 3, 2)  # 2 epochs of 3 iterations
    runner = _runner(WARMUP_COSINE, 5)  # resumed with 5 iterations per epoch
    with caplog.at_level(logging.INFO, logger="schedule_resume_test"):
        ScheduleResumeHook().after_load_checkpoint(runner, checkpoint)
    assert checkpoint["meta"]["iter"] == 10
    assert any("iterations per epoch 3 -> 5" in r.getMessage() for r in caplog.records)
    # load the patched checkpoint as mmengine's resume does, then train the 2 remaining epochs
    optimizer = runner.optim_wrapper.optimizer
    optimizer.load_state_dict(checkpoint["optimizer"])
    for scheduler, state in zip(runner.param_schedulers, checkpoint["param_schedulers"]):
        scheduler.load_state_dict(state)
    for t in range(10, 20):
        expected = BASE_LR * 0.5 * (1 + math.cos(math.pi * t / 20))  # warm-up over; cosine over 4 x 5
        assert optimizer.param_groups[0]["lr"] == pytest.approx(expected, rel=1e-9), t
        for scheduler in runner.param_schedulers:
            scheduler.step()


def test_mixing_converted_and_iteration_schedules_on_one_parameter_is_refused():
    mixed = [dict(type="LinearLR", start_factor=0.1, by_epoch=False, begin=0, end=4),
             dict(type="CosineAnnealingLR", T_max=4, eta_min=0, by_epoch=True, begin=0, end=4,
                  convert_to_iter_based=True)]
    checkpoint = _checkpoint_after(mixed, 3, 1)
    with pytest.raises(ConfigError, match=r"param_scheduler\[0\] \(LinearLR\) is iteration-based and acts on 'lr'"):
        ScheduleResumeHook().after_load_checkpoint(_runner(mixed, 5), checkpoint)


def test_unrecorded_epoch_length_is_inferred_from_the_converted_schedules():
    checkpoint = _checkpoint_after(WARMUP_COSINE, 3, 2)
    for key in ("train_iters_per_epoch", "train_world_size", "train_batch_size", "train_dataset_size"):
        del checkpoint["meta"][key]  # a checkpoint written before the hook existed
    ScheduleResumeHook().after_load_checkpoint(_runner(WARMUP_COSINE, 5), checkpoint)
    assert checkpoint["meta"]["iter"] == 10 and checkpoint["param_schedulers"][1]["T_max"] == 20


def test_unrecorded_epoch_length_that_cannot_be_inferred_is_refused():
    fractional = [dict(type="CosineAnnealingLR", T_max=2.5, eta_min=0, by_epoch=True, begin=0, end=2.5,
                       convert_to_iter_based=True)]
    checkpoint = _checkpoint_after(fractional, 3, 1)
    checkpoint["meta"] = dict(epoch=1, iter=4)  # no record; the end (2.5 epochs) gives no whole answer
    with pytest.raises(ConfigError, match=r"\(epoch 1, iteration 4\) does not record its iterations per epoch"):
        ScheduleResumeHook().after_load_checkpoint(_runner(fractional, 5), checkpoint)


def test_same_epoch_length_changes_nothing():
    checkpoint = _checkpoint_after(WARMUP_COSINE, 3, 2, world_size=1)
    before = repr(checkpoint)
    ScheduleResumeHook().after_load_checkpoint(_runner(WARMUP_COSINE, 3), checkpoint)
    assert repr(checkpoint) == before
