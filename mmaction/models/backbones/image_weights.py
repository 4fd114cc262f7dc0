"""Loading an image model's pretrained weights into an adapted backbone, strictly.

Wrong weights are an error: after the backbone's own renaming, every key of the file must be a
parameter of the backbone with the same shape (only the image model's classifier head may be
left unused), and every parameter of the backbone must come from the file, except those the
adaptation adds (adapters, temporal embedding). The positional embedding is resampled to the
backbone's patch grid with timm's ``resample_abs_pos_embed``; a temporal embedding trained at
another frame count is resampled over time.
"""

import math
import os
import re
from typing import Callable, Dict, List, Optional, Sequence, Set, Tuple

import torch
from mmengine.logging import MMLogger
from timm.layers import resample_abs_pos_embed
from torch import nn

from ..utils import interpolate_temporal_embedding
from .adapter import Adapter
from .clip_checkpoint import PretrainedWeightsError, read_checkpoint, unwrap_state_dict

StateDict = Dict[str, torch.Tensor]

#: files looked for in a folder (a Hugging Face / timm / open_clip download)
WEIGHT_FILES = ("model.safetensors", "open_clip_model.safetensors", "pytorch_model.bin", "open_clip_pytorch_model.bin")


def adaptation_keys(module: nn.Module, extra: Sequence[str] = ("temporal_embedding",)) -> Set[str]:
    """State-dict keys of ``module`` that AIM's adaptation adds to the image model: everything inside
    an :class:`Adapter`, and the top-level keys ``extra`` (the temporal embedding)."""
    keys = {k for k in extra if k in module.state_dict()}
    for name, sub in module.named_modules():
        if isinstance(sub, Adapter):
            keys.update(f"{name}.{k}" for k in sub.state_dict())
    return keys


def resolve_weights_file(pretrained: str) -> str:
    """The weights file ``pretrained`` names: a file, a folder holding one of :data:`WEIGHT_FILES`,
    or a Hugging Face hub-cache folder (``models--org--name`` with ``snapshots/<rev>/``; the revision
    ``refs/main`` names is preferred).

    Raises:
        FileNotFoundError: nothing usable there (the message names the path and what was looked for).
    """
    path = os.path.expanduser(pretrained)
    if os.path.isfile(path):
        return path
    if not os.path.isdir(path):
        raise FileNotFoundError(f"pretrained weights not found: {pretrained} is neither a file nor a folder")
    folders = [path]
    snapshots = os.path.join(path, "snapshots")
    if os.path.isdir(snapshots):
        ref = os.path.join(path, "refs", "main")
        if os.path.isfile(ref):
            with open(ref) as f:
                folders.append(os.path.join(snapshots, f.read().strip()))
        folders += sorted(os.path.join(snapshots, d) for d in os.listdir(snapshots))
    for folder in folders:
        for name in WEIGHT_FILES:
            candidate = os.path.join(folder, name)
            if os.path.isfile(candidate):
                return candidate
    raise FileNotFoundError(f"pretrained folder {pretrained} holds none of {list(WEIGHT_FILES)} (nor a hub snapshot with one)")


def read_state_dict(pretrained: str) -> Tuple[str, StateDict]:
    """``(file, flat state dict)`` of ``pretrained``, read without executing code from it."""
    source = resolve_weights_file(pretrained)
    return source, unwrap_state_dict(read_checkpoint(source), source)


def strip_prefix(state: StateDict, prefixes: Sequence[str]) -> StateDict:
    """Removes the first of ``prefixes`` that every key of ``state`` starts with (e.g. ``'backbone.'``)."""
    for prefix in prefixes:
        if prefix and state and all(k.startswith(prefix) for k in state):
            return {k[len(prefix):]: v for k, v in state.items()}
    return state


def _summarise(items: List[str], limit: int = 6) -> str:
    return ", ".join(items[:limit]) + (f", ... ({len(items) - limit} more)" if len(items) > limit else "")


