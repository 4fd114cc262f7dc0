"""Mini-batch blending (mixup / cutmix) with soft targets."""

from typing import List, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch.distributions.beta import Beta

from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample


class BaseBlending:
    """Blends a batch with a shuffled copy of itself and returns soft targets.

    Args:
        num_classes: number of classes K of the one-hot targets.
        alpha: Beta(alpha, alpha) parameter of the mixing coefficient.

    Shapes:
        imgs: (B, ...) float; labels: (B,) class indices -> imgs (B, ...), soft labels (B, K).
    """

    def __init__(self, num_classes: int, alpha: float = 0.2) -> None:
        self.num_classes = num_classes
        self.beta = Beta(alpha, alpha)

    def do_blending(self, imgs: torch.Tensor, onehot: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def __call__(
        self, imgs: torch.Tensor, data_samples: List[ActionDataSample]
    ) -> Tuple[torch.Tensor, List[ActionDataSample]]:
        labels = torch.cat([s.gt_label[:1] for s in data_samples]).to(imgs.device)
        onehot = F.one_hot(labels, num_classes=self.num_classes).float()
        imgs, soft = self.do_blending(imgs, onehot)
        for sample, score in zip(data_samples, soft):
            sample.gt_score = score
        return imgs, data_samples


@MODELS.register_module()
class MixupBlending(BaseBlending):
    """mixup: ``lam * x + (1 - lam) * x[perm]`` with the same mix of the targets."""

    def do_blending(self, imgs: torch.Tensor, onehot: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        lam = float(self.beta.sample())
        perm = torch.randperm(imgs.shape[0], device=imgs.device)
        return lam * imgs + (1 - lam) * imgs[perm], lam * onehot + (1 - lam) * onehot[perm]


@MODELS.register_module()
class CutmixBlending(BaseBlending):
    """cutmix: paste a random box of a shuffled clip into every frame; targets mixed by box area."""

    def do_blending(self, imgs: torch.Tensor, onehot: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        h, w = imgs.shape[-2:]
        lam = float(self.beta.sample())
        perm = torch.randperm(imgs.shape[0], device=imgs.device)
        cut = (1.0 - lam) ** 0.5
        ch, cw = int(h * cut), int(w * cut)
        cy, cx = int(torch.randint(h, (1,))), int(torch.randint(w, (1,)))
        y1, y2 = max(cy - ch // 2, 0), min(cy + ch // 2, h)
        x1, x2 = max(cx - cw // 2, 0), min(cx + cw // 2, w)
        imgs = imgs.clone()
        imgs[..., y1:y2, x1:x2] = imgs[perm][..., y1:y2, x1:x2]
        lam = 1 - (y2 - y1) * (x2 - x1) / (h * w)
        return imgs, lam * onehot + (1 - lam) * onehot[perm]


@MODELS.register_module()
class RandomBatchAugment:
    """Picks one of several blendings (or none) per batch.

    Args:
        augments: blending configs, e.g. ``[dict(type='MixupBlending', ...), dict(type='CutmixBlending', ...)]``.
        probs: probability of each; the remainder (1 - sum) leaves the batch as it is (still soft targets).
    """

    def __init__(self, augments: Sequence[dict], probs: Union[float, Sequence[float], None] = None) -> None:
        self.augments = [MODELS.build(a) if isinstance(a, dict) else a for a in augments]
        if probs is None:
            probs = [1.0 / len(self.augments)] * len(self.augments)
        elif isinstance(probs, float):
            probs = [probs]
        if len(probs) != len(self.augments) or sum(probs) > 1 + 1e-6:
            raise ValueError(f"probs {probs} must have one entry per augment and sum to at most 1")
        self.probs = list(probs)

    def __call__(self, imgs, data_samples):
        r = float(torch.rand(()))
        acc = 0.0
        for aug, p in zip(self.augments, self.probs):
            acc += p
            if r < acc:
                return aug(imgs, data_samples)
        return imgs, data_samples
