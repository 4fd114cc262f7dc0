"""ViT_ImageNet: AIM on an ImageNet-21k ViT (the original repository's second backbone)."""

from functools import partial
from typing import Optional, Union

import torch
from mmengine.model import BaseModule
from timm.layers import PatchEmbed, trunc_normal_
from timm.models.vision_transformer import Block
from torch import nn

from mmaction.registry import MODELS

from ..utils import add_temporal_embedding, apply_tuning, check_tuning, mark_tunable
from .adapter import Adapter
from .aim_block import compile_options_of, forward_blocks, timm_aim_block
from .hf_vit_layout import convert_hf_vit, is_hf_vit
from .image_weights import adaptation_keys, load_image_weights, read_state_dict, strip_prefix

#: keys of a timm/Google ViT checkpoint renamed for ViT_ImageNet (the original's rule)
TIMM_VIT_RENAMES = {"norm.weight": "ln_post.weight", "norm.bias": "ln_post.bias"}


@MODELS.register_module()
class ViT_ImageNet(BaseModule):  # noqa: N801 (name kept from the original configs)
    """An ImageNet ViT (timm / Google layout) with AIM's spatial, temporal and joint adapters.

    Same constructor arguments and state-dict layout as the original ``ViT_ImageNet``:
    ``patch_embed.proj``, ``cls_token``, ``pos_embed``, ``temporal_embedding``,
    ``blocks.N.{norm1, attn.qkv, attn.proj, norm2, mlp.fc1, mlp.fc2}``, the adapters
    ``blocks.N.{T_Adapter, T_Adapter_in, S_Adapter, MLP_Adapter}``, ``ln_post``; LayerNorm eps 1e-6,
    exact GELU, no norm before the blocks. Trainable under ``tuning='adapter'`` (the original's rule):
    the adapters, ``temporal_embedding`` and ``ln_post``.

    Args:
        img_size: image side in pixels.
        num_frames: frames per clip the temporal embedding is built for (other clip lengths are
            handled by resampling it over time).
        patch_size: patch side.
        in_chans: input channels.
        embed_dim: width D.
        depth: number of blocks.
        adapter_scale: scale of the joint adapter's output.
        num_tadapter: 1 or 2 temporal adapters per block.
        num_heads: attention heads.
        mlp_ratio: MLP hidden width / D.
        patch_embedding_bias: bias in the patch embedding (Google ViTs have one).
        qkv_bias: bias in the q/k/v projection.
        qk_scale: must be None (timm's attention scales by head_dim ** -0.5, as the original default).
        drop_rate: dropout after the attention projection and in the MLP.
        attn_drop_rate: dropout on the attention weights.
        drop_path_rate: stochastic depth, linear over depth from 0 to this value.
        norm_eps: LayerNorm epsilon (the original: 1e-6).
        pretrained: a file (timm / Google ``.pth``, ``.safetensors``, a Hugging Face hub-cache folder of
            a timm model) in the timm ViT layout (``norm`` becomes ``ln_post``; ``head``/``pre_logits`` are
            left unused), or a checkpoint of this backbone / a recognizer (``backbone.*``). Loaded by
            :meth:`init_weights`; anything that does not fit raises ``PretrainedWeightsError``.
            Hugging Face ``transformers`` ViT files (``google/vit-base-patch16-224-in21k``: ``ViTModel``
            names, q/k/v separate) are converted to the timm layout first.
        adapter_ratio: adapter bottleneck ratio.
        tuning: ``'adapter'`` | ``'full'`` | ``'linear_probe'``.
        with_cp: gradient checkpointing per block during training.
        torch_compile: run every block through one shared ``torch.compile``'d block function
            (``True`` or a dict of :func:`torch.compile`'s keyword arguments); see
            :func:`~mmaction.models.backbones.aim_block.compiled_block_runner`.
        drop_path_mode: ``'frame'`` (the original: timm's DropPath on (B*T, L, D)), ``'token'`` or ``'sample'``.
        use_temporal: add the temporal adaptation (ablation switch).
        use_spatial: add the spatial adapter.
        use_joint: add the joint (MLP) adapter.
        init_cfg: unused (weights are initialised as the original does).

    Shapes:
        x: (B, 3, T, H, W) -> (B, D, T, 1, 1), the class token of every frame after ``ln_post``.
    """

    def __init__(
        self,
        img_size: int = 224,
        num_frames: int = 8,
        patch_size: int = 16,
        in_chans: int = 3,
        embed_dim: int = 768,
        depth: int = 12,
        adapter_scale: float = 0.5,
        num_tadapter: int = 1,
        num_heads: int = 12,
        mlp_ratio: float = 4.0,
        patch_embedding_bias: bool = True,
        qkv_bias: bool = True,
        qk_scale: Optional[float] = None,
        drop_rate: float = 0.0,
        attn_drop_rate: float = 0.0,
        drop_path_rate: float = 0.1,
        norm_eps: float = 1e-6,
        pretrained: Optional[str] = None,
        adapter_ratio: float = 0.25,
        tuning: str = "adapter",
        with_cp: bool = False,
        drop_path_mode: str = "frame",
        use_temporal: bool = True,
        use_spatial: bool = True,
        use_joint: bool = True,
        torch_compile: Union[bool, dict] = False,
        init_cfg: Optional[dict] = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        check_tuning(tuning)
        self.compile_options = compile_options_of(torch_compile)
        if qk_scale is not None:
            raise ValueError(f"qk_scale={qk_scale}: only the default head_dim ** -0.5 scaling is supported")
        if img_size % patch_size != 0:
            raise ValueError(f"img_size {img_size} is not a multiple of patch_size {patch_size}")
        if pretrained is not None and not isinstance(pretrained, str):
            raise TypeError(f"pretrained must be a file path or None, got {pretrained!r}")
        self.img_size = img_size
        self.num_frames = num_frames
        self.num_features = self.embed_dim = embed_dim
        self.depth = depth
        self.num_tadapter = num_tadapter
        self.pretrained = pretrained
        self.tuning = tuning
        self.with_cp = with_cp
        norm_layer = partial(nn.LayerNorm, eps=norm_eps)
        self.patch_embed = PatchEmbed(img_size, patch_size, in_chans, embed_dim, bias=patch_embedding_bias)
        num_patches = self.patch_embed.num_patches
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, num_patches + 1, embed_dim))
        self.pos_drop = nn.Dropout(p=drop_rate)
        self.temporal_embedding = nn.Parameter(torch.zeros(1, num_frames, embed_dim))
        rates = [drop_path_rate * i / (depth - 1) if depth > 1 else 0.0 for i in range(depth)]
        self.blocks = nn.ModuleList(
            timm_aim_block(
                Block(embed_dim, num_heads, mlp_ratio, qkv_bias=qkv_bias, proj_drop=drop_rate,
                      attn_drop=attn_drop_rate, norm_layer=norm_layer, act_layer=nn.GELU),
                embed_dim, adapter_scale=adapter_scale, num_tadapter=num_tadapter, adapter_ratio=adapter_ratio,
                drop_path=rate, drop_path_mode=drop_path_mode, use_temporal=use_temporal,
                use_spatial=use_spatial, use_joint=use_joint,
            )
            for rate in rates
        )
        self.ln_post = mark_tunable(norm_layer(embed_dim))
        mark_tunable(self, ["temporal_embedding"])
        self._init_new_weights()
        apply_tuning(self, tuning)

    def _init_new_weights(self) -> None:
        """The original's init: trunc_normal(0.02) for Linear layers and positions, adapters' D_fc2 at zero."""
        trunc_normal_(self.pos_embed, std=0.02)
        trunc_normal_(self.cls_token, std=0.02)
        for module in self.modules():
            if isinstance(module, nn.Linear):
                trunc_normal_(module.weight, std=0.02)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, nn.LayerNorm):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
        for module in self.modules():
            if isinstance(module, Adapter):
                nn.init.zeros_(module.D_fc2.weight)
                nn.init.zeros_(module.D_fc2.bias)

    def init_weights(self) -> None:
        """Loads ``pretrained`` (if given) strictly; adapters keep their zero init."""
        if not self.pretrained:
            return
        source, state = read_state_dict(self.pretrained)
        state = strip_prefix(state, ("backbone.",))
        if is_hf_vit(state):
            state = convert_hf_vit(state, source)
        state = {TIMM_VIT_RENAMES.get(k, k): v for k, v in state.items()}
        load_image_weights(
            self, state, source, adaptation_key=adaptation_keys(self).__contains__,
            unused_key=lambda k: k.startswith(("head.", "pre_logits.", "fc_norm.", "cls_head.")),
            pos_embed_key="pos_embed", num_prefix_tokens=1,
        )
        apply_tuning(self, self.tuning)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, t, h, w = x.shape
        if c != self.patch_embed.proj.in_channels:
            raise ValueError(f"ViT_ImageNet expects {self.patch_embed.proj.in_channels} input channels in (B, C, T, H, W), got shape {tuple(x.shape)}")
        x = self.patch_embed(x.transpose(1, 2).reshape(b * t, c, h, w))  # (B*T, N, D)
        x = torch.cat([self.cls_token.to(x.dtype).expand(x.shape[0], -1, -1), x], dim=1)
        x = self.pos_drop(x + self.pos_embed.to(x.dtype))
        x = add_temporal_embedding(x, self.temporal_embedding, t)
        x = forward_blocks(self.blocks, x, t, self.with_cp and self.training, self.compile_options)
        x = self.ln_post(x[:, 0])  # (B*T, D)
        return x.view(b, t, -1).transpose(1, 2)[:, :, :, None, None]
