"""ViT_ImageNet (AIM on an ImageNet-21k ViT) against an independent computation, its sizes, and
its pretrained-weights rules."""

import pytest
import timm
import torch
from mmengine.config import Config

from mmaction.apis import init_recognizer
from mmaction.models.backbones import PretrainedWeightsError
from mmaction.registry import MODELS

from .vit_reference import vit_imagenet_features

TINY = dict(img_size=32, patch_size=8, embed_dim=32, depth=2, num_heads=2)


def tiny_cfg(num_frames=4, num_tadapter=1, **backbone):
    bb = dict(type="ViT_ImageNet", num_frames=num_frames, num_tadapter=num_tadapter, adapter_scale=0.5,
              drop_path_rate=0.0, **TINY)
    bb.update(backbone)
    return dict(type="Recognizer3D", backbone=bb, cls_head=dict(type="I3DHead", num_classes=5, in_channels=bb["embed_dim"]))


def random_state(model, seed=0):
    g = torch.Generator().manual_seed(seed)
    state = {k: torch.randn(v.shape, generator=g) * 0.2 for k, v in model.state_dict().items()}
    return {k: (v.abs() + 0.5 if k.endswith(("norm1.weight", "norm2.weight", "ln_post.weight")) else v)
            for k, v in state.items()}


@pytest.mark.parametrize("num_tadapter", [1, 2])
def test_original_layout_loads_strictly_and_matches_reference(tmp_path, num_tadapter):
    cfg = Config(dict(model=tiny_cfg(num_tadapter=num_tadapter)))
    model = MODELS.build(cfg.model)
    state = random_state(model)
    torch.save({"meta": {}, "state_dict": state}, tmp_path / "aim_in21k.pth")
    loaded = init_recognizer(cfg, str(tmp_path / "aim_in21k.pth")).eval()  # strict key matching
    x = torch.randn(2, 3, 4, 32, 32)
    backbone_state = {k[len("backbone."):]: v for k, v in state.items() if k.startswith("backbone.")}
    ref = vit_imagenet_features(x, backbone_state, heads=2, layers=2, num_tadapter=num_tadapter, scale=0.5)
    with torch.no_grad():
        ours = loaded.backbone(x)
    assert ours.shape == (2, 32, 4, 1, 1)
    err = (ours[..., 0, 0].double() - ref).abs().max() / ref.abs().max()
    assert err < 1e-5, err


def test_parameter_counts_match_the_original_rule():
    with torch.device("meta"):
        model = MODELS.build(dict(type="Recognizer3D", backbone=dict(type="ViT_ImageNet", num_frames=8),
                                  cls_head=dict(type="I3DHead", num_classes=400, in_channels=768)))
    total = sum(p.numel() for p in model.parameters())
    tunable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert (round(total / 1e6, 2), round(tunable / 1e6, 2)) == (96.76, 10.97)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert "backbone.ln_post.weight" in trainable and "backbone.temporal_embedding" in trainable
    assert not any(".attn." in n or ".mlp." in n or "patch_embed" in n for n in trainable)


def _timm_vit(**kw):
    args = dict(pretrained=False, img_size=32, patch_size=8, embed_dim=32, depth=2, num_heads=2, num_classes=7)
    args.update(kw)
    return timm.create_model("vit_base_patch16_224", **args).eval()


def test_timm_weights_load_and_reproduce_timm_per_frame(tmp_path):
    """A timm ViT file (head left unused, norm -> ln_post) loads; with zero adapters and zero temporal
    embedding the video model computes timm's own class-token features frame by frame."""
    vit = _timm_vit()
    torch.save(vit.state_dict(), tmp_path / "vit.pth")
    model = MODELS.build(tiny_cfg(pretrained=str(tmp_path / "vit.pth"))).backbone
    model.init_weights()
    model.eval()
    x = torch.randn(2, 3, 3, 32, 32)  # 3 frames: temporal embedding resampled from 4
    with torch.no_grad():
        ours = model(x)[..., 0, 0]  # (B, D, T)
        frames = x.transpose(1, 2).reshape(6, 3, 32, 32)
        theirs = vit.forward_head(vit.forward_features(frames), pre_logits=True).view(2, 3, -1).transpose(1, 2)
    torch.testing.assert_close(ours, theirs, atol=1e-5, rtol=1e-5)
    assert not model.patch_embed.proj.weight.requires_grad and model.ln_post.weight.requires_grad


