"""Building a recognizer for inference and running it on one video."""

from pathlib import Path
from typing import Optional, Union

import torch
from mmengine.config import Config
from torch import nn

from mmaction.registry import MODELS
from mmaction.utils import register_all_modules

from .checkpoint import load_model_checkpoint


def init_recognizer(
    config: Union[str, Path, Config],
    checkpoint: Optional[str] = None,
    device: Union[str, torch.device] = "cpu",
    cfg_options: Optional[dict] = None,
) -> nn.Module:
    """Builds the recognizer of ``config`` and loads ``checkpoint`` into it.

    Args:
        config: a config file path or a loaded Config.
        checkpoint: weights to load (released AIM, DDP, plain or our own checkpoints); with
            ``None`` the model is initialised as for training (``pretrained`` CLIP weights included).
        device: where the model goes.
        cfg_options: overrides merged into the config (``{'model.backbone.num_frames': 16}``).

    Returns:
        The model in eval mode, with ``model.cfg`` holding the config.
    """
    register_all_modules()
    cfg = config if isinstance(config, Config) else Config.fromfile(str(config))
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if checkpoint is not None and cfg.model.get("backbone", {}).get("pretrained"):
        cfg.model.backbone.pretrained = None  # the checkpoint holds every weight
    model = MODELS.build(cfg.model)
    if checkpoint is not None:
        load_model_checkpoint(model, checkpoint, strict=True)
    else:
        model.init_weights()
    model.cfg = cfg
    return model.to(device).eval()
