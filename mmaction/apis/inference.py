"""Building a recognizer for inference and running it on one video."""

from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np
import torch
from mmengine.config import Config
from torch import nn

from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmaction.utils.setup_env import register_all_modules

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


def _test_pipeline_cfg(cfg: Config) -> list:
    if cfg.get("test_pipeline"):
        return list(cfg.test_pipeline)
    try:
        return list(cfg.test_dataloader.dataset.pipeline)
    except AttributeError as err:
        raise KeyError("the config has neither `test_pipeline` nor `test_dataloader.dataset.pipeline`") from err


def inference_recognizer(
    model: nn.Module,
    video: Union[str, Path, np.ndarray],
    test_pipeline: Optional[Sequence[dict]] = None,
) -> ActionDataSample:
    """Recognizes the action in one video.

    Args:
        model: a recognizer from :func:`init_recognizer` (``model.cfg`` holds its config).
        video: a video file, or frames as a uint8 array (T, H, W, 3) in RGB order.
        test_pipeline: pipeline configs to use instead of the config's test pipeline. For an array,
            the ``*Init`` steps (which open files) are left out and frames are read from the array.

    Returns:
        ActionDataSample whose ``pred_score`` (num_classes,) holds the class probabilities averaged
        over the test views (as ``test_cfg.average_clips`` says) and ``pred_label`` the top class.
    """
    from mmengine.dataset import Compose, pseudo_collate

    from .array_reader import ArrayVideoReader

    steps = list(test_pipeline) if test_pipeline is not None else _test_pipeline_cfg(model.cfg)
    if isinstance(video, (str, Path)):
        data = dict(filename=str(video), label=-1, start_index=0, modality="RGB")
    elif isinstance(video, np.ndarray):
        reader = ArrayVideoReader(video)
        data = dict(
            filename="<array>",
            label=-1,
            start_index=0,
            modality="RGB",
            video_reader=reader,
            total_frames=reader.num_frames,
            avg_fps=reader.fps,
        )
        steps = [s for s in steps if not str(s.get("type", "")).endswith("Init")]
    else:
        raise TypeError(f"video must be a file path or a uint8 array (T, H, W, 3), got {type(video).__name__}")
    packed = Compose(steps)(data)
    with torch.inference_mode():
        return model.test_step(pseudo_collate([packed]))[0]
