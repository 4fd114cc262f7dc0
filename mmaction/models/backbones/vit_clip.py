"""ViT_CLIP: the frozen CLIP ViT image encoder with AIM adapters."""

from typing import List, Optional, Union

import torch
from mmengine.logging import MMLogger, print_log
from mmengine.model import BaseModule
from torch import nn

from mmaction.registry import MODELS

from ..utils import LayerNorm, apply_tuning, check_tuning, interpolate_temporal_embedding, mark_tunable
from .adapter import Adapter
from .aim_block import CLIP_PART_NAMES, AIMBlock, compile_options_of, forward_blocks
from .clip_attention import CLIPAttention
from .clip_mlp import CLIPMLP


def clip_aim_block(width: int, heads: int, attn_impl: str = "auto", **adaptation) -> AIMBlock:
    """An OpenAI CLIP residual block (``ln_1``, ``attn``, ``ln_2``, ``mlp.c_fc``/``c_proj``) adapted by AIM.

    Args:
        width: model width D.
        heads: attention heads.
        attn_impl: see :class:`CLIPAttention`.
        **adaptation: :class:`AIMBlock`'s keyword arguments (adapter_scale, num_tadapter, ...).
    """
    return AIMBlock(
        LayerNorm(width, autocast_output=True),
        CLIPAttention(width, heads, attn_impl),
        LayerNorm(width, autocast_output=True),
        CLIPMLP(width, width * 4),
        width=width,
        part_names=CLIP_PART_NAMES,
        **adaptation,
    )


class AIMTransformer(nn.Module):
    """A stack of blocks ``block(x, num_frames)``, named ``transformer.resblocks.{i}`` as in CLIP checkpoints.

    Args:
        blocks: the blocks.
        with_cp: gradient checkpointing per block during training.
        compile_options: run the blocks through one shared ``torch.compile``'d function with these
            keyword arguments (see :func:`~mmaction.models.backbones.aim_block.compiled_block_runner`);
            None: eager.

    Shapes:
        x: (B*T, L, D) -> (B*T, L, D).
    """

    def __init__(self, blocks: List[nn.Module], with_cp: bool = False, compile_options: Optional[dict] = None) -> None:
        super().__init__()
        self.resblocks = nn.ModuleList(blocks)
        self.with_cp = with_cp
        self.compile_options = compile_options

    def forward(self, x: torch.Tensor, num_frames: int) -> torch.Tensor:
        return forward_blocks(self.resblocks, x, num_frames, self.with_cp and self.training, self.compile_options)


