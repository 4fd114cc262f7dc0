"""The composable adapted block: every part runs through its own forward (a LoRA wrapper on a frozen
linear takes effect), what trains is declared by modules, and the switches give the image block back."""

import copy

import pytest
import torch
from timm.models.vision_transformer import Block
from torch import nn

from mmaction.models.backbones.aim_block import TIMM_PART_NAMES, AIMBlock
from mmaction.models.utils import apply_tuning, mark_tunable
from mmaction.registry import MODELS

from .test_vit_clip import tiny_model_cfg


class LoRALinear(nn.Module):
    """A LoRA wrapper written here: ``base(x) + B(A(x)) * alpha``; A, B train with the adapters."""

    trains_with_adapters = False

    def __init__(self, base: nn.Linear, rank: int = 2, alpha: float = 1.0) -> None:
        super().__init__()
        self.base = base
        self.lora_down = mark_tunable(nn.Linear(base.in_features, rank, bias=False))
        self.lora_up = mark_tunable(nn.Linear(rank, base.out_features, bias=False))
        nn.init.zeros_(self.lora_up.weight)
        self.alpha = alpha

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + self.alpha * self.lora_up(self.lora_down(x))


@pytest.mark.parametrize("where", ["mlp.c_fc", "mlp.c_proj", "attn.out_proj"])
def test_lora_on_a_frozen_linear_of_a_clip_block_changes_the_output(where):
    torch.manual_seed(0)
    model = MODELS.build(tiny_model_cfg()).eval()
    x = torch.randn(1, 1, 3, 4, 32, 32)
    block = model.backbone.transformer.resblocks[1]
    parent_name, leaf = where.rsplit(".", 1)
    parent = block.get_submodule(parent_name)
    base = getattr(parent, leaf)
    assert not base.weight.requires_grad  # frozen CLIP weight
    with torch.no_grad():
        before = model(x, mode="tensor")
        setattr(parent, leaf, LoRALinear(base))
        model.backbone.apply_tuning()
        same = model(x, mode="tensor")  # LoRA up-projection at zero: unchanged
        getattr(parent, leaf).lora_up.weight.normal_(std=0.5)
        after = model(x, mode="tensor")
    torch.testing.assert_close(same, before, atol=1e-6, rtol=1e-6)
    assert (after - before).abs().max() > 1e-3
    # the wrapper's parameters train because they are declared, whatever their names
    trainable = {n for n, p in model.backbone.named_parameters() if p.requires_grad}
    assert f"transformer.resblocks.1.{where}.lora_down.weight" in trainable
    assert f"transformer.resblocks.1.{where}.base.weight" not in trainable


def test_lora_on_a_timm_block_of_vit_imagenet_changes_the_output():
    torch.manual_seed(0)
    backbone = MODELS.build(dict(type="ViT_ImageNet", img_size=32, patch_size=8, embed_dim=32, depth=1, num_heads=2,
                                 num_frames=2)).eval()
    x = torch.randn(1, 3, 2, 32, 32)
    with torch.no_grad():
        before = backbone(x)
        backbone.blocks[0].mlp.fc1 = LoRALinear(backbone.blocks[0].mlp.fc1)
        backbone.blocks[0].mlp.fc1.lora_up.weight.normal_(std=0.5)
        after = backbone(x)
    assert (after - before).abs().max() > 1e-3


def test_adaptation_switches_off_give_the_image_block():
    """With every adaptation off, the adapted block computes timm's own Block; with adapters at zero
    (on), too: the adapted model starts as the image model."""
    torch.manual_seed(0)
    block = Block(32, 2, qkv_bias=True, init_values=0.5).eval()
    x = torch.randn(6, 5, 32)
    want = block(x)
    off = AIMBlock(block.norm1, block.attn, block.norm2, block.mlp, width=32, ls1=block.ls1, ls2=block.ls2,
                   part_names=TIMM_PART_NAMES, use_temporal=False, use_spatial=False, use_joint=False).eval()
    assert not any("Adapter" in k for k in off.state_dict())
    torch.testing.assert_close(off(x, num_frames=3), want)
    on = AIMBlock(block.norm1, block.attn, block.norm2, block.mlp, width=32, ls1=block.ls1, ls2=block.ls2,
                  part_names=TIMM_PART_NAMES).eval()
    torch.testing.assert_close(on(x, num_frames=3), want)
    assert set(block.state_dict()) <= set(on.state_dict())  # timm's names kept


def test_tuning_is_declared_by_modules_not_names():
    model = nn.Module()
    model.renamed_adapter_free = mark_tunable(nn.Linear(2, 2))
    model.frozen = nn.Linear(2, 2)
    model.embedding = nn.Parameter(torch.zeros(3))
    mark_tunable(model, ["embedding"])
    apply_tuning(model, "adapter")
    assert {n for n, p in model.named_parameters() if p.requires_grad} == {
        "embedding", "renamed_adapter_free.weight", "renamed_adapter_free.bias"}
    apply_tuning(model, "full")
    assert all(p.requires_grad for p in model.parameters())
    apply_tuning(model, "linear_probe")
    assert not any(p.requires_grad for p in model.parameters())
    with pytest.raises(ValueError, match="no direct parameter"):
        mark_tunable(model, ["nope"])
    with pytest.raises(ValueError, match="tuning"):
        apply_tuning(model, "lora")


def test_vit_clip_ablation_switches_keep_released_names():
    full = MODELS.build(tiny_model_cfg())
    spatial_only = MODELS.build(tiny_model_cfg(use_temporal=False, use_joint=False))
    keys = set(spatial_only.state_dict())
    assert keys < set(full.state_dict())
    assert not any("T_Adapter" in k or "MLP_Adapter" in k for k in keys)
    frozen = copy.deepcopy(spatial_only.state_dict())
    spatial_only.load_state_dict(frozen)  # strict


def test_docs_backbones_example_runs(repo_root):
    """The 'add your own image model in one file' example of docs/backbones.md runs as written."""
    import re

    text = (repo_root / "docs" / "backbones.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) == 1
    namespace: dict = {}
    exec(compile(blocks[0], "docs/backbones.md", "exec"), namespace)  # noqa: S102 (our own doc)
    model = namespace["model"]
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert "temporal_embedding" in trainable and "norm.weight" in trainable
    assert not any(".attn." in n for n in trainable)