def test_wrong_weights_raise(tmp_path):
    dino = timm.create_model("vit_small_patch14_dinov2", pretrained=False, img_size=28, patch_size=14,
                             embed_dim=32, depth=2, num_heads=2, init_values=1e-5)
    torch.save(dino.state_dict(), tmp_path / "dinov2.pth")
    model = MODELS.build(tiny_cfg(pretrained=str(tmp_path / "dinov2.pth"))).backbone
    with pytest.raises(PretrainedWeightsError, match=r"dinov2\.pth.*ls1\.gamma"):
        model.init_weights()
    deep = _timm_vit(depth=3)
    torch.save(deep.state_dict(), tmp_path / "deep.pth")
    with pytest.raises(PretrainedWeightsError, match=r"deep\.pth.*blocks\.2\."):
        MODELS.build(tiny_cfg(pretrained=str(tmp_path / "deep.pth"))).backbone.init_weights()
    wide = _timm_vit(embed_dim=64)
    torch.save(wide.state_dict(), tmp_path / "wide.pth")
    with pytest.raises(PretrainedWeightsError, match=r"wide\.pth: key '.*' has shape"):
        MODELS.build(tiny_cfg(pretrained=str(tmp_path / "wide.pth"))).backbone.init_weights()
    state = _timm_vit().state_dict()
    state.pop("norm.weight")
    torch.save(state, tmp_path / "nonorm.pth")
    with pytest.raises(PretrainedWeightsError, match=r"nonorm\.pth.*ln_post\.weight"):
        MODELS.build(tiny_cfg(pretrained=str(tmp_path / "nonorm.pth"))).backbone.init_weights()


def test_safetensors_and_hub_cache_folder(tmp_path):
    from safetensors.torch import save_file

    vit = _timm_vit()
    snap = tmp_path / "models--timm--vit_tiny" / "snapshots" / "abc123"
    snap.mkdir(parents=True)
    (tmp_path / "models--timm--vit_tiny" / "refs").mkdir()
    (tmp_path / "models--timm--vit_tiny" / "refs" / "main").write_text("abc123")
    save_file({k: v.contiguous() for k, v in vit.state_dict().items()}, str(snap / "model.safetensors"))
    model = MODELS.build(tiny_cfg(pretrained=str(tmp_path / "models--timm--vit_tiny"))).backbone
    model.init_weights()
    torch.testing.assert_close(model.blocks[1].mlp.fc2.weight, vit.blocks[1].mlp.fc2.weight)
    torch.testing.assert_close(model.ln_post.bias, vit.norm.bias)


def test_ablation_switches_remove_adapters():
    model = MODELS.build(tiny_cfg(use_temporal=False, use_joint=False)).backbone
    keys = set(model.state_dict())
    assert not any("T_Adapter" in k or "MLP_Adapter" in k for k in keys)
    assert any("S_Adapter" in k for k in keys)


def _to_transformers_layout(timm_state, prefix="vit."):
    """timm ViT keys written out in Hugging Face transformers' ViTForImageClassification names (here,
    independently of the converter under test)."""
    out = {}
    for key, value in timm_state.items():
        parts = key.split(".")
        if key == "cls_token":
            out[prefix + "embeddings.cls_token"] = value
        elif key == "pos_embed":
            out[prefix + "embeddings.position_embeddings"] = value
        elif key.startswith("patch_embed.proj."):
            out[prefix + "embeddings.patch_embeddings.projection." + parts[-1]] = value
        elif key.startswith("norm."):
            out[prefix + "layernorm." + parts[-1]] = value
        elif key.startswith("head."):
            out["classifier." + parts[-1]] = value
        else:
            i, rest, kind = parts[1], ".".join(parts[2:-1]), parts[-1]
            layer = f"{prefix}encoder.layer.{i}."
            if rest == "attn.qkv":
                q, k, v = value.chunk(3, dim=0)
                for name, part in (("query", q), ("key", k), ("value", v)):
                    out[f"{layer}attention.attention.{name}.{kind}"] = part
            else:
                new = {"attn.proj": "attention.output.dense", "mlp.fc1": "intermediate.dense",
                       "mlp.fc2": "output.dense", "norm1": "layernorm_before", "norm2": "layernorm_after"}[rest]
                out[f"{layer}{new}.{kind}"] = value
    return out


def test_hugging_face_transformers_vit_hub_folder(tmp_path):
    from safetensors.torch import save_file

    vit = _timm_vit()
    hf = _to_transformers_layout(vit.state_dict())
    snap = tmp_path / "models--google--vit-tiny" / "snapshots" / "0123"
    snap.mkdir(parents=True)
    save_file({k: v.contiguous() for k, v in hf.items()}, str(snap / "model.safetensors"))
    model = MODELS.build(tiny_cfg(pretrained=str(tmp_path / "models--google--vit-tiny"))).backbone
    model.init_weights()
    model.eval()
    x = torch.randn(1, 3, 4, 32, 32)
    with torch.no_grad():
        ours = model(x)[..., 0, 0]
        theirs = vit.forward_head(vit.forward_features(x.transpose(1, 2)[0]), pre_logits=True).T[None]
    torch.testing.assert_close(ours, theirs, atol=1e-5, rtol=1e-5)
    hf.pop("vit.encoder.layer.1.attention.attention.value.bias")
    save_file({k: v.contiguous() for k, v in hf.items()}, str(snap / "model.safetensors"))
    with pytest.raises(PretrainedWeightsError, match=r"model\.safetensors.*encoder\.layer\.1"):
        MODELS.build(tiny_cfg(pretrained=str(snap / "model.safetensors"))).backbone.init_weights()
