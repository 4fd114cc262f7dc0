"""SafeOptimWrapper (NaN/inf skip), MixedPrecisionOptimWrapper (bf16 on CPU), and the
TunableParamsOptimWrapperConstructor (frozen weights left out, no-decay keys, lr_mult)."""

import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.optim import DefaultOptimWrapperConstructor
from torch import nn

from mmaction.engine.optimizers import (
    MixedPrecisionOptimWrapper,
    NonFiniteLossError,
    SafeOptimWrapper,
    TunableParamsOptimWrapperConstructor,
)


def tiny_model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))


def snapshot(model):
    return [p.detach().clone() for p in model.parameters()]


def step_loss(model, wrapper, nan=False):
    with wrapper.optim_context(model):
        out = model(torch.randn(3, 4))
    loss = out.float().pow(2).mean()
    if nan:
        loss = loss * float("nan")
    wrapper.update_params(loss)
    return out


def test_nan_loss_is_skipped_and_counted():
    MessageHub.get_current_instance().update_info("iter", 6)
    model = tiny_model()
    wrapper = SafeOptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1), max_consecutive_nonfinite=3)
    before = snapshot(model)
    step_loss(model, wrapper, nan=True)
    assert all(torch.equal(a, b) for a, b in zip(before, snapshot(model))), "a NaN step changed the weights"
    assert all(p.grad is None or not p.grad.abs().sum() for p in model.parameters()), "NaN gradients kept"
    step_loss(model, wrapper)  # a finite step updates and resets the counter
    assert not all(torch.equal(a, b) for a, b in zip(before, snapshot(model)))
    assert wrapper.consecutive_nonfinite == 0 and wrapper.total_skipped_updates == 1


def test_nan_log_names_the_iteration(mm_log):
    MessageHub.get_current_instance().update_info("iter", 41)
    model = tiny_model()
    wrapper = SafeOptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    step_loss(model, wrapper, nan=True)
    out = "\n".join(mm_log)
    assert "Non-finite loss" in out and "iteration 42" in out and "skipped" in out


def test_consecutive_nonfinite_losses_stop_the_run():
    model = tiny_model()
    wrapper = SafeOptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1), max_consecutive_nonfinite=3)
    step_loss(model, wrapper, nan=True)
    step_loss(model, wrapper, nan=True)
    with pytest.raises(NonFiniteLossError, match="3 consecutive"):
        step_loss(model, wrapper, nan=True)


def test_accumulation_window_with_nan_is_dropped():
    model = tiny_model()
    wrapper = SafeOptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1), accumulative_counts=2)
    before = snapshot(model)
    step_loss(model, wrapper)  # accumulate, no step yet
    step_loss(model, wrapper, nan=True)  # window closes with a NaN: skipped
    assert all(torch.equal(a, b) for a, b in zip(before, snapshot(model)))
    step_loss(model, wrapper)
    step_loss(model, wrapper)  # clean window: one update
    assert not all(torch.equal(a, b) for a, b in zip(before, snapshot(model)))


def test_state_dict_round_trip_keeps_counters():
    model = tiny_model()
    wrapper = SafeOptimWrapper(torch.optim.AdamW(model.parameters(), lr=0.1))
    step_loss(model, wrapper)
    step_loss(model, wrapper, nan=True)
    state = wrapper.state_dict()
    other = SafeOptimWrapper(torch.optim.AdamW(tiny_model().parameters(), lr=0.1))
    other.load_state_dict(state)
    assert other.total_skipped_updates == 1 and other.consecutive_nonfinite == 1
    assert other.optimizer.state_dict()["state"].keys() == wrapper.optimizer.state_dict()["state"].keys()


def test_bf16_autocast_on_cpu_trains():
    model = tiny_model()
    wrapper = MixedPrecisionOptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1), dtype="bf16")
    before = snapshot(model)
    out = step_loss(model, wrapper)
    assert out.dtype == torch.bfloat16, "forward did not run under bf16 autocast"
    assert all(p.dtype == torch.float32 for p in model.parameters()), "master weights must stay fp32"
    assert not all(torch.equal(a, b) for a, b in zip(before, snapshot(model)))
    assert wrapper.loss_scaler is None


