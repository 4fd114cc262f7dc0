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
    assert (first - _scores(full, x)).norm() / first.norm() < 2e-2  # folded silu vs QuickGELU, in bf16
    assert torch.equal(first, _scores(frozen, x))  # served from the cache
    cache = frozen.backbone.transformer.resblocks[0].mlp.c_fc.__dict__["_frozen_cast_cache"]
    assert any(v[1].dtype == torch.bfloat16 for v in cache.values())
    # new weights in place invalidate the cache
    new_state = {k: v + 0.1 * torch.randn_like(v) for k, v in frozen.state_dict().items()}
    frozen.load_state_dict(new_state)
    full.load_state_dict(new_state)
    fresh = MODELS.build(tiny_model_cfg()).eval()
    fresh.load_state_dict(new_state)
    assert torch.equal(_scores(frozen, x), _scores(fresh, x))  # no stale cached weight
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


def test_fast_paths_equal_plain_modules_in_float64():
    """Folded-silu MLP and fused residual adds give the plain modules' numbers."""
    torch.manual_seed(0)
    model = MODELS.build(tiny_model_cfg()).double().eval()
    block = model.backbone.transformer.resblocks[0]
    xn = torch.randn(8, 17, 32, dtype=torch.float64)
    mlp = block.mlp
    assert mlp.can_fold()  # frozen weights: the folded path runs
    fc = xn @ mlp.c_fc.weight.T + mlp.c_fc.bias
    plain = (fc * torch.sigmoid(1.702 * fc)) @ mlp.c_proj.weight.T + mlp.c_proj.bias
    torch.testing.assert_close(mlp(xn), plain, atol=1e-12, rtol=1e-10)
    h = torch.randn_like(xn)
    torch.testing.assert_close(block.residual_add(xn, h, 4, 0.5), xn + 0.5 * h)


def test_drop_path_modes():
    torch.manual_seed(0)
    model = MODELS.build(tiny_model_cfg(drop_path_rate=0.5))
    block = model.backbone.transformer.resblocks[1]  # rate 0.5 (linear over depth from 0)
    assert block.drop_path_rate == 0.5 and model.backbone.transformer.resblocks[0].drop_path_rate == 0.0
    block.train()
    x = torch.zeros(6, 17, 32)
    h = torch.ones(6, 17, 32)
    out = block.residual_add(x, h, num_frames=3)
    # token mode (original): one draw per token position, shared by all frames
    assert torch.equal(out, out[:1].expand_as(out))
    assert set(out.unique().tolist()) <= {0.0, 2.0}
    sample = MODELS.build(tiny_model_cfg(drop_path_rate=0.5, drop_path_mode="sample")).backbone.transformer.resblocks[1]
    sample.train()
    out = sample.residual_add(x, h, num_frames=3)
    per_video = out.view(2, 3 * 17 * 32)
    assert all(len(v.unique()) == 1 for v in per_video)
    block.eval()
    assert torch.equal(block.residual_add(x, h, 3), h)
