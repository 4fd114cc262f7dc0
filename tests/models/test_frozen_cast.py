"""The cached autocast copies of frozen weights give the same numbers as autocast itself."""

import torch

from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample

from .test_vit_clip import tiny_model_cfg


def _scores(model, x):
    with torch.autocast("cpu", dtype=torch.bfloat16):
        return model(x, mode="tensor").float()


def test_cached_cast_equals_autocast_and_follows_weight_updates():
    torch.manual_seed(0)
    frozen = MODELS.build(tiny_model_cfg()).eval()
    full = MODELS.build(tiny_model_cfg(tuning="full")).eval()  # trainable weights: autocast casts them itself
    full.load_state_dict(frozen.state_dict())
    x = torch.randn(2, 1, 3, 4, 32, 32)
    first = _scores(frozen, x)
    assert torch.equal(first, _scores(full, x))
    assert torch.equal(first, _scores(frozen, x))  # served from the cache
    cache = frozen.backbone.transformer.resblocks[0].mlp.c_fc.__dict__["_frozen_cast_cache"]
    assert any(v[1].dtype == torch.bfloat16 for v in cache.values())
    # new weights in place invalidate the cache
    new_state = {k: v + 0.1 * torch.randn_like(v) for k, v in frozen.state_dict().items()}
    frozen.load_state_dict(new_state)
    full.load_state_dict(new_state)
    assert torch.equal(_scores(frozen, x), _scores(full, x))
    assert not torch.equal(_scores(frozen, x), first)


def test_inference_mode_cache_does_not_leak_into_training():
    model = MODELS.build(tiny_model_cfg())
    x = torch.randn(1, 1, 3, 4, 32, 32)
    model.eval()
    with torch.inference_mode():
        _scores(model, x)
    model.train()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = model(x, [ActionDataSample().set_gt_label(0)], mode="loss")["loss_cls"]
    loss.backward()
    assert model.backbone.transformer.resblocks[0].T_Adapter.D_fc1.weight.grad is not None
