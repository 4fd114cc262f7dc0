"""The per-video data sample that travels from the dataset to the metric."""

from typing import Sequence, Union

import numpy as np
import torch
from mmengine.structures import BaseDataElement

LabelLike = Union[torch.Tensor, np.ndarray, Sequence[int], int]


def format_label(value: LabelLike) -> torch.Tensor:
    """Turns an int, a sequence of ints, an array or a tensor into a 1-D LongTensor.

    Args:
        value: a class index or a list of class indices.

    Returns:
        torch.Tensor: shape (K,), dtype int64.
    """
    if isinstance(value, torch.Tensor):
        out = value.to(torch.long)
    elif isinstance(value, np.ndarray):
        out = torch.from_numpy(value).to(torch.long)
    elif isinstance(value, (int, np.integer)):
        out = torch.tensor([int(value)], dtype=torch.long)
    elif isinstance(value, Sequence) and not isinstance(value, str):
        out = torch.tensor([int(v) for v in value], dtype=torch.long)
    else:
        raise TypeError(f"cannot turn a label of type {type(value).__name__} into a tensor: {value!r}")
    return out.reshape(-1)


class ActionDataSample(BaseDataElement):
    """Annotations and predictions of one video.

    Fields:
        gt_label (torch.Tensor): shape (1,) class index, or (K,) indices for multi-label.
        pred_score (torch.Tensor): shape (num_classes,), view-averaged class scores.
        pred_label (torch.Tensor): shape (1,), argmax of ``pred_score``.

    Metainfo (set by the dataset/pipeline): ``filename``, ``sample_idx``, ``num_clips``,
    ``num_crops``, ``decode_failed`` (True when the video could not be read at test time).
    """

    def set_gt_label(self, value: LabelLike) -> "ActionDataSample":
        self.gt_label = format_label(value)
        return self

    def set_pred_score(self, value: torch.Tensor) -> "ActionDataSample":
        self.pred_score = value
        self.pred_label = value.argmax(dim=-1, keepdim=True)
        return self
