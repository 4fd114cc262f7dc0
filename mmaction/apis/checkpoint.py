"""Loading model weights from released (mmcv-style), DDP, plain and mmengine checkpoint files.

Files are read by :func:`mmaction.utils.safe_load.read_checkpoint_file`: tensors and plain data only,
no code from the file runs; a file that would need it is refused with ``UnsafeCheckpointError``.
"""

from typing import Any, Dict, Tuple

import torch
from mmengine.logging import MMLogger, print_log
from torch import nn

from mmaction.utils.safe_load import read_checkpoint_file, unwrap_state_dict


def read_checkpoint(path: str) -> Any:
    """Reads a checkpoint file safely (see :func:`mmaction.utils.safe_load.read_checkpoint_file`).

    Returns:
        What the file holds, usually a dict (``{'meta', 'state_dict', 'optimizer', ...}`` or a state dict).

    Raises:
        FileNotFoundError: ``path`` is not a file.
        mmaction.utils.safe_load.UnsafeCheckpointError: reading it would run code from the file.
        mmaction.utils.safe_load.CheckpointReadError: the file is damaged or not a checkpoint.
    """
    return read_checkpoint_file(path)


def extract_state_dict(ckpt: Any, source: str = "checkpoint") -> Dict[str, torch.Tensor]:
    """The model weights of a checkpoint dict (under ``state_dict``/``model``/...), without a DDP
    ``module.`` prefix (see :func:`mmaction.utils.safe_load.unwrap_state_dict`).

    Raises:
        ValueError: the checkpoint holds no tensors; the message names ``source``.
    """
    return unwrap_state_dict(ckpt, source)


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
        mmaction.utils.safe_load.UnsafeCheckpointError: the file was refused (reading it would run its code).
    """
    state = extract_state_dict(read_checkpoint(path), path)
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
