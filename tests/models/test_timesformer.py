"""TimeSformer (divided space-time baseline) against an independent computation, its size, its
tuning default and its CLIP-weight loading."""

import pytest
import torch
from mmengine.config import Config

from mmaction.apis import init_recognizer
from mmaction.models.backbones import PretrainedWeightsError
from mmaction.registry import MODELS

from .vit_reference import timesformer_features

TINY = dict(input_resolution=32, patch_size=8, width=32, layers=2, heads=2)


def tiny_cfg(**backbone):
    bb = dict(type="TimeSformer", num_frames=4, drop_path_rate=0.0, **TINY)
    bb.update(backbone)
    return dict(type="Recognizer3D", backbone=bb, cls_head=dict(type="I3DHead", num_classes=5, in_channels=32))


def test_original_layout_loads_strictly_and_matches_reference(tmp_path):
    cfg = Config(dict(model=tiny_cfg()))
    model = MODELS.build(cfg.model)
    g = torch.Generator().manual_seed(1)
    state = {k: torch.randn(v.shape, generator=g) * 0.2 for k, v in model.state_dict().items()}
    state = {k: v.abs() + 0.5 if k.endswith(("ln_1.weight", "ln_2.weight", "t_norm.weight", "ln_pre.weight",
                                             "ln_post.weight")) else v for k, v in state.items()}
    assert {"backbone.transformer.resblocks.0.t_attn.in_proj_weight", "backbone.transformer.resblocks.1.t_norm.bias",
            "backbone.transformer.resblocks.0.T_Adapter.weight"} <= set(state)
    torch.save({"meta": {}, "state_dict": state}, tmp_path / "timesformer.pth")
    loaded = init_recognizer(cfg, str(tmp_path / "timesformer.pth")).eval()  # strict key matching
    x = torch.randn(2, 3, 4, 32, 32)
    ref = timesformer_features(x, {k[9:]: v for k, v in state.items() if k.startswith("backbone.")}, heads=2, layers=2)
    with torch.no_grad():
        ours = loaded.backbone(x)[..., 0, 0]
    err = (ours.double() - ref).abs().max() / ref.abs().max()
    assert err < 1e-5, err


def test_size_and_tuning():
    with torch.device("meta"):
        model = MODELS.build(dict(type="Recognizer3D", backbone=dict(type="TimeSformer", num_frames=8),
                                  cls_head=dict(type="I3DHead", num_classes=400, in_channels=768)))
    total = sum(p.numel() for p in model.parameters())
    assert round(total / 1e6, 2) == 121.57
    assert all(p.requires_grad for p in model.parameters())  # tuning='full' by default
    original_rule = MODELS.build(tiny_cfg(tuning="adapter"))
    trainable = {n for n, p in original_rule.named_parameters() if p.requires_grad}
    assert trainable == {"backbone.temporal_embedding", "backbone.ln_post.weight", "backbone.ln_post.bias",
                         "cls_head.fc_cls.weight", "cls_head.fc_cls.bias"} | {
        f"backbone.transformer.resblocks.{i}.T_Adapter.{p}" for i in range(2) for p in ("weight", "bias")}


def test_clip_weights_initialise_temporal_attention(tmp_path):
    clip = MODELS.build(dict(type="ViT_CLIP", num_frames=4, **TINY))
    state = {k: v for k, v in clip.state_dict().items() if "Adapter" not in k and k != "temporal_embedding"}
    state = {k: v + 0.01 * torch.randn_like(v) for k, v in state.items()}
    torch.save({"visual." + k: v for k, v in state.items()}, tmp_path / "clip.pth")
    backbone = MODELS.build(dict(tiny_cfg(pretrained=str(tmp_path / "clip.pth"))["backbone"]))
    backbone.init_weights()
    block = backbone.transformer.resblocks[1]
    torch.testing.assert_close(block.t_attn.in_proj_weight, state["transformer.resblocks.1.attn.in_proj_weight"])
    torch.testing.assert_close(block.t_norm.weight, state["transformer.resblocks.1.ln_1.weight"])
    torch.testing.assert_close(backbone.ln_pre.bias, state["ln_pre.bias"])
    state.pop("ln_pre.weight")
    torch.save({"visual." + k: v for k, v in state.items()}, tmp_path / "noln.pth")
    with pytest.raises(PretrainedWeightsError, match=r"noln\.pth.*ln_pre\.weight"):
        MODELS.build(dict(tiny_cfg(pretrained=str(tmp_path / "noln.pth"))["backbone"])).init_weights()
