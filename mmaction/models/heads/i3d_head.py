"""I3D-style classification head: average over time and space, dropout, linear."""

from typing import Dict, List, Optional

import torch
from mmengine.model import BaseModule
from torch import nn

from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample


@MODELS.register_module()
class I3DHead(BaseModule):
    """Classification head of AIM (MMAction2's I3DHead).

    Args:
        num_classes: number of classes K.
        in_channels: feature width D.
        dropout_ratio: dropout before ``fc_cls``.
        init_std: std of the normal init of ``fc_cls``.
        label_smooth_eps: label smoothing of the cross-entropy.
        loss_cls: optional loss config (default: ``CrossEntropyLoss``).
        spatial_type: ``'avg'`` pooling over (T, H, W).

    Shapes:
        x: (N, D, T, H, W) -> (N, K) raw class scores.
    """

    def __init__(
        self,
        num_classes: int,
        in_channels: int,
        dropout_ratio: float = 0.5,
        init_std: float = 0.01,
        label_smooth_eps: float = 0.0,
        loss_cls: Optional[dict] = None,
        spatial_type: str = "avg",
        init_cfg: Optional[dict] = None,
        **kwargs,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        if kwargs:
            raise TypeError(f"I3DHead got unknown arguments: {sorted(kwargs)}")
        if spatial_type != "avg":
            raise ValueError(f"I3DHead supports spatial_type='avg' only, got {spatial_type!r}")
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.init_std = init_std
        loss_cfg = dict(type="CrossEntropyLoss", label_smooth_eps=label_smooth_eps)
        loss_cfg.update(loss_cls or {})
        self.loss_cls = MODELS.build(loss_cfg)
        self.dropout = nn.Dropout(p=dropout_ratio) if dropout_ratio > 0 else nn.Identity()
        self.fc_cls = nn.Linear(in_channels, num_classes)
        nn.init.normal_(self.fc_cls.weight, 0, init_std)
        nn.init.zeros_(self.fc_cls.bias)

    def init_weights(self) -> None:
        """Keeps the normal(0, init_std) init done at construction."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.mean(dim=(2, 3, 4)) if x.dim() == 5 else x
        return self.fc_cls(self.dropout(x))

    def loss(self, feats: torch.Tensor, data_samples: List[ActionDataSample]) -> Dict[str, torch.Tensor]:
        """Cross-entropy of the scores of ``feats`` against the samples' labels.

        Uses ``gt_score`` (soft targets from mixup/cutmix) where the samples carry it.
        """
        cls_score = self(feats)
        if "gt_score" in data_samples[0]:
            target = torch.stack([s.gt_score for s in data_samples]).to(cls_score.device)
            hard = target.argmax(dim=-1)
        else:
            hard = torch.cat([s.gt_label[:1] for s in data_samples]).to(cls_score.device)
            target = hard
        losses = {"loss_cls": self.loss_cls(cls_score, target)}
        with torch.no_grad():
            losses["top1_acc"] = (cls_score.argmax(dim=-1) == hard).float().mean()
        return losses
