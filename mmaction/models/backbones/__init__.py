from .adapter import Adapter
from .aim_block import AIMBlock
from .clip_attention import CLIPAttention
from .vit_clip import ViT_CLIP

__all__ = ["Adapter", "AIMBlock", "CLIPAttention", "ViT_CLIP"]
