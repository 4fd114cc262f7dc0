"""ColorJitter: colour augmentation with the same random parameters for every frame."""

from typing import Optional, Sequence, Union

import numpy as np
import torch
from torchvision.transforms import v2

from mmaction.registry import TRANSFORMS

from .base import BaseTransform
from .video_tensor import get_video, set_video

# PCA of ImageNet RGB pixels on the 0-255 scale (AlexNet "lighting" noise), as in MMAction2 0.x.
DEFAULT_EIG_VAL = (55.46, 4.794, 1.148)
DEFAULT_EIG_VEC = ((-0.5675, 0.7192, 0.4009), (-0.5808, -0.0045, -0.8140), (-0.5836, -0.6948, 0.4203))

Range = Union[float, Sequence[float]]


@TRANSFORMS.register_module()
class ColorJitter(BaseTransform):
    """Colour jitter in one of the two meanings MMAction2 gave this name.

    - **Modern** (MMAction2 1.x): when any of ``brightness``, ``contrast``, ``saturation``,
      ``hue`` is given, torchvision's ``ColorJitter`` with those ranges is applied to the whole
      clip (one set of factors, one random order, for every frame).
    - **AIM / MMAction2 0.x** (``ColorJitter()`` with no argument, as in AIM's ViT-L/14 K400
      config): PCA "lighting" noise: one RGB offset ``eig_vec @ (alpha * eig_val)`` with
      ``alpha ~ N(0, alpha_std)`` added to every pixel of every frame; with
      ``color_space_aug=True`` brightness/contrast/saturation/hue distortions (each with
      probability 0.5, the 0.x ranges) come first.

    Frames stay uint8: the result is rounded and clipped to 0-255.

    Args:
        brightness, contrast, saturation, hue: torchvision ranges (modern meaning).
        color_space_aug: 0.x colour-space distortions before the PCA noise.
        alpha_std: std of the PCA noise coefficients.
        eig_val: (3,) eigenvalues on the 0-255 scale.
        eig_vec: (3, 3) eigenvectors (columns).
    """

    def __init__(
        self,
        brightness: Optional[Range] = None,
        contrast: Optional[Range] = None,
        saturation: Optional[Range] = None,
        hue: Optional[Range] = None,
        color_space_aug: bool = False,
        alpha_std: float = 0.1,
        eig_val: Optional[Sequence[float]] = None,
        eig_vec: Optional[Sequence[Sequence[float]]] = None,
    ) -> None:
        self.modern = any(v is not None for v in (brightness, contrast, saturation, hue))
        self.brightness, self.contrast, self.saturation, self.hue = brightness, contrast, saturation, hue
        self.color_space_aug = color_space_aug
        self.alpha_std = float(alpha_std)
        self.eig_val = np.asarray(DEFAULT_EIG_VAL if eig_val is None else eig_val, dtype=np.float32).reshape(3)
        self.eig_vec = np.asarray(DEFAULT_EIG_VEC if eig_vec is None else eig_vec, dtype=np.float32).reshape(3, 3)
        self._jitter = (
            v2.ColorJitter(brightness=brightness, contrast=contrast, saturation=saturation, hue=hue)
            if self.modern
            else None
        )

    # --- the 0.x colour-space distortions, on float frames (N, 3, H, W), RGB, 0-255 ------------
    @staticmethod
    def _color_space(x: torch.Tensor) -> torch.Tensor:
        delta = np.random.uniform(-32, 32)
        contrast = np.random.uniform(0.6, 1.4)
        saturation = np.random.uniform(0.6, 1.4)
        hue = np.random.uniform(-18, 18)
        coin = np.random.rand()
        gray_w = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)

        def brightness_op(t):
            return t + delta if np.random.rand() > 0.5 else t

        def contrast_op(t):
            return t * contrast if np.random.rand() > 0.5 else t

        def saturation_op(t):
            if np.random.rand() > 0.5:
                gray = (t * gray_w).sum(1, keepdim=True) * (1.0 - saturation)
                t = t * saturation + gray
            return t

        def hue_op(t):
            if np.random.rand() > 0.5:
                u, w = np.cos(hue * np.pi), np.sin(hue * np.pi)
                bt = np.array([[1.0, 0.0, 0.0], [0.0, u, -w], [0.0, w, u]])
                tyiq = np.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.321], [0.211, -0.523, 0.311]])
                ityiq = np.array([[1.0, 0.956, 0.621], [1.0, -0.272, -0.647], [1.0, -1.107, 1.705]])
                m = torch.from_numpy((ityiq @ bt @ tyiq).astype(np.float32))
                t = torch.einsum("ij,njhw->nihw", m, t)
            return t

        x = brightness_op(x)
        ops = (contrast_op, saturation_op, hue_op) if coin > 0.5 else (saturation_op, hue_op, contrast_op)
        for op in ops:
            x = op(x)
        return x

    def transform(self, results: dict) -> dict:
        video = get_video(results, "ColorJitter")
        if self.modern:
            set_video(results, self._jitter(video))
            return results
        x = video.as_subclass(torch.Tensor).float()
        if self.color_space_aug:
            x = self._color_space(x)
        alpha = np.random.normal(0, self.alpha_std, size=3).astype(np.float32)
        rgb = torch.from_numpy(self.eig_vec @ (alpha * self.eig_val)).view(1, 3, 1, 1)
        x = (x + rgb).round_().clamp_(0, 255).to(torch.uint8)
        set_video(results, x)
        return results
