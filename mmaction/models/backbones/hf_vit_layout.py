"""Hugging Face ``transformers`` ViT weights (``ViTModel`` / ``ViTForImageClassification``) in timm's names."""

import re
from typing import Dict, Tuple

import torch

from .clip_checkpoint import PretrainedWeightsError

StateDict = Dict[str, torch.Tensor]

_TOP = {
    "embeddings.cls_token": "cls_token",
    "embeddings.position_embeddings": "pos_embed",
    "embeddings.patch_embeddings.projection.weight": "patch_embed.proj.weight",
    "embeddings.patch_embeddings.projection.bias": "patch_embed.proj.bias",
    "layernorm.weight": "norm.weight",
    "layernorm.bias": "norm.bias",
}
_BLOCK = {
    "attention.output.dense": "attn.proj",
    "intermediate.dense": "mlp.fc1",
    "output.dense": "mlp.fc2",
    "layernorm_before": "norm1",
    "layernorm_after": "norm2",
}
#: parts of a transformers checkpoint that are the image model's classifier head
HF_HEAD_PREFIXES = ("classifier.", "pooler.")


def is_hf_vit(state: StateDict) -> bool:
    """Whether ``state`` is in the transformers ViT layout (optionally under ``vit.``)."""
    return any(k.endswith("embeddings.patch_embeddings.projection.weight") for k in state)


def convert_hf_vit(state: StateDict, source: str) -> StateDict:
    """transformers ViT keys -> timm ViT keys; separate q/k/v projections are stacked into ``attn.qkv``.

    Returns:
        The timm-named tensors, the classifier / pooler dropped. Keys with no timm counterpart are
        kept under their own names, so that the strict loading that follows reports them.

    Raises:
        PretrainedWeightsError: a block lacks one of its q, k, v projections (the message names
            ``source`` and the block).
    """
    prefix = "vit." if any(k.startswith("vit.") for k in state) else ""
    out: StateDict = {}
    qkv: Dict[Tuple[str, str], Dict[str, torch.Tensor]] = {}
    for key, value in state.items():
        if prefix and key.startswith(prefix):
            key = key[len(prefix):]
        if key.startswith(HF_HEAD_PREFIXES):
            continue
        if key in _TOP:
            out[_TOP[key]] = value
            continue
        layer = re.match(r"encoder\.layer\.(\d+)\.(.+)\.(weight|bias)$", key)
        if not layer:
            out[key] = value
            continue
        index, part, kind = layer.groups()
        split = re.match(r"attention\.attention\.(query|key|value)$", part)
        if split:
            qkv.setdefault((index, kind), {})[split.group(1)] = value
        elif part in _BLOCK:
            out[f"blocks.{index}.{_BLOCK[part]}.{kind}"] = value
        else:
            out[key] = value
    for (index, kind), parts in sorted(qkv.items()):
        if set(parts) != {"query", "key", "value"}:
            raise PretrainedWeightsError(
                f"{source}: encoder.layer.{index}: found only the {sorted(parts)} projections' {kind}, need "
                "query, key and value")
        out[f"blocks.{index}.attn.qkv.{kind}"] = torch.cat([parts["query"], parts["key"], parts["value"]], dim=0)
    return out
