"""TimeSformer: the paper's fully fine-tuned space-time baseline (divided space-time attention on a
CLIP ViT), as in the original repository."""

import re
from typing import Optional, Union

import torch
from mmengine.logging import MMLogger
from mmengine.model import BaseModule
from timm.layers import trunc_normal_
from torch import nn

from mmaction.registry import MODELS

from ..utils import LayerNorm, add_temporal_embedding, apply_tuning, check_tuning, mark_tunable
from .aim_block import DropPathRate, compile_options_of
from .clip_attention import CLIPAttention
from .clip_checkpoint import load_clip_visual_state_dict
from .clip_mlp import CLIPMLP
from .image_weights import load_image_weights
from .vit_clip import AIMTransformer


class DividedSpaceTimeBlock(nn.Module):
    """A CLIP residual block preceded by its own temporal attention (divided space-time attention).

    1. temporal: ``x + T_Adapter(drop_path(t_attn(t_norm(x_t))))``, attention across the T frames at
       each token position, through a separate attention ``t_attn`` and norm ``t_norm`` (initialised
       from ``attn`` / ``ln_1`` when CLIP weights are loaded) and a linear ``T_Adapter`` (D -> D).
    2. spatial: ``x + drop_path(attn(ln_1(x)))``.
    3. MLP: ``x + drop_path(mlp(ln_2(x)))``.

    Args:
        width: model width D.
        heads: attention heads.
        drop_path: stochastic depth rate of this block.
        drop_path_mode: see :func:`~mmaction.models.backbones.aim_block.drop_path_mask`.
        attn_impl: see :class:`CLIPAttention`.

    Shapes:
        x: (B*T, L, D) -> (B*T, L, D), the T frames of one clip contiguous.
    """

    def __init__(self, width: int, heads: int, drop_path: float = 0.0, drop_path_mode: str = "token",
                 attn_impl: str = "auto") -> None:
        super().__init__()
        self.attn = CLIPAttention(width, heads, attn_impl)
        self.ln_1 = LayerNorm(width, autocast_output=True)
        self.mlp = CLIPMLP(width, width * 4)
        self.ln_2 = LayerNorm(width, autocast_output=True)
        self.t_attn = CLIPAttention(width, heads, attn_impl)
        self.t_norm = LayerNorm(width, autocast_output=True)
        self.T_Adapter = mark_tunable(nn.Linear(width, width))
        self.drop_path = DropPathRate(drop_path, drop_path_mode)

    def _drop(self, x: torch.Tensor, h: torch.Tensor, num_frames: int) -> torch.Tensor:
        mask = self.drop_path.mask(x, num_frames)
        return h if mask is None else h * mask

    def forward(self, x: torch.Tensor, num_frames: int) -> torch.Tensor:
        bt, n, d = x.shape
        b = bt // num_frames
        h = self.t_norm(x).view(b, num_frames, n, d).transpose(1, 2).contiguous().view(b * n, num_frames, d)
        h = self.t_attn(h).view(b, n, num_frames, d).transpose(1, 2).reshape(bt, n, d)
        x = x + self.T_Adapter(self._drop(x, h, num_frames))
        x = x + self._drop(x, self.attn(self.ln_1(x)), num_frames)
        return x + self._drop(x, self.mlp(self.ln_2(x)), num_frames)


