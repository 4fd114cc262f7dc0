"""Swin image weights for ``SwinTransformer2D_Adapter``: Microsoft's and timm's layouts, checked strictly.

Accepted files (read by :func:`read_checkpoint`, no code runs):

* Microsoft's Swin releases (e.g. ``swin_base_patch4_window7_224_22k.pth``): ``{'model': {...}}``,
  downsampling stored at the END of a stage (``layers.{i}.downsample``), classifier ``head.*``;
* timm's swin (``swin_base_patch4_window7_224`` names, ``.pth`` or ``.safetensors``): downsampling
  stored at the START of the next stage (``layers.{i+1}.downsample``), classifier ``head.fc.*``;
* a checkpoint of this backbone (the original AIM layout, optionally under ``backbone.`` or
  ``module.`` and inside ``state_dict``), adapters included.

Only the keys AIM adds (adapters, temporal bias tables, temporal embedding) may be absent from the
file; only the image classifier (``head.*``) and deterministic buffers (relative-position indices,
shifted-window masks) may be left unused. Anything else raises :class:`PretrainedWeightsError`
naming the file and the first keys or shapes that do not fit.
"""

import re
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple

import torch
from mmengine.logging import MMLogger
from torch import nn

from .clip_checkpoint import PretrainedWeightsError, read_checkpoint, unwrap_state_dict

StateDict = Dict[str, torch.Tensor]

#: Keys that AIM adds to the image model; they may be absent from an image checkpoint.
_ADAPTATION_KEY = re.compile(
    r"(^|\.)(T_Adapter|S_Adapter2?)\.|(^|\.)temporal_position_bias_table$|^temporal_embedding$")
#: Buffers that are a function of the geometry; recomputed by the model, ignored in files.
_DETERMINISTIC_BUFFER = re.compile(r"(^|\.)(relative_position_index|attn_mask|t_relative_coords)$")
_STAGE_DOWNSAMPLE = re.compile(r"^layers\.(\d+)\.downsample\.")
_BLOCK = re.compile(r"^layers\.(\d+)\.blocks\.(\d+)\.")


def is_adaptation_key(key: str) -> bool:
    """Whether ``key`` (backbone-relative) is a parameter AIM adds to the Swin image model."""
    return bool(_ADAPTATION_KEY.search(key))


def _first(keys: List[str], limit: int = 5) -> str:
    shown = ", ".join(repr(k) for k in keys[:limit])
    return shown + (f" ... ({len(keys)} in all)" if len(keys) > limit else "")


def _find_prefix(state: StateDict, source: str) -> str:
    prefixes = sorted((k[: -len("patch_embed.proj.weight")] for k in state if k.endswith("patch_embed.proj.weight")
                       and k[: -len("patch_embed.proj.weight")] + "layers.0.blocks.0.norm1.weight" in state), key=len)
    if not prefixes:
        raise PretrainedWeightsError(
            f"{source}: not a Swin checkpoint: no 'patch_embed.proj.weight' with 'layers.0.blocks.0.norm1.weight' "
            f"beside it; the first keys are {sorted(state)[:8]}")
    return prefixes[0]


def swin_layout(state: StateDict) -> str:
    """``'timm'`` when downsampling sits at the start of stages (timm >= 0.6), else ``'microsoft'``
    (Microsoft's releases and the original AIM layout: at the end of stages)."""
    stages = {int(m.group(1)) for k in state for m in [_STAGE_DOWNSAMPLE.match(k)] if m}
    return "timm" if stages and 0 not in stages else "microsoft"


def to_original_layout(state: StateDict, source: str) -> Tuple[StateDict, str, List[str]]:
    """Converts a Swin state dict to the original AIM / Microsoft key layout.

    Strips a common prefix (``backbone.``, ...), moves timm's ``layers.{i+1}.downsample`` to
    ``layers.{i}.downsample``, and drops the image classifier and deterministic buffers.

    Returns:
        ``(state, layout, dropped_keys)``.
    """
    prefix = _find_prefix(state, source)
    state = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    layout = swin_layout(state)
    out: StateDict = OrderedDict()
    dropped = []
    for key, value in state.items():
        if key.startswith("head.") or _DETERMINISTIC_BUFFER.search(key):
            dropped.append(key)
            continue
        if layout == "timm":
            key = _STAGE_DOWNSAMPLE.sub(lambda m: f"layers.{int(m.group(1)) - 1}.downsample.", key)
        out[key] = value
    return out, layout, dropped


