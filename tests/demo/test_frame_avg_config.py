"""The demo's two configs side by side: the frame-averaging baseline is the frozen image model
with a linear head on time-averaged features (only the head trains, the adapters stay at their
zero function, the model cannot see frame order); the AIM config trains the adapters and can."""

import pytest
import torch
from mmengine.config import Config

from .conftest import DEMO_CONFIG, FRAME_AVG_CONFIG


def build(path, pretrained=None):
    from mmaction.registry import MODELS

    cfg = Config.fromfile(str(path))
    cfg.model.backbone.pretrained = pretrained
    torch.manual_seed(0)
    return cfg, MODELS.build(cfg.model)


def test_baseline_differs_from_the_demo_only_in_tuning_lr_and_work_dir():
    demo, base = Config.fromfile(str(DEMO_CONFIG)), Config.fromfile(str(FRAME_AVG_CONFIG))
    assert base.model.backbone.tuning == "linear_probe" and demo.model.backbone.tuning == "adapter"
    assert base.work_dir != demo.work_dir
    # same data, same pre-trained image model
    assert base.custom_hooks == demo.custom_hooks and base.custom_imports == demo.custom_imports
    for loader in ("train_dataloader", "val_dataloader", "test_dataloader"):
        assert base[loader].dataset == demo[loader].dataset, loader
    for key in ("train_pipeline", "val_pipeline", "test_pipeline", "train_cfg", "param_scheduler", "val_evaluator"):
        assert base[key] == demo[key], key
    b = dict(base.model.backbone, tuning=None)
    d = dict(demo.model.backbone, tuning=None)
    assert b == d
    assert base.model.cls_head == demo.model.cls_head


def test_baseline_trains_only_the_head():
    from mmengine.optim import build_optim_wrapper

    cfg, model = build(FRAME_AVG_CONFIG)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {"cls_head.fc_cls.weight", "cls_head.fc_cls.bias"}
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    in_optimizer = {id(p) for g in wrapper.optimizer.param_groups for p in g["params"]}
    assert in_optimizer == {id(model.cls_head.fc_cls.weight), id(model.cls_head.fc_cls.bias)}


def test_baseline_adapters_are_frozen_at_their_zero_function():
    _, model = build(FRAME_AVG_CONFIG)
    backbone = model.backbone
    adapters = [m for n, m in backbone.named_modules() if n.endswith("Adapter") or n.endswith("Adapter_in")]
    assert len(adapters) == 2 * 4  # 2 blocks x (S, T, MLP, T_in): num_tadapter=2
    x = torch.randn(3, 17, 64)
    for adapter in adapters:
        assert not any(p.requires_grad for p in adapter.parameters())
        assert torch.count_nonzero(adapter.D_fc2.weight) == 0 and torch.count_nonzero(adapter.D_fc2.bias) == 0
        expected = x if adapter.skip_connect else torch.zeros_like(x)
        torch.testing.assert_close(adapter(x), expected)
    assert torch.count_nonzero(backbone.temporal_embedding) == 0 and not backbone.temporal_embedding.requires_grad


def test_baseline_cannot_see_frame_order_but_aim_can():
    """Reversing the frames (moving left -> moving right) leaves the baseline's scores unchanged;
    the AIM model, once its temporal embedding and adapters are non-zero (trained), changes."""
    torch.manual_seed(1)
    video = torch.randn(2, 3, 8, 48, 48)
    reversed_video = video.flip(2)
    _, baseline = build(FRAME_AVG_CONFIG)
    baseline.eval()
    with torch.no_grad():
        a = baseline.backbone(video)  # (B, D, T, 1, 1)
        b = baseline.backbone(reversed_video)
        torch.testing.assert_close(a, b.flip(2), rtol=1e-4, atol=1e-5)  # each frame's feature is its own
        torch.testing.assert_close(baseline.cls_head(a), baseline.cls_head(b), rtol=1e-4, atol=1e-6)

    _, aim = build(DEMO_CONFIG)
    with torch.no_grad():  # stand-in for training: every trainable tensor made non-zero
        for name, p in aim.named_parameters():
            if p.requires_grad and ("Adapter" in name or name.endswith("temporal_embedding")):
                p.normal_(0, 1.0 if name.endswith("temporal_embedding") else 0.2)
    aim.eval()
    with torch.no_grad():
        a = aim.backbone(video).mean(2)  # what the head classifies: the time-averaged features
        b = aim.backbone(reversed_video).mean(2)
    assert (a - b).abs().max() > 1e-3 * a.abs().max()  # the baseline's differ by rounding only (< 1e-5)


def test_aim_config_trains_adapters_temporal_embedding_ln_post_and_head():
    _, model = build(DEMO_CONFIG)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert "backbone.temporal_embedding" in trainable and "backbone.ln_post.weight" in trainable
    assert any("T_Adapter_in" in n for n in trainable) and "cls_head.fc_cls.weight" in trainable
    assert not any(n.startswith("backbone.transformer.resblocks.0.attn.") for n in trainable)
    assert "backbone.conv1.weight" not in trainable


@pytest.mark.parametrize("path", [DEMO_CONFIG, FRAME_AVG_CONFIG])
def test_demo_configs_have_no_flip(path):
    cfg = Config.fromfile(str(path))
    for key in ("train_pipeline", "val_pipeline", "test_pipeline"):
        assert not any(t["type"] == "Flip" for t in cfg[key]), key  # a flip turns "left" into "right"
