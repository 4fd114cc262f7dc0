"""Pipeline steps (TRANSFORMS registry), with MMAction2's names and arguments.

Frames travel as a uint8 ``torchvision.tv_tensors.Video`` (N, C, H, W) in ``results['imgs']``
(see :mod:`.video_tensor`); ``FormatShape`` + ``PackActionInputs`` produce the contract output
of docs/architecture.md.
"""

from .base import BaseTransform
from .center_crop import CenterCrop
from .color_jitter import ColorJitter
from .flip import Flip
from .format_shape import FormatShape
from .legacy_formatting import Collect, Fuse, ToTensor
from .multi_scale_crop import MultiScaleCrop
from .multi_view_crop import TenCrop, ThreeCrop
from .normalize import Normalize
from .pack_action_inputs import PackActionInputs
from .rand_augment import Imgaug, RandAugment
from .random_erasing import RandomErasing
from .random_resized_crop import RandomCrop, RandomResizedCrop
from .rawframe_decode import RawFrameDecode
from .resize import Resize
from .sample_frames import SampleFrames
from .uniform_sample import UniformSample, UniformSampleFrames
from .video_decode import DecordDecode, PyAVDecode
from .video_init import DecordInit, PyAVInit

__all__ = [
    "BaseTransform",
    "SampleFrames",
    "UniformSample",
    "UniformSampleFrames",
    "DecordInit",
    "DecordDecode",
    "PyAVInit",
    "PyAVDecode",
    "RawFrameDecode",
    "Resize",
    "RandomResizedCrop",
    "RandomCrop",
    "MultiScaleCrop",
    "CenterCrop",
    "ThreeCrop",
    "TenCrop",
    "Flip",
    "ColorJitter",
    "RandAugment",
    "Imgaug",
    "RandomErasing",
    "Normalize",
    "FormatShape",
    "PackActionInputs",
    "Collect",
    "ToTensor",
    "Fuse",
]
