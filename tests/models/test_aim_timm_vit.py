"""AIMTimmViT: AIM on timm's ViT family (ViT, DINOv2 with LayerScale and registers, SigLIP without
class token, CLIP towers). Tiny models built with pretrained=False; nothing downloads."""

import pytest
import timm
import torch

from mmaction.models.backbones import AIMTimmViT, PretrainedWeightsError
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample

TINY = dict(embed_dim=32, depth=2, num_heads=2)
# (timm name, extra kwargs incl. image and patch size)
FAMILIES = {
    "vit": ("vit_small_patch16_224", dict(img_size=32, patch_size=8)),
    "dinov2_reg": ("vit_small_patch14_reg4_dinov2", dict(img_size=28, patch_size=14, init_values=1e-5)),
    "siglip_map": ("vit_base_patch16_siglip_224", dict(img_size=32, patch_size=8)),
    "clip_quickgelu": ("vit_base_patch16_clip_quickgelu_224", dict(img_size=32, patch_size=8)),
    "vit_avg": ("vit_small_patch16_224", dict(img_size=32, patch_size=8, global_pool="avg")),
}


def timm_model(family):
    name, extra = FAMILIES[family]
    torch.manual_seed(0)
    model = timm.create_model(name, pretrained=False, **TINY, **extra).eval()
    with torch.no_grad():  # LayerScale and norms away from their init, so that a lost one shows
        for n, p in model.named_parameters():
            if n.endswith("gamma") or "norm" in n:
                p.add_(0.3 * torch.randn_like(p))
    return name, extra, model


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_unadapted_model_reproduces_timm_per_frame(tmp_path, family):
    name, extra, vit = timm_model(family)
    torch.save(vit.state_dict(), tmp_path / f"{family}.pth")
    kwargs = dict(extra)
    img = kwargs.pop("img_size")
    pool = kwargs.pop("global_pool", None)
    backbone = AIMTimmViT(name, pretrained=str(tmp_path / f"{family}.pth"), num_frames=3, img_size=img,
                          global_pool=pool, timm_kwargs=dict(**TINY, **kwargs))
    backbone.init_weights()
    backbone.eval()
    x = torch.randn(2, 3, 3, img, img)
    with torch.no_grad():
        ours = backbone(x)[..., 0, 0]
        frames = x.transpose(1, 2).reshape(6, 3, img, img)
        theirs = vit.forward_head(vit.forward_features(frames), pre_logits=True).view(2, 3, -1).transpose(1, 2)
    assert ours.shape == theirs.shape
    torch.testing.assert_close(ours, theirs, atol=1e-5, rtol=1e-5)
    # what trains: the adapters, temporal embedding and read-out; timm's own blocks stay frozen
    trainable = {n for n, p in backbone.named_parameters() if p.requires_grad and not n.startswith("vit.attn_pool.")}
    assert "temporal_embedding" in trainable and any("T_Adapter" in n for n in trainable)
    assert not any(".attn.qkv" in n or ".mlp.fc" in n or "patch_embed" in n or n.endswith("ls1.gamma") for n in trainable)


def test_dinov2_and_vit_s_weights_refused_by_vit_clip(tmp_path):
    """A ViT_CLIP given DINOv2 (LayerScale) or plain ViT (no ln_pre) weights must not load."""
    for family in ("dinov2_reg", "vit"):
        name, extra, vit = timm_model(family)
        torch.save(vit.state_dict(), tmp_path / f"{family}.pth")
        patch, img = extra["patch_size"], extra["img_size"]
        clip = MODELS.build(dict(type="ViT_CLIP", input_resolution=img, patch_size=patch, width=32, layers=2, heads=2,
                                 num_frames=2, pretrained=str(tmp_path / f"{family}.pth")))
        with pytest.raises(PretrainedWeightsError, match=rf"{family}\.pth.*(ls1|reg_token|ln_pre)"):
            clip.init_weights()


def test_foreign_weights_refused_by_timm_backbone(tmp_path):
    _, _, dino = timm_model("dinov2_reg")
    torch.save(dino.state_dict(), tmp_path / "dino.pth")
    name, extra = FAMILIES["vit"]
    kwargs = dict(extra)
    backbone = AIMTimmViT(name, pretrained=str(tmp_path / "dino.pth"), img_size=kwargs.pop("img_size"),
                          timm_kwargs=dict(**TINY, **kwargs))
    with pytest.raises(PretrainedWeightsError, match=r"dino\.pth"):
        backbone.init_weights()
    # a DINOv2 backbone given plain-ViT weights: LayerScale missing
    _, _, plain = timm_model("vit")
    name, extra = FAMILIES["dinov2_reg"]
    kwargs = dict(extra)
    dino_backbone = AIMTimmViT(name, pretrained=str(tmp_path / "dino.pth"), img_size=kwargs.pop("img_size"),
                               timm_kwargs=dict(**TINY, **kwargs))
    state = dino.state_dict()
    state = {k: v for k, v in state.items() if "ls1" not in k}
    torch.save(state, tmp_path / "no_ls.pth")
    dino_backbone.pretrained = str(tmp_path / "no_ls.pth")
    with pytest.raises(PretrainedWeightsError, match=r"no_ls\.pth.*ls1\.gamma"):
        dino_backbone.init_weights()


def test_mean_std_from_pretrained_config_and_config_override():
    name, extra = FAMILIES["clip_quickgelu"]
    kwargs = dict(extra)
    bb = dict(type="AIMTimmViT", model_name=name, num_frames=2, img_size=kwargs.pop("img_size"),
              timm_kwargs=dict(**TINY, **kwargs))
    head = dict(type="I3DHead", num_classes=3, in_channels=32)
    model = MODELS.build(dict(type="Recognizer3D", backbone=bb, cls_head=head))
    want = [255 * m for m in timm.create_model(name, pretrained=False, **TINY, **extra).pretrained_cfg["mean"]]
    torch.testing.assert_close(model.data_preprocessor.mean.flatten(), torch.tensor(want))
    override = MODELS.build(dict(type="Recognizer3D", backbone=bb, cls_head=head, data_preprocessor=dict(
        type="ActionDataPreprocessor", mean=[1.0, 2.0, 3.0], std=[4.0, 5.0, 6.0])))
    assert override.data_preprocessor.mean.flatten().tolist() == [1.0, 2.0, 3.0]
    # the recognizer trains a step: gradients reach the adapters only
    clips = [torch.randint(0, 256, (1, 3, 2, 32, 32), dtype=torch.uint8) for _ in range(2)]
    data = model.data_preprocessor(dict(inputs=clips, data_samples=[ActionDataSample().set_gt_label(i) for i in (0, 2)]), True)
    model(data["inputs"], data["data_samples"], mode="loss")["loss_cls"].backward()
    assert model.backbone.vit.blocks[0].MLP_Adapter.D_fc1.weight.grad is not None
    assert model.backbone.vit.blocks[0].attn.qkv.weight.grad is None


def test_non_vit_model_is_refused():
    with pytest.raises(ValueError, match="not a VisionTransformer"):
        AIMTimmViT("resnet18")


def test_post_norm_blocks_are_refused():
    from timm.models.vision_transformer import ResPostBlock

    with pytest.raises(ValueError, match="ResPostBlock is not timm's pre-norm"):
        AIMTimmViT("vit_small_patch16_224", img_size=32, timm_kwargs=dict(patch_size=8, block_fn=ResPostBlock, **TINY))