def inflate_patch_embed(weight: torch.Tensor, time_size: int) -> torch.Tensor:
    """(C, 3, p, p) image patch embedding -> (C, 3, t, p, p): repeated over t and divided by t, so a
    tubelet of t identical frames gives the image model's patch embedding."""
    return weight.unsqueeze(2).repeat(1, 1, time_size, 1, 1) / time_size


def _architecture(state: StateDict) -> str:
    """'embed_dim=..., depths=(...)' read from a state dict in the original layout."""
    embed = state["patch_embed.proj.weight"].shape[0] if "patch_embed.proj.weight" in state else "?"
    blocks: Dict[int, set] = {}
    for key in state:
        m = _BLOCK.match(key)
        if m:
            blocks.setdefault(int(m.group(1)), set()).add(int(m.group(2)))
    depths = tuple(len(blocks[i]) for i in sorted(blocks))
    return f"embed_dim={embed}, depths={depths}"


def check_fits(state: StateDict, own: StateDict, source: str) -> None:
    """Raises :class:`PretrainedWeightsError` unless ``state`` (original layout, patch embedding
    inflated) fits ``own``, the model's state dict: same keys except the adaptation's, same shapes."""
    arch = f"the file holds {_architecture(state)}, the model {_architecture(own)}"
    unknown = [k for k in state if k not in own]
    if unknown:
        raise PretrainedWeightsError(f"{source}: keys the model does not have: {_first(unknown)}; {arch}")
    wrong = [f"'{k}' {tuple(v.shape)} in the file vs {tuple(own[k].shape)} in the model"
             for k, v in state.items() if v.shape != own[k].shape]
    if wrong:
        raise PretrainedWeightsError(f"{source}: shapes differ: {'; '.join(wrong[:3])}"
                                     f"{f' ... ({len(wrong)} in all)' if len(wrong) > 3 else ''}; {arch}")
    missing = [k for k in own if k not in state and not is_adaptation_key(k)]
    if missing:
        raise PretrainedWeightsError(f"{source}: model keys missing from the file: {_first(missing)}; {arch}")


def load_swin_pretrained(module: nn.Module, pretrained: str, time_size: int,
                         logger: Optional[MMLogger] = None) -> List[str]:
    """Loads Swin image weights (or a checkpoint of this backbone) into ``module``, strictly.

    Args:
        module: a ``SwinTransformer2D_Adapter``.
        pretrained: path of the file.
        time_size: the tubelet's time size t (inflation of a 2-D patch embedding).
        logger: defaults to ``MMLogger.get_current_instance()``.

    Returns:
        The model keys left at their initial values (the adaptation's keys absent from the file).

    Raises:
        FileNotFoundError: no such file.
        PretrainedWeightsError: not a Swin checkpoint, or another architecture (names the file and
            the first keys or shapes that do not fit).
    """
    logger = logger or MMLogger.get_current_instance()
    raw = unwrap_state_dict(read_checkpoint(pretrained, logger), pretrained)
    state, layout, dropped = to_original_layout(raw, pretrained)
    proj = state.get("patch_embed.proj.weight")
    if proj is not None and proj.dim() == 4:
        state["patch_embed.proj.weight"] = inflate_patch_embed(proj, time_size)
    own = module.state_dict()
    check_fits(state, own, pretrained)
    missing, unexpected = module.load_state_dict(state, strict=False)
    assert not unexpected and all(is_adaptation_key(k) for k in missing), (missing, unexpected)
    logger.info(f"Loaded {len(state)} Swin tensors from {pretrained} ({layout} layout); ignored "
                f"{len(dropped)} classifier/index keys; {len(missing)} adaptation keys keep their initial values")
    return list(missing)
