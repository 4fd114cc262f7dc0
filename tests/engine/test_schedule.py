"""The AIM schedule of configs/_base_/schedules: AdamW settings, and the learning rate of every
iteration: cosine to 0 over the whole run times a linear warm-up over 2.5 epochs (mmcv's
CosineAnnealing + warmup='linear', warmup_by_epoch=True, warmup_iters=2.5, warmup_ratio=0.1)."""

import copy
import math

import pytest
import torch
from mmengine.config import Config

from mmaction.registry import PARAM_SCHEDULERS


def build_schedulers(cfgs, optimizer, epoch_length):
    """Builds the schedulers as mmengine's Runner does (convert_to_iter_based)."""
    built = []
    for cfg in copy.deepcopy(cfgs):
        cls = PARAM_SCHEDULERS.get(cfg.pop("type"))
        if cfg.pop("convert_to_iter_based", False):
            built.append(cls.build_iter_from_epoch(optimizer, epoch_length=epoch_length, **cfg))
        else:
            built.append(cls(optimizer, **cfg))
    return built


def lr_curve(cfgs, base_lr, epochs, epoch_length):
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.AdamW([param], lr=base_lr)
    schedulers = build_schedulers(cfgs, optimizer, epoch_length)
    lrs = []
    for _ in range(epochs):
        for _ in range(epoch_length):
            lrs.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            for s in schedulers:
                if not s.by_epoch:
                    s.step()
        for s in schedulers:
            if s.by_epoch:
                s.step()
    return lrs


@pytest.mark.parametrize("name,epochs", [("adamw_cosine_30e", 30), ("adamw_cosine_50e", 50)])
def test_aim_schedule(repo_root, name, epochs):
    cfg = Config.fromfile(str(repo_root / "configs/_base_/schedules" / f"{name}.py"))
    assert cfg.train_cfg.max_epochs == epochs and cfg.train_cfg.val_interval == 5
    opt = cfg.optim_wrapper.optimizer
    assert (opt.type, opt.lr, tuple(opt.betas), opt.weight_decay) == ("AdamW", 3e-4, (0.9, 0.999), 0.05)
    keys = cfg.optim_wrapper.paramwise_cfg.custom_keys
    assert {k: v["decay_mult"] for k, v in keys.items()} == {
        k: 0.0 for k in ("class_embedding", "positional_embedding", "ln_1", "ln_2", "ln_pre", "ln_post")}
    assert cfg.optim_wrapper.constructor == "TunableParamsOptimWrapperConstructor"

    epoch_length = 8
    lrs = lr_curve(cfg.param_scheduler, 3e-4, epochs, epoch_length)
    total, warm = epochs * epoch_length, int(2.5 * epoch_length)
    for i, lr in enumerate(lrs):
        cosine = 0.5 * (1 + math.cos(math.pi * i / total))
        warmup = 0.1 + 0.9 * min(i, warm - 1) / (warm - 1)  # full lr one iteration before mmcv's
        assert lr == pytest.approx(3e-4 * cosine * warmup, rel=1e-6, abs=1e-12), f"iteration {i}"
    assert lrs[0] == pytest.approx(3e-5)
    assert max(lrs) == pytest.approx(3e-4 * 0.5 * (1 + math.cos(math.pi * (warm - 1) / total)))
    assert lrs[-1] < 3e-4 * 1e-3  # cosine to 0