def test_fp16_on_cpu_falls_back_to_bf16(mm_log):
    model = tiny_model()
    wrapper = MixedPrecisionOptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1), dtype="fp16")
    assert wrapper.cast_dtype == torch.bfloat16 and wrapper.loss_scaler is None
    assert any("using bfloat16 instead" in m for m in mm_log)
    with pytest.raises(ValueError, match="unknown mixed precision dtype"):
        MixedPrecisionOptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1), dtype="int8")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="fp16 + GradScaler needs a GPU")
def test_fp16_gradscaler_on_gpu():
    model = tiny_model().cuda()
    wrapper = MixedPrecisionOptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1), dtype="fp16")
    with wrapper.optim_context(model):
        out = model(torch.randn(3, 4, device="cuda"))
    assert out.dtype == torch.float16
    wrapper.update_params(out.float().pow(2).mean())
    assert "loss_scaler" in wrapper.state_dict()


class ClipLike(nn.Module):
    """Names like AIM's: frozen CLIP weights, trainable adapters / ln_post / head."""

    def __init__(self):
        super().__init__()
        self.backbone = nn.Module()
        self.backbone.class_embedding = nn.Parameter(torch.zeros(4))
        self.backbone.ln_1 = nn.LayerNorm(4)
        self.backbone.attn = nn.Linear(4, 4)
        self.backbone.S_Adapter = nn.Linear(4, 4)
        self.backbone.ln_post = nn.LayerNorm(4)
        self.cls_head = nn.Linear(4, 3)
        for module in (self.backbone.ln_1, self.backbone.attn):
            for p in module.parameters():
                p.requires_grad_(False)
        self.backbone.class_embedding.requires_grad_(False)


def build(paramwise_cfg):
    cfg = dict(type="SafeOptimWrapper", optimizer=dict(type="AdamW", lr=3e-4, weight_decay=0.05))
    return TunableParamsOptimWrapperConstructor(cfg, paramwise_cfg)(ClipLike())


def group_of(wrapper, model_param_name, model):
    param = dict(model.named_parameters())[model_param_name]
    for group in wrapper.optimizer.param_groups:
        if any(p is param for p in group["params"]):
            return group
    return None


def _param_ids(wrapper) -> set:
    return {id(p) for g in wrapper.optimizer.param_groups for p in g["params"]}


def test_constructor_leaves_frozen_weights_out():
    custom = {k: dict(decay_mult=0.0) for k in ("class_embedding", "ln_1", "ln_post")}
    model = ClipLike()
    wrapper = TunableParamsOptimWrapperConstructor(
        dict(optimizer=dict(type="AdamW", lr=3e-4, weight_decay=0.05)), dict(custom_keys=custom))(model)
    assert isinstance(wrapper, SafeOptimWrapper)
    frozen = {name for name, p in model.named_parameters() if not p.requires_grad}
    assert frozen == {"backbone.class_embedding", "backbone.ln_1.weight", "backbone.ln_1.bias",
                      "backbone.attn.weight", "backbone.attn.bias"}
    in_optimizer = _param_ids(wrapper)
    for name, p in model.named_parameters():
        assert (id(p) in in_optimizer) == p.requires_grad, name
    # without paramwise options mmengine's stock constructor hands over model.parameters(), frozen included
    stock = DefaultOptimWrapperConstructor(
        dict(type="OptimWrapper", optimizer=dict(type="AdamW", lr=3e-4, weight_decay=0.05)))(model)
    assert all(id(p) in _param_ids(stock) for name, p in model.named_parameters() if name in frozen)
    ours = TunableParamsOptimWrapperConstructor(dict(optimizer=dict(type="AdamW", lr=3e-4, weight_decay=0.05)))(model)
    assert not any(id(p) in _param_ids(ours) for name, p in model.named_parameters() if name in frozen)
    assert group_of(wrapper, "backbone.ln_post.weight", model)["weight_decay"] == 0.0
    assert group_of(wrapper, "backbone.S_Adapter.weight", model)["weight_decay"] == 0.05
    assert group_of(wrapper, "cls_head.weight", model)["lr"] == 3e-4


