"""The one way the tools build a recognizer from a loaded config."""

from typing import Optional, Union

import torch
from mmengine.config import Config
from torch import nn

from mmaction.registry import MODELS
from mmaction.utils.setup_env import register_all_modules


def build_model(cfg: Config, *, load_pretrained: bool = True, device: Optional[Union[str, torch.device]] = None
                ) -> nn.Module:
    """Builds ``cfg.model`` (a config from :func:`mmaction.apis.config_loader.load_config`).

    Args:
        cfg: the effective config.
        load_pretrained: run ``init_weights`` (which reads ``model.backbone.pretrained`` and
            ``init_cfg``); False leaves ``pretrained`` unread and the weights as the modules'
            own initialisation (tools that count, time or fill in a checkpoint).
        device: build the modules under ``torch.device(device)`` (``'meta'``: nothing allocated).

    Returns:
        The model, on ``device`` when given.
    """
    register_all_modules()
    model_cfg = cfg.model.copy()
    if not load_pretrained and isinstance(model_cfg.get("backbone"), dict) and model_cfg.backbone.get("pretrained"):
        model_cfg.backbone = dict(model_cfg.backbone, pretrained=None)
    if device is None:
        model = MODELS.build(model_cfg)
    else:
        with torch.device(device):
            model = MODELS.build(model_cfg)
    if load_pretrained:
        model.init_weights()
    return model
