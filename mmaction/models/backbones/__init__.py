from .adapter import Adapter
from .aim_block import AIMBlock
from .aim_timm_vit import AIMTimmViT
from .clip_attention import CLIPAttention
from .clip_checkpoint import PretrainedWeightsError, load_clip_visual_state_dict, load_pretrained_clip
from .clip_mlp import CLIPMLP
from .swin2d_adapter import SwinTransformer2D_Adapter
from .timesformer import TimeSformer
from .vit_clip import ViT_CLIP
from .vit_imagenet import ViT_ImageNet

__all__ = [
    "Adapter",
    "AIMBlock",
    "AIMTimmViT",
    "CLIPAttention",
    "CLIPMLP",
    "PretrainedWeightsError",
    "SwinTransformer2D_Adapter",
    "TimeSformer",
    "ViT_CLIP",
    "ViT_ImageNet",
    "load_clip_visual_state_dict",
    "load_pretrained_clip",
]
