from .adapter import Adapter
from .aim_block import AIMBlock
from .clip_attention import CLIPAttention
from .clip_checkpoint import load_clip_visual_state_dict, load_pretrained_clip
from .swin2d_adapter import SwinTransformer2D_Adapter
from .vit_clip import ViT_CLIP

__all__ = [
    "Adapter",
    "AIMBlock",
    "CLIPAttention",
    "SwinTransformer2D_Adapter",
    "ViT_CLIP",
    "load_clip_visual_state_dict",
    "load_pretrained_clip",
]
