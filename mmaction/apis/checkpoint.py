"""Loading model weights from released (mmcv-style), DDP, plain and mmengine checkpoint files."""

import os
from collections import OrderedDict
from typing import Dict, Tuple

import torch
from mmengine.logging import MMLogger, print_log
from torch import nn


def read_checkpoint(path: str) -> dict:
    """Reads a checkpoint file to a dict, safely first (``weights_only=True``).

    Files holding other objects (mmcv/mmengine metadata, optimizer and message-hub state) are
    re-read with ``weights_only=False``: only do that for files you trust.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"checkpoint file not found: {path}")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # noqa: BLE001 - metadata objects that the safe unpickler refuses
        return torch.load(path, map_location="cpu", weights_only=False)


def extract_state_dict(ckpt: dict) -> Dict[str, torch.Tensor]:
    """The model weights of a checkpoint dict, without a DDP ``module.`` prefix."""
    state = ckpt
    for key in ("state_dict", "model"):
        if isinstance(state, dict) and key in state and isinstance(state[key], dict):
            state = state[key]
            break
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError("the checkpoint holds no state dict of tensors (looked at the top level, 'state_dict', 'model')")
    out = OrderedDict()
    for k, v in state.items():
        out[k[len("module."):] if k.startswith("module.") else k] = v
    return out


def load_model_checkpoint(model: nn.Module, path: str, strict: bool = True) -> Tuple[list, list]:
    """Loads the weights of ``path`` into ``model``.

    Args:
        model: the model (e.g. ``Recognizer3D``).
        path: a released AIM checkpoint (``{'meta', 'state_dict', 'optimizer'}``), a DDP checkpoint
            (``module.`` prefix), a plain state dict, or a checkpoint written by our Runner.
        strict: require the keys to match exactly.

    Returns:
        (missing_keys, unexpected_keys).

    Raises:
        RuntimeError: naming the file and the keys or shapes that do not fit.
    """
    state = extract_state_dict(read_checkpoint(path))
    own = model.state_dict()
    bad_shapes = [
        f"{k}: checkpoint {tuple(v.shape)} vs model {tuple(own[k].shape)}"
        for k, v in state.items()
        if k in own and v.shape != own[k].shape and not k.endswith("temporal_embedding")
    ]
    if bad_shapes:
        raise RuntimeError(f"checkpoint {path} does not fit the model; shape mismatch in:\n  " + "\n  ".join(bad_shapes))
    result = model.load_state_dict(state, strict=False)
    missing, unexpected = list(result.missing_keys), list(result.unexpected_keys)
    if strict and (missing or unexpected):
        raise RuntimeError(
            f"checkpoint {path} does not fit the model: missing keys {missing[:10]}"
            f"{' ...' if len(missing) > 10 else ''}, unexpected keys {unexpected[:10]}"
            f"{' ...' if len(unexpected) > 10 else ''}"
        )
    print_log(
        f"loaded {path} ({len(state)} tensors, {len(missing)} missing, {len(unexpected)} unexpected)",
        logger=MMLogger.get_current_instance(),
    )
    return missing, unexpected
