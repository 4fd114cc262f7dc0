"""SwinTransformer2D_Adapter: AIM on a frozen 2-D Swin image model (the original's Swin-B experiments)."""

from typing import List, Optional, Sequence, Tuple, Union

import torch
from mmengine.model import BaseModule
from timm.layers import DropPath, Mlp, to_2tuple
from timm.models.swin_transformer import PatchMerging
from torch import nn

from mmaction.registry import MODELS

from .adapter import Adapter
from .swin_adapter_block import SwinAdapterBlock
from .swin_stage import SwinStage
from .swin_tubelet_embed import TubeletEmbed
from .swin_window_attention import SwinWindowAttention


@MODELS.register_module()
class SwinTransformer2D_Adapter(BaseModule):  # noqa: N801 (name kept from the original configs)
    """A 2-D Swin image model, applied to tubelets of a clip, with AIM's adapters.

    A (t, p, p) tubelet embedding (the 2-D patch embedding inflated over time) turns a clip of T
    frames into T' = T/t time steps of Swin tokens. Every block adapts the frozen Swin block
    spatially (``S_Adapter2``, after window attention) and jointly (``S_Adapter``, beside the MLP);
    every other block (the even ones, those with regular windows) also re-uses its window
    attention across the T' time steps of each token position, with a learnt relative temporal
    bias (``temporal_position_bias_table``) and adapts it with ``T_Adapter``. With
    ``t_relative=False`` a ``temporal_embedding`` (1, T', C) is also added to the tokens.

    Args, as the original (``pretrained`` first):
        pretrained: Swin image weights (Microsoft's ``{'model': ...}`` or timm's layout) or a
            checkpoint of this backbone; loaded by :meth:`init_weights`. None: random weights.
        img_size: frame size (int or (H, W)); unlike the original, honoured.
        patch_size: tubelet (t, p, p).
        num_frames: frames per clip T; T/t time steps set the temporal tables' size.
        in_chans: input channels.
        embed_dim: width C of the first stage (doubles at every stage).
        depths: blocks per stage.
        num_heads: attention heads per stage.
        window_size: window side; a stage whose grid is not larger uses its whole grid, unshifted.
        mlp_ratio: MLP hidden width / C.
        frozen_stages: -1 none; 0 the patch embedding; k >= 1 also stages 0..k-1 (adapters
            included): no gradients, kept in eval mode.
        qkv_bias: bias of the qkv projections.
        qk_scale: override of the attention scale.
        drop_rate: dropout after the embedding, in the MLPs and after attention.
        attn_drop_rate: dropout on attention weights.
        drop_path_rate: stochastic depth of the adapter branches, linear over all blocks from 0.
        patch_norm: LayerNorm after the tubelet embedding.
        t_relative: True (original default): temporal bias tables only; False: also a
            ``temporal_embedding``.
        use_checkpoint: gradient checkpointing per block while training.

    Args added here:
        adapter_ratio: adapter bottleneck ratio (0.25).
        adapter_scale: scale of the joint adapter (0.5 in the original).
        tuning: ``'adapter'`` (the original's rule: the adapters, and ``temporal_embedding`` when
            present, train; the Swin weights, its final ``norm`` and the temporal bias tables stay
            frozen, as the original tools/train.py froze every name without 'Adapter'),
            ``'full'`` or ``'linear_probe'`` (nothing in the backbone trains).
        init_cfg: unused (AIM's own initialisation).

    Shapes:
        x: (B, 3, T, H, W) -> (B, C_last, T/t, H/(p*2^(S-1)), W/(p*2^(S-1))) after the final ``norm``,
        for an I3D head.
    """

    def __init__(
        self,
        pretrained: Optional[str] = None,
        img_size: Union[int, Tuple[int, int]] = 224,
        patch_size: Sequence[int] = (2, 4, 4),
        num_frames: int = 32,
        in_chans: int = 3,
        embed_dim: int = 96,
        depths: Sequence[int] = (2, 2, 6, 2),
        num_heads: Sequence[int] = (3, 6, 12, 24),
        window_size: int = 7,
        mlp_ratio: float = 4.0,
        frozen_stages: int = -1,
        qkv_bias: bool = True,
        qk_scale: Optional[float] = None,
        drop_rate: float = 0.0,
        attn_drop_rate: float = 0.0,
        drop_path_rate: float = 0.1,
        patch_norm: bool = True,
        t_relative: bool = True,
        use_checkpoint: bool = False,
        adapter_ratio: float = 0.25,
        adapter_scale: float = 0.5,
        tuning: str = "adapter",
        init_cfg: Optional[dict] = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        if tuning not in ("adapter", "full", "linear_probe"):
            raise ValueError(f"tuning must be 'adapter', 'full' or 'linear_probe', got {tuning!r}")
        if len(depths) != len(num_heads):
            raise ValueError(f"depths {tuple(depths)} and num_heads {tuple(num_heads)} differ in length")
        patch_size = tuple(patch_size) if isinstance(patch_size, (list, tuple)) else patch_size
        if not isinstance(patch_size, tuple) or len(patch_size) != 3:
            raise ValueError(f"patch_size must be a tubelet (t, p, p), e.g. (2, 4, 4); got {patch_size!r}")
        if num_frames % patch_size[0]:
            raise ValueError(f"num_frames {num_frames} is not a multiple of the tubelet time size {patch_size[0]}")
        if not -1 <= frozen_stages <= len(depths):
            raise ValueError(f"frozen_stages must be in [-1, {len(depths)}], got {frozen_stages}")
        self.pretrained = pretrained
        self.img_size = to_2tuple(img_size)
        self.patch_size = patch_size
        self.num_frames = num_frames
        self.num_time_tokens = num_frames // patch_size[0]
        self.embed_dim = embed_dim
        self.depths = tuple(depths)
        self.num_layers = len(depths)
        self.num_features = embed_dim * 2 ** (self.num_layers - 1)
        self.frozen_stages = frozen_stages
        self.t_relative = t_relative
        self.tuning = tuning

        self.patch_embed = TubeletEmbed(self.img_size, patch_size, in_chans, embed_dim,
                                        nn.LayerNorm(embed_dim) if patch_norm else None)
        if not t_relative:
            self.temporal_embedding = nn.Parameter(torch.zeros(1, self.num_time_tokens, embed_dim))
        self.pos_drop = nn.Dropout(p=drop_rate)
        total = sum(depths)
        rates = [drop_path_rate * i / (total - 1) if total > 1 else 0.0 for i in range(total)]
        grid = self.patch_embed.grid
        layers = []
        for i, (depth, heads) in enumerate(zip(depths, num_heads)):
            dim = embed_dim * 2 ** i
            resolution = (grid[0] // 2 ** i, grid[1] // 2 ** i)
            blocks = [
                self._block(dim, heads, resolution, window_size, shift=j % 2 == 1, temporal=j % 2 == 0,
                            mlp_ratio=mlp_ratio, qkv_bias=qkv_bias, qk_scale=qk_scale, drop=drop_rate,
                            attn_drop=attn_drop_rate, drop_path=rates[sum(depths[:i]) + j],
                            adapter_ratio=adapter_ratio, adapter_scale=adapter_scale)
                for j in range(depth)
            ]
            downsample = PatchMerging(dim) if i < self.num_layers - 1 else None
            layers.append(SwinStage(blocks, downsample, with_cp=use_checkpoint))
        self.layers = nn.ModuleList(layers)
        self.norm = nn.LayerNorm(self.num_features)
        self.out_grid = layers[-1].resolution
        self._init_new_layers()
        self.apply_tuning()

    def _block(self, dim: int, heads: int, resolution: Tuple[int, int], window_size: int, *, shift: bool,
               temporal: bool, mlp_ratio: float, qkv_bias: bool, qk_scale: Optional[float], drop: float,
               attn_drop: float, drop_path: float, adapter_ratio: float, adapter_scale: float) -> SwinAdapterBlock:
        """One block's parts, as the original builds them."""
        if min(resolution) <= window_size:  # the whole grid is one window, nothing to shift
            window_size, shift_size = min(resolution), 0
        else:
            shift_size = window_size // 2 if shift else 0
        attn = SwinWindowAttention(dim, window_size, heads, self.num_time_tokens if temporal else None,
                                   qkv_bias=qkv_bias, qk_scale=qk_scale, attn_drop=attn_drop, proj_drop=drop)
        return SwinAdapterBlock(
            norm1=nn.LayerNorm(dim),
            attn=attn,
            norm2=nn.LayerNorm(dim),
            mlp=Mlp(dim, int(dim * mlp_ratio), act_layer=nn.GELU, drop=drop),
            spatial_adapter=Adapter(dim, adapter_ratio, skip_connect=True),
            joint_adapter=Adapter(dim, adapter_ratio, skip_connect=False),
            temporal_adapter=Adapter(dim, adapter_ratio, skip_connect=False) if temporal else None,
            resolution=resolution,
            shift_size=shift_size,
            adapter_scale=adapter_scale,
            drop_path=DropPath(drop_path) if drop_path > 0 else None,
        )

    # ------------------------------------------------------------------ weights and tuning
    def _init_new_layers(self) -> None:
        """The original's init: trunc_normal(0.02) Linear weights, zero biases, unit LayerNorms,
        trunc_normal(0.02) bias tables and temporal embedding; adapters' ``D_fc2`` at zero."""
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.trunc_normal_(module.weight, std=0.02)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, nn.LayerNorm):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
            elif isinstance(module, SwinWindowAttention):
                nn.init.trunc_normal_(module.relative_position_bias_table, std=0.02)
                if module.num_time_tokens is not None:
                    nn.init.trunc_normal_(module.temporal_position_bias_table, std=0.02)
        for module in self.modules():
            if isinstance(module, Adapter):
                module.reset_parameters()
        if not self.t_relative:
            nn.init.trunc_normal_(self.temporal_embedding, std=0.02)

    def init_weights(self) -> None:
        """Loads ``pretrained`` (if any); the adaptation's parameters keep their initial values."""
        if self.pretrained:
            from .swin_checkpoint import load_swin_pretrained

            load_swin_pretrained(self, self.pretrained, time_size=self.patch_size[0])
        self.apply_tuning()

    def tunable_modules(self) -> List[nn.Module]:
        """The modules that train under ``tuning='adapter'``: every adapter, and any module that
        declares itself with ``trains_with_adapters = True`` (e.g. a LoRA wrapper added later)."""
        return [m for m in self.modules() if isinstance(m, Adapter) or getattr(m, "trains_with_adapters", False)]

    def frozen_modules(self) -> List[nn.Module]:
        """The modules ``frozen_stages`` freezes (no gradients, eval mode)."""
        modules: List[nn.Module] = [self.patch_embed] if self.frozen_stages >= 0 else []
        if self.frozen_stages >= 1:
            modules += [self.pos_drop, *self.layers[: self.frozen_stages]]
        return modules

    def apply_tuning(self) -> None:
        """Sets ``requires_grad`` from ``tuning``, then ``frozen_stages``."""
        for param in self.parameters():
            param.requires_grad_(self.tuning == "full")
        if self.tuning == "adapter":
            for module in self.tunable_modules():
                module.requires_grad_(True)
            if not self.t_relative:
                self.temporal_embedding.requires_grad_(True)
        for module in self.frozen_modules():
            module.requires_grad_(False)
            module.eval()

    def train(self, mode: bool = True) -> "SwinTransformer2D_Adapter":
        """Training mode, keeping the ``frozen_stages`` modules in eval mode."""
        super().train(mode)
        for module in self.frozen_modules():
            module.eval()
        return self

    # ------------------------------------------------------------------ forward
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b = x.shape[0]
        x = self.patch_embed(x)  # (B*T', H'W', C)
        t = x.shape[0] // b
        if t > self.num_time_tokens:
            raise ValueError(f"the clip has {t * self.patch_size[0]} frames but the model was built for "
                             f"num_frames={self.num_frames}")
        if not self.t_relative:
            if t != self.num_time_tokens:
                raise ValueError(f"the clip has {t * self.patch_size[0]} frames but temporal_embedding was built "
                                 f"for num_frames={self.num_frames}")
            x = (x.view(b, t, -1, self.embed_dim) + self.temporal_embedding[:, :, None]).flatten(0, 1)
        x = self.pos_drop(x)
        for layer in self.layers:
            x = layer(x, t)
        x = self.norm(x)  # (B*T', h*w, C_last)
        h, w = self.out_grid
        return x.view(b, t, h, w, -1).permute(0, 4, 1, 2, 3)
