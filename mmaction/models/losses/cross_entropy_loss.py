"""Cross-entropy with hard or soft targets and optional label smoothing."""

import torch
import torch.nn.functional as F
from torch import nn

from mmaction.registry import MODELS


@MODELS.register_module()
class CrossEntropyLoss(nn.Module):
    """Cross-entropy over class scores.

    Args:
        loss_weight: multiplier of the loss.
        label_smooth_eps: label smoothing (hard targets only; soft targets are used as given).

    Shapes:
        cls_score: (N, K) raw scores; label: (N,) class indices or (N, K) soft targets -> scalar.
    """

    def __init__(self, loss_weight: float = 1.0, label_smooth_eps: float = 0.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight
        self.label_smooth_eps = label_smooth_eps

    def forward(self, cls_score: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        cls_score = cls_score.float()
        if label.dim() == cls_score.dim():  # soft targets (mixup / cutmix)
            loss = torch.sum(-label.float() * F.log_softmax(cls_score, dim=-1), dim=-1).mean()
        else:
            loss = F.cross_entropy(cls_score, label, label_smoothing=self.label_smooth_eps)
        return self.loss_weight * loss
