"""Recognizer3D: backbone + head, with multi-view testing."""

import warnings
from typing import Dict, List, Optional, Union

import torch
from mmengine.logging import MMLogger, print_log
from mmengine.model import BaseModel
from torch import nn

from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample

AVERAGE_CLIPS = ("prob", "score", None)


def count_parameters(module: nn.Module) -> Dict[str, int]:
    """Total and trainable (``requires_grad``) parameter counts of ``module``."""
    total = sum(p.numel() for p in module.parameters())
    tunable = sum(p.numel() for p in module.parameters() if p.requires_grad)
    return {"total": total, "tunable": tunable}


@MODELS.register_module()
class Recognizer3D(BaseModel):
    """Video recognizer: a 3D (clip) backbone, an optional neck, a classification head.

    Args:
        backbone: backbone config, e.g. ``dict(type='ViT_CLIP', ...)``.
        cls_head: head config, e.g. ``dict(type='I3DHead', ...)``.
        neck: optional neck config.
        data_preprocessor: config of the preprocessor (default ``ActionDataPreprocessor`` without
            normalisation).
        train_cfg: not implemented, kept for config compatibility (warns when not empty).
        test_cfg: ``average_clips`` (``'prob'``: softmax then mean over views, ``'score'``: mean of raw
            scores, ``None``: as 'score', and the per-view scores kept in ``pred_view_scores``) and
            ``max_testing_views`` (how many views go through the network at once; does not change
            the result).

    Shapes:
        inputs: (B, V, C, T, H, W) normalised float clips, V views per video.
        ``mode='tensor'``: (B*V, K) raw scores; ``'predict'``: B samples with ``pred_score`` (K,);
        ``'loss'``: dict of losses.
    """

    def __init__(
        self,
        backbone: dict,
        cls_head: dict,
        neck: Optional[dict] = None,
        data_preprocessor: Optional[Union[dict, nn.Module]] = None,
        train_cfg: Optional[dict] = None,
        test_cfg: Optional[dict] = None,
        init_cfg: Optional[dict] = None,
    ) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type="ActionDataPreprocessor")
        if isinstance(data_preprocessor, dict):
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self._normalise_like_backbone()
        self.neck = MODELS.build(neck) if neck is not None else None
        self.cls_head = MODELS.build(cls_head)
        self.train_cfg = dict(train_cfg or {})
        if self.train_cfg:
            warnings.warn(f"{type(self).__name__}: argument train_cfg={self.train_cfg!r} is accepted for compatibility "
                          "but not implemented (mixup/cutmix: data_preprocessor.blending; label smoothing: "
                          "cls_head.label_smooth_eps)", UserWarning, stacklevel=2)
        self.test_cfg = dict(average_clips="prob", max_testing_views=None)
        self.test_cfg.update(test_cfg or {})
        if self.test_cfg["average_clips"] == "none":
            self.test_cfg["average_clips"] = None
        if self.test_cfg["average_clips"] not in AVERAGE_CLIPS:
            raise ValueError(
                f"test_cfg.average_clips must be one of {AVERAGE_CLIPS}, got {self.test_cfg['average_clips']!r}"
            )
        max_views = self.test_cfg["max_testing_views"]
        if max_views is not None and (not isinstance(max_views, int) or max_views < 1):
            raise ValueError(f"test_cfg.max_testing_views must be a positive int or None, got {max_views!r}")
        counts = count_parameters(self)
        print_log(
            f"{type(self).__name__}: {counts['total']:,} parameters ({counts['total'] / 1e6:.2f} M), "
            f"{counts['tunable']:,} tunable ({counts['tunable'] / 1e6:.2f} M)",
            logger=MMLogger.get_current_instance(),
        )

    def _normalise_like_backbone(self) -> None:
        """A preprocessor given no mean/std takes the backbone's (its weights' pretrained config), if it has one."""
        default = getattr(self.backbone, "default_mean_std", None)
        pre = self.data_preprocessor
        if default is None or not hasattr(pre, "set_mean_std") or pre.normalizes:
            return
        mean, std = default()
        pre.set_mean_std(mean, std)
        print_log(f"data_preprocessor: mean={[round(m, 3) for m in mean]}, std={[round(s, 3) for s in std]} "
                  f"from the backbone's pretrained config", logger=MMLogger.get_current_instance())

    # ------------------------------------------------------------------ features
    def extract_feat(self, inputs: torch.Tensor) -> torch.Tensor:
        """Backbone (+ neck) features of (N, C, T, H, W) clips -> (N, D, T, 1, 1)."""
        feats = self.backbone(inputs)
        return self.neck(feats) if self.neck is not None else feats

    @staticmethod
    def _flatten_views(inputs: torch.Tensor) -> torch.Tensor:
        return inputs.flatten(0, 1) if inputs.dim() == 6 else inputs

    def _view_scores(self, inputs: torch.Tensor) -> torch.Tensor:
        """Raw scores (B*V, K) of every view, ``max_testing_views`` views at a time."""
        flat = self._flatten_views(inputs)
        chunk = self.test_cfg["max_testing_views"] or flat.shape[0]
        return torch.cat([self.cls_head(self.extract_feat(part)) for part in flat.split(chunk)])

    def average_clip(self, view_scores: torch.Tensor) -> torch.Tensor:
        """Averages (B, V, K) view scores into (B, K) as ``test_cfg.average_clips`` says."""
        if self.test_cfg["average_clips"] == "prob":
            return view_scores.float().softmax(dim=-1).mean(dim=1)
        return view_scores.float().mean(dim=1)

    # ------------------------------------------------------------------ modes
    def forward(
        self,
        inputs: torch.Tensor,
        data_samples: Optional[List[ActionDataSample]] = None,
        mode: str = "tensor",
    ):
        if mode == "tensor":
            flat = self._flatten_views(inputs)
            return self.cls_head(self.extract_feat(flat))
        if mode == "loss":
            return self.loss(inputs, data_samples)
        if mode == "predict":
            return self.predict(inputs, data_samples)
        raise ValueError(f"mode must be 'tensor', 'loss' or 'predict', got {mode!r}")

    def loss(self, inputs: torch.Tensor, data_samples: List[ActionDataSample]) -> Dict[str, torch.Tensor]:
        num_views = inputs.shape[1] if inputs.dim() == 6 else 1
        feats = self.extract_feat(self._flatten_views(inputs))
        samples = [s for s in data_samples for _ in range(num_views)]
        return self.cls_head.loss(feats, samples)

    def predict(
        self, inputs: torch.Tensor, data_samples: Optional[List[ActionDataSample]] = None
    ) -> List[ActionDataSample]:
        batch = inputs.shape[0]
        scores = self._view_scores(inputs).view(batch, -1, self.cls_head.num_classes)
        averaged = self.average_clip(scores)
        if data_samples is None:
            data_samples = [ActionDataSample() for _ in range(batch)]
        for sample, score, views in zip(data_samples, averaged, scores):
            sample.set_pred_score(score)
            if self.test_cfg["average_clips"] is None:
                sample.pred_view_scores = views
        return data_samples

    def val_step(self, data: Union[dict, tuple, list]) -> list:
        with torch.inference_mode():
            return super().val_step(data)

    def test_step(self, data: Union[dict, tuple, list]) -> list:
        with torch.inference_mode():
            return super().test_step(data)