def fit_positional_embedding(value: torch.Tensor, target: torch.Size, num_prefix_tokens: int) -> torch.Tensor:
    """Resample a (1, P + g*g, D) (or (P + g*g, D)) positional embedding to ``target``'s square grid.

    Raises:
        ValueError: a length is not P + a square.
    """
    flat = value.reshape(1, -1, value.shape[-1]).float()
    old = flat.shape[1] - num_prefix_tokens
    new = target[-2] - num_prefix_tokens
    g_old, g_new = math.isqrt(max(old, 0)), math.isqrt(max(new, 0))
    if g_old * g_old != old or g_new * g_new != new:
        raise ValueError(f"{flat.shape[1]} -> {target[-2]} positions are not {num_prefix_tokens} + a square grid")
    out = resample_abs_pos_embed(flat, [g_new, g_new], [g_old, g_old], num_prefix_tokens=num_prefix_tokens)
    return out.reshape(target)


def load_image_weights(
    module: nn.Module,
    state: StateDict,
    source: str,
    *,
    adaptation_key: Callable[[str], bool],
    unused_key: Callable[[str], bool] = lambda key: False,
    pos_embed_key: Optional[str] = None,
    num_prefix_tokens: int = 1,
    temporal_key: str = "temporal_embedding",
    logger: Optional[MMLogger] = None,
) -> List[str]:
    """Load ``state`` (already in ``module``'s names) into ``module`` with strict checks.

    Args:
        module: the backbone.
        state: weights renamed to ``module``'s keys.
        source: the file (named in every error).
        adaptation_key: which of ``module``'s keys the adaptation adds (may be absent from the file).
        unused_key: which keys of the file may be left unused (the image model's classifier head).
        pos_embed_key: key of the absolute positional embedding, resampled when its grid differs.
        num_prefix_tokens: class / register tokens in front of the patch positions.
        temporal_key: key of the temporal embedding, resampled over time when its length differs.
        logger: defaults to the current MMLogger.

    Returns:
        The adaptation keys the file did not provide (kept at their initial values).

    Raises:
        PretrainedWeightsError: a shape that does not fit, a key of the file the model has no place
            for, or a key of the image model missing from the file; the message names the file and the
            first keys / shapes at fault.
    """
    logger = logger or MMLogger.get_current_instance()
    own = module.state_dict()
    state = {k: v for k, v in state.items() if not unused_key(k)}
    unexpected = sorted(k for k in state if k not in own)
    if unexpected:
        raise PretrainedWeightsError(
            f"{source}: {len(unexpected)} key(s) of the file have no place in {type(module).__name__} "
            f"(another architecture?): {_summarise(unexpected)}")
    fitted: StateDict = {}
    for key, value in state.items():
        target = own[key].shape
        if value.shape != target:
            try:
                if key == pos_embed_key and value.shape[-1] == target[-1]:
                    value = fit_positional_embedding(value, target, num_prefix_tokens)
                    logger.info(f"{source}: resampled {key} to {tuple(target)}")
                elif key == temporal_key and value.dim() == len(target) == 3 and value.shape[-1] == target[-1]:
                    value = interpolate_temporal_embedding(value.float(), target[1])
                    logger.info(f"{source}: resampled {key} from {tuple(state[key].shape)} to {tuple(target)}")
            except ValueError as err:
                raise PretrainedWeightsError(f"{source}: key '{key}': {err}") from err
            if value.shape != target:
                raise PretrainedWeightsError(
                    f"{source}: key '{key}' has shape {tuple(value.shape)} in the file but "
                    f"{type(module).__name__} expects {tuple(target)}; the file is another architecture "
                    "(width, depth, patch size or MLP ratio)")
        fitted[key] = value.detach().to(own[key].dtype)
    missing = [k for k in own if k not in fitted]
    required = [k for k in missing if not adaptation_key(k)]
    if required:
        raise PretrainedWeightsError(
            f"{source}: {len(required)} weight(s) of {type(module).__name__}'s image model are not in the file "
            f"(another architecture: missing LayerScale, norms or blocks?): {_summarise(required)}")
    module.load_state_dict(fitted, strict=False)
    if missing:
        patterns = sorted({re.sub(r"\.\d+\.", ".*.", k) for k in missing})
        logger.info(f"Not in {source} (added by the adaptation, kept at their initial values): {_summarise(patterns, 12)}")
    logger.info(f"Loaded {len(fitted)} tensors into {type(module).__name__} from {source}")
    return missing