@MODELS.register_module()
class TimeSformer(BaseModule):
    """CLIP ViT with divided space-time attention: the paper's fully fine-tuned space-time baseline.

    Same constructor arguments and state-dict layout as the original ``TimeSformer``: the CLIP layout
    (``conv1``, ``class_embedding``, ``positional_embedding``, ``temporal_embedding``, ``ln_pre``,
    ``transformer.resblocks.N.{attn, ln_1, mlp.c_fc, mlp.c_proj, ln_2, t_attn, t_norm, T_Adapter}``,
    ``ln_post``). Everything trains by default (``tuning='full'``, the paper's baseline);
    ``tuning='adapter'`` trains only ``T_Adapter``, ``temporal_embedding`` and ``ln_post``, which is
    what the original train.py's name filter would have done.

    Args:
        input_resolution: image side in pixels.
        num_frames: frames per clip of ``temporal_embedding`` (other lengths: resampled over time).
        patch_size: patch side.
        width: model width D.
        layers: number of blocks.
        heads: attention heads.
        drop_path_rate: stochastic depth, linear over depth from 0 to this value.
        adapter_scale: unused (kept from the original constructor).
        attn_type: ``'tadapter'`` (the original's only configured value: temporal embedding + temporal
            attention).
        pretrained: CLIP weights (any source :func:`load_clip_visual_state_dict` reads:
            ``'openaiclip'``, a tower name, a file or folder), or a checkpoint of this backbone.
            ``t_attn`` / ``t_norm`` absent from the file start as copies of ``attn`` / ``ln_1``.
        tuning: ``'full'`` (default) | ``'adapter'`` | ``'linear_probe'``.
        with_cp: gradient checkpointing per block during training.
        torch_compile: run every block through one shared ``torch.compile``'d block function
            (``True`` or a dict of :func:`torch.compile`'s keyword arguments); see
            :func:`~mmaction.models.backbones.aim_block.compiled_block_runner`.
        drop_path_mode: see :func:`~mmaction.models.backbones.aim_block.drop_path_mask`.
        pretrained_cache_dir: where OpenAI towers are looked for.
        attn_impl: ``'auto'`` (default), ``'sdpa'`` or ``'math'`` (see :class:`CLIPAttention`).
        init_cfg: unused.

    Shapes:
        x: (B, 3, T, H, W) -> (B, D, T, 1, 1), the class token of every frame after ``ln_post``.
    """

    def __init__(
        self,
        input_resolution: int = 224,
        num_frames: int = 8,
        patch_size: int = 16,
        width: int = 768,
        layers: int = 12,
        heads: int = 12,
        drop_path_rate: float = 0.1,
        adapter_scale: float = 0.5,
        attn_type: str = "tadapter",
        pretrained: Optional[str] = None,
        tuning: str = "full",
        with_cp: bool = False,
        drop_path_mode: str = "token",
        pretrained_cache_dir: Optional[str] = None,
        attn_impl: str = "auto",
        torch_compile: Union[bool, dict] = False,
        init_cfg: Optional[dict] = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        check_tuning(tuning)
        compile_options = compile_options_of(torch_compile)
        if attn_type != "tadapter":
            raise ValueError(f"attn_type must be 'tadapter' (the original's configured value), got {attn_type!r}")
        if input_resolution % patch_size != 0:
            raise ValueError(f"input_resolution {input_resolution} is not a multiple of patch_size {patch_size}")
        self.input_resolution = input_resolution
        self.num_frames = num_frames
        self.patch_size = patch_size
        self.width = width
        self.layers = layers
        self.pretrained = pretrained
        self.pretrained_cache_dir = pretrained_cache_dir
        self.tuning = tuning
        scale = width**-0.5
        grid = input_resolution // patch_size
        self.conv1 = nn.Conv2d(3, width, kernel_size=patch_size, stride=patch_size, bias=False)
        self.class_embedding = nn.Parameter(scale * torch.randn(width))
        self.positional_embedding = nn.Parameter(scale * torch.randn(grid * grid + 1, width))
        self.ln_pre = LayerNorm(width)
        self.temporal_embedding = nn.Parameter(torch.zeros(1, num_frames, width))
        rates = [drop_path_rate * i / (layers - 1) if layers > 1 else 0.0 for i in range(layers)]
        self.transformer = AIMTransformer(
            [DividedSpaceTimeBlock(width, heads, rate, drop_path_mode, attn_impl) for rate in rates], with_cp=with_cp,
            compile_options=compile_options)
        self.ln_post = mark_tunable(LayerNorm(width))
        mark_tunable(self, ["temporal_embedding"])
        for module in self.transformer.modules():  # the original's init of the new layers
            if isinstance(module, nn.Linear):
                trunc_normal_(module.weight, std=0.02)
                nn.init.zeros_(module.bias)
        apply_tuning(self, tuning)

    def init_weights(self) -> None:
        """Loads ``pretrained`` strictly; ``t_attn`` / ``t_norm`` absent from it copy ``attn`` / ``ln_1``."""
        if not self.pretrained:
            return
        logger = MMLogger.get_current_instance()
        state = load_clip_visual_state_dict(
            self.pretrained, width=self.width, patch_size=self.patch_size, input_resolution=self.input_resolution,
            layers=self.layers, cache_dir=self.pretrained_cache_dir, logger=logger,
        )
        for key in list(state):
            match = re.match(r"(transformer\.resblocks\.\d+\.)(attn|ln_1)\.(.+)$", key)
            if match:
                twin = f"{match.group(1)}{'t_attn' if match.group(2) == 'attn' else 't_norm'}.{match.group(3)}"
                state.setdefault(twin, state[key].clone())
        load_image_weights(
            self, state, str(self.pretrained), logger=logger,
            adaptation_key=lambda k: k == "temporal_embedding" or ".T_Adapter." in k,
        )
        apply_tuning(self, self.tuning)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, t, h, w = x.shape
        if c != 3:
            raise ValueError(f"TimeSformer expects 3 input channels in (B, 3, T, H, W), got shape {tuple(x.shape)}")
        x = self.conv1(x.transpose(1, 2).reshape(b * t, c, h, w)).flatten(2).transpose(1, 2)
        x = torch.cat([self.class_embedding.to(x.dtype).expand(x.shape[0], 1, -1), x], dim=1)
        if x.shape[1] != self.positional_embedding.shape[0]:
            raise ValueError(
                f"input {h}x{w} gives {x.shape[1] - 1} patches but the model was built for "
                f"{self.input_resolution}x{self.input_resolution} ({self.positional_embedding.shape[0] - 1} patches)")
        x = add_temporal_embedding(x + self.positional_embedding.to(x.dtype), self.temporal_embedding, t)
        x = self.transformer(self.ln_pre(x), t)
        x = self.ln_post(x[:, 0])
        return x.view(b, t, self.width).transpose(1, 2)[:, :, :, None, None]