@MODELS.register_module()
class ViT_CLIP(BaseModule):  # noqa: N801 (name kept from the original configs)
    """CLIP ViT visual tower with AIM's spatial, temporal and joint adapters.

    The CLIP weights stay frozen; only the adapters, ``temporal_embedding`` and ``ln_post`` train
    (``tuning='adapter'``, AIM's rule: the adapters declare themselves tunable, the backbone marks
    ``temporal_embedding`` and ``ln_post``). ``tuning='full'`` trains everything, ``'linear_probe'``
    nothing (only the head, which lives outside the backbone).

    Args:
        input_resolution: image side in pixels (224 or 336 for OpenAI towers).
        num_frames: frames per clip the model is built for (size of ``temporal_embedding``); clips
            with another frame count are handled by interpolating the temporal embedding.
        patch_size: ViT patch size.
        width: model width D.
        layers: number of blocks.
        heads: attention heads.
        drop_path_rate: stochastic depth, growing linearly over depth from 0 to this value.
        drop_path_mode: ``'token'`` (as the original code: one draw per token position) or
            ``'sample'`` (one draw per video); see :class:`AIMBlock`.
        num_tadapter: 1 or 2 temporal adapters per block (AIM SSv2 configs use 2).
        adapter_scale: scale of the joint adapter's output.
        pretrained: CLIP weights to start from: ``'openaiclip'``, an OpenAI tower name, or a local
            file (OpenAI TorchScript, open_clip, timm, Hugging Face, plain state dict, safetensors).
            Loaded by :meth:`init_weights`.
        adapter_ratio: adapter bottleneck ratio.
        with_cp: gradient checkpointing per block during training (saves activation memory).
        tuning: ``'adapter'`` | ``'full'`` | ``'linear_probe'``: which backbone parameters train.
        torch_compile: run every block through one shared ``torch.compile``'d block function
            (``True`` or a dict of :func:`torch.compile`'s keyword arguments, e.g.
            ``dict(mode='max-autotune')``); the first call pays the compilation, the blocks share
            the compiled graph (see :func:`~mmaction.models.backbones.aim_block.compiled_block_runner`).
        pretrained_cache_dir: where OpenAI towers are looked for / downloaded (default ``~/.cache/clip``).
        use_temporal: add the temporal adaptation to every block (ablation switch).
        use_spatial: add the spatial adapter to every block.
        use_joint: add the joint (MLP) adapter to every block.
        attn_impl: ``'auto'`` (default: the kernel measured faster per device, dtype and length),
            ``'sdpa'`` or ``'math'`` (see :class:`CLIPAttention`).
        init_cfg: mmengine init config (unused; weights are initialised as AIM does).

    Shapes:
        x: (B, 3, T, H, W) float -> (B, D, T, 1, 1), the class token of every frame after ``ln_post``.
    """

    def __init__(
        self,
        input_resolution: int = 224,
        num_frames: int = 8,
        patch_size: int = 16,
        width: int = 768,
        layers: int = 12,
        heads: int = 12,
        drop_path_rate: float = 0.0,
        num_tadapter: int = 1,
        adapter_scale: float = 0.5,
        pretrained: Optional[str] = None,
        adapter_ratio: float = 0.25,
        with_cp: bool = False,
        tuning: str = "adapter",
        torch_compile: Union[bool, dict] = False,
        drop_path_mode: str = "token",
        pretrained_cache_dir: Optional[str] = None,
        use_temporal: bool = True,
        use_spatial: bool = True,
        use_joint: bool = True,
        attn_impl: str = "auto",
        init_cfg: Optional[dict] = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        if input_resolution % patch_size != 0:
            raise ValueError(f"input_resolution {input_resolution} is not a multiple of patch_size {patch_size}")
        check_tuning(tuning)
        compile_options = compile_options_of(torch_compile)
        self.input_resolution = input_resolution
        self.num_frames = num_frames
        self.patch_size = patch_size
        self.width = width
        self.layers = layers
        self.heads = heads
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
        blocks = [
            clip_aim_block(
                width, heads, attn_impl, adapter_scale=adapter_scale, num_tadapter=num_tadapter, adapter_ratio=adapter_ratio,
                drop_path=rate, drop_path_mode=drop_path_mode, use_temporal=use_temporal, use_spatial=use_spatial,
                use_joint=use_joint,
            )
            for rate in rates
        ]
        self.transformer = AIMTransformer(blocks, with_cp=with_cp, compile_options=compile_options)
        self.ln_post = mark_tunable(LayerNorm(width))
        mark_tunable(self, ["temporal_embedding"])
        self._init_new_layers()
        self.apply_tuning()

    # ------------------------------------------------------------------ weights
    def _init_new_layers(self) -> None:
        """AIM's init: trunc_normal(0.02) for Linear layers, adapters' second layer at zero."""
        for module in self.transformer.modules():
            if isinstance(module, nn.Linear):
                nn.init.trunc_normal_(module.weight, std=0.02)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
        for module in self.transformer.modules():
            if isinstance(module, Adapter):
                nn.init.zeros_(module.D_fc2.weight)
                nn.init.zeros_(module.D_fc2.bias)

    def init_weights(self) -> None:
        """Runs mmengine's ``init_cfg`` (e.g. ``dict(type='Pretrained', checkpoint=..., prefix='backbone.')``)
        when given, then loads the ``pretrained`` CLIP weights (if any); adapters keep their zero init."""
        if self.init_cfg:
            super().init_weights()
        if self.pretrained:
            from .clip_checkpoint import load_pretrained_clip

            load_pretrained_clip(
                self,
                self.pretrained,
                width=self.width,
                patch_size=self.patch_size,
                input_resolution=self.input_resolution,
                layers=self.layers,
                cache_dir=self.pretrained_cache_dir,
            )
            self.apply_tuning()

    def apply_tuning(self) -> None:
        """Sets ``requires_grad`` of every parameter from ``self.tuning`` (see :func:`apply_tuning`)."""
        apply_tuning(self, self.tuning)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs) -> None:
        """Interpolates a ``temporal_embedding`` trained with another frame count."""
        key = prefix + "temporal_embedding"
        if key in state_dict and state_dict[key].shape != self.temporal_embedding.shape:
            src = state_dict[key]
            if src.dim() == 3 and src.shape[0] == 1 and src.shape[2] == self.width:
                print_log(
                    f"temporal_embedding: checkpoint has {src.shape[1]} frames, model {self.num_frames}; "
                    "interpolating linearly over time",
                    logger=MMLogger.get_current_instance(),
                )
                state_dict = dict(state_dict)
                state_dict[key] = interpolate_temporal_embedding(src, self.num_frames)
        super()._load_from_state_dict(
            state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
        )

    # ------------------------------------------------------------------ forward
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, t, h, w = x.shape
        if c != 3:
            raise ValueError(f"ViT_CLIP expects 3 input channels in (B, 3, T, H, W), got shape {tuple(x.shape)}")
        x = x.transpose(1, 2).reshape(b * t, c, h, w)
        x = self.conv1(x)  # (B*T, D, h', w')
        x = x.flatten(2).transpose(1, 2)  # (B*T, h'w', D)
        cls = self.class_embedding.to(x.dtype).expand(x.shape[0], 1, -1)
        x = torch.cat([cls, x], dim=1)
        if x.shape[1] != self.positional_embedding.shape[0]:
            raise ValueError(
                f"input {h}x{w} gives {x.shape[1] - 1} patches but the model was built for "
                f"{self.input_resolution}x{self.input_resolution} ({self.positional_embedding.shape[0] - 1} patches)"
            )
        temporal = interpolate_temporal_embedding(self.temporal_embedding, t)
        # token n of frame t gets positional[n] + temporal[t]
        x = x.view(b, t, -1, self.width) + self.positional_embedding.to(x.dtype) + temporal.to(x.dtype)[:, :, None]
        x = self.ln_pre(x.view(b * t, -1, self.width))
        x = self.transformer(x, t)
        x = self.ln_post(x[:, 0])  # (B*T, D): class token of every frame
        return x.view(b, t, self.width).transpose(1, 2)[:, :, :, None, None]