def test_constructor_lr_mult_first_match_like_mmengine():
    # 'backbone' (8 chars) is tried before 'ln_post' (7): ln_post gets lr_mult 0.1 and keeps decay,
    # as with the original L/14 config under mmcv/mmengine.
    model = ClipLike()
    custom = {"backbone": dict(lr_mult=0.1), "ln_post": dict(decay_mult=0.0)}
    wrapper = TunableParamsOptimWrapperConstructor(
        dict(optimizer=dict(type="AdamW", lr=3e-4, weight_decay=0.05)), dict(custom_keys=custom))(model)
    adapter = group_of(wrapper, "backbone.S_Adapter.weight", model)
    ln_post = group_of(wrapper, "backbone.ln_post.bias", model)
    head = group_of(wrapper, "cls_head.weight", model)
    assert adapter["lr"] == pytest.approx(3e-5) and ln_post["lr"] == pytest.approx(3e-5)
    assert ln_post["weight_decay"] == pytest.approx(0.05)
    assert head["lr"] == pytest.approx(3e-4)
    with pytest.raises(ValueError, match="unsupported key"):
        TunableParamsOptimWrapperConstructor(dict(optimizer=dict(type="AdamW", lr=1.0)), dict(dcn_offset_lr_mult=1))


def _tiny_recognizer():
    from mmaction.registry import MODELS

    torch.manual_seed(0)
    return MODELS.build(dict(
        type="Recognizer3D",
        backbone=dict(type="ViT_CLIP", input_resolution=32, num_frames=2, patch_size=8, width=32, layers=1, heads=2,
                      num_tadapter=1, adapter_scale=0.5, drop_path_rate=0.0),
        cls_head=dict(type="I3DHead", num_classes=3, in_channels=32, dropout_ratio=0.0)))


def test_aim_training_steps_update_exactly_the_trainable_parameters():
    """On the real (tiny) AIM recognizer: the optimizer holds exactly the trainable parameters (the
    stock constructor holds all), each trainable one gets a non-zero gradient within three steps
    (zero-initialised adapters' first layers start moving at the second), frozen ones never do."""
    from mmaction.structures import ActionDataSample

    model = _tiny_recognizer().train()
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    frozen = {n for n, p in model.named_parameters() if not p.requires_grad}
    assert trainable and frozen and any("Adapter" in n for n in trainable)
    assert any("attn" in n for n in frozen) and "backbone.conv1.weight" in frozen
    # no weight decay: a parameter can only move through a non-zero gradient
    wrapper = TunableParamsOptimWrapperConstructor(
        dict(type="OptimWrapper", optimizer=dict(type="AdamW", lr=1e-2, weight_decay=0.0)))(model)
    stock = DefaultOptimWrapperConstructor(
        dict(type="OptimWrapper", optimizer=dict(type="AdamW", lr=1e-2, weight_decay=0.0)))(model)
    names = {id(p): n for n, p in model.named_parameters()}
    assert {names[i] for i in _param_ids(wrapper)} == trainable
    assert {names[i] for i in _param_ids(stock)} == trainable | frozen

    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    torch.manual_seed(1)
    video = torch.randn(2, 1, 3, 2, 32, 32)
    samples = [ActionDataSample().set_gt_label(0), ActionDataSample().set_gt_label(2)]
    for step in range(3):
        loss = model(video, samples, mode="loss")["loss_cls"]
        wrapper.update_params(loss)  # backward, step, zero_grad
        if step == 0:
            assert all(p.grad is None for n, p in model.named_parameters() if n in frozen)
    after = dict(model.named_parameters())
    unchanged = sorted(n for n in trainable if torch.equal(after[n].detach(), before[n]))
    assert not unchanged, f"trainable parameters that never changed: {unchanged}"
    moved = sorted(n for n in frozen if not torch.equal(after[n].detach(), before[n]))
    assert not moved, f"frozen parameters that changed: {moved}"
    assert all(not wrapper.optimizer.state[after[n]] for n in frozen if after[n] in wrapper.optimizer.state)
