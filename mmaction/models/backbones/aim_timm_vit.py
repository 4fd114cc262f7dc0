"""AIMTimmViT: AIM's adaptation applied to any timm ``VisionTransformer`` (ViT, DeiT, DINOv2, SigLIP, CLIP)."""

from typing import Dict, List, Optional, Tuple, Union

import timm
import torch
from mmengine.model import BaseModule
from timm.data import resolve_data_config
from timm.models.vision_transformer import VisionTransformer, checkpoint_filter_fn
from torch import nn

from mmaction.registry import MODELS

from ..utils import add_temporal_embedding, apply_tuning, check_tuning, mark_tunable
from .aim_block import compile_options_of, forward_blocks, timm_aim_block
from .hf_vit_layout import convert_hf_vit, is_hf_vit
from .image_weights import adaptation_keys, load_image_weights, read_state_dict, strip_prefix

#: prefix of the timm model's keys inside this backbone
VIT_PREFIX = "vit."


@MODELS.register_module()
class AIMTimmViT(BaseModule):
    """A timm Vision Transformer, frozen, with AIM's temporal, spatial and joint adapters in every block.

    The image model is ``timm.create_model(model_name, pretrained=False, num_classes=0, ...)``; each
    of its blocks (timm's pre-norm ``Block``: norms, attention, MLP, LayerScale) is wrapped by
    :class:`~mmaction.models.backbones.aim_block.AIMBlock`, keeping timm's parameter names, so the
    state dict is ``vit.<timm key>`` plus ``temporal_embedding`` and the adapters. Class / register
    tokens, positional embeddings, ``norm_pre`` and the read-out are timm's own.

    Read-out (``global_pool``): timm's pooling of the model (``'token'``: the class token, ``'avg'``:
    mean of the patch tokens, ``'map'``: SigLIP's attention pool), followed by its ``fc_norm``; the
    default is the model's own. Trainable under ``tuning='adapter'``: the adapters,
    ``temporal_embedding`` and the read-out (``norm``, ``fc_norm``, ``attn_pool``).

    Mean/std for the data preprocessor come from the weights' timm pretrained config
    (:meth:`default_mean_std`, 0-255 scale), used when the config gives none.

    Args:
        model_name: a timm ViT name, e.g. ``'vit_base_patch16_224.augreg_in21k'``,
            ``'vit_small_patch14_reg4_dinov2'``, ``'vit_base_patch16_siglip_224'``,
            ``'vit_base_patch16_clip_quickgelu_224.openai'``.
        pretrained: weights file or folder (timm ``.pth``/``.safetensors``, a Hugging Face hub-cache
            folder, the original layouts timm's ``checkpoint_filter_fn`` converts, or a checkpoint of
            this backbone). Nothing is downloaded. Loaded strictly by :meth:`init_weights`.
        num_frames: frames per clip of ``temporal_embedding`` (other lengths: resampled over time).
        img_size: image side (default: the model's); the positional embedding is resampled to it.
        global_pool: timm read-out, None for the model's own.
        timm_kwargs: more keyword arguments for ``timm.create_model`` (e.g. tiny sizes in tests).
        adapter_scale: scale of the joint adapter's output.
        num_tadapter: 1 or 2 temporal adapters per block.
        adapter_ratio: adapter bottleneck ratio.
        drop_path_rate: stochastic depth over the blocks, linear from 0 to this value.
        drop_path_mode: ``'token'``, ``'frame'`` or ``'sample'`` (see ``AIMBlock``).
        tuning: ``'adapter'`` | ``'full'`` | ``'linear_probe'``.
        with_cp: gradient checkpointing per block during training.
        torch_compile: run every block through one shared ``torch.compile``'d block function
            (``True`` or a dict of :func:`torch.compile`'s keyword arguments); see
            :func:`~mmaction.models.backbones.aim_block.compiled_block_runner`.
        use_temporal: add the temporal adaptation (ablation switch).
        use_spatial: add the spatial adapter.
        use_joint: add the joint (MLP) adapter.
        init_cfg: unused.

    Shapes:
        x: (B, 3, T, H, W) -> (B, D, T, 1, 1), the read-out feature of every frame.
    """

    def __init__(
        self,
        model_name: str,
        pretrained: Optional[str] = None,
        num_frames: int = 8,
        img_size: Optional[int] = None,
        global_pool: Optional[str] = None,
        timm_kwargs: Optional[dict] = None,
        adapter_scale: float = 0.5,
        num_tadapter: int = 1,
        adapter_ratio: float = 0.25,
        drop_path_rate: float = 0.0,
        drop_path_mode: str = "frame",
        tuning: str = "adapter",
        with_cp: bool = False,
        use_temporal: bool = True,
        use_spatial: bool = True,
        use_joint: bool = True,
        torch_compile: Union[bool, dict] = False,
        init_cfg: Optional[dict] = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        check_tuning(tuning)
        self.compile_options = compile_options_of(torch_compile)
        kwargs = dict(timm_kwargs or {})
        if img_size is not None:
            kwargs["img_size"] = img_size
        if global_pool is not None:
            kwargs["global_pool"] = global_pool
        vit = timm.create_model(model_name, pretrained=False, num_classes=0, **kwargs)
        if not isinstance(vit, VisionTransformer):
            raise ValueError(f"model_name={model_name!r} builds a timm {type(vit).__name__}, not a VisionTransformer; "
                             "AIMTimmViT adapts timm's ViT family (ViT, DeiT, DINOv2, SigLIP, CLIP towers)")
        self.model_name = model_name
        self.num_frames = num_frames
        self.pretrained = pretrained
        self.tuning = tuning
        self.with_cp = with_cp
        width = vit.embed_dim
        depth = len(vit.blocks)
        rates = [drop_path_rate * i / (depth - 1) if depth > 1 else 0.0 for i in range(depth)]
        vit.blocks = nn.ModuleList(
            timm_aim_block(
                block, width, adapter_scale=adapter_scale, num_tadapter=num_tadapter, adapter_ratio=adapter_ratio,
                drop_path=rate, drop_path_mode=drop_path_mode, use_temporal=use_temporal, use_spatial=use_spatial,
                use_joint=use_joint,
            )
            for block, rate in zip(vit.blocks, rates)
        )
        self.vit = vit
        self.width = width
        self.temporal_embedding = nn.Parameter(torch.zeros(1, num_frames, width))
        mark_tunable(self, ["temporal_embedding"])
        for readout in ("norm", "fc_norm", "attn_pool"):
            module = getattr(vit, readout, None)
            if isinstance(module, nn.Module):
                mark_tunable(module)
        apply_tuning(self, tuning)

    def default_mean_std(self) -> Tuple[List[float], List[float]]:
        """RGB mean and std on the 0-255 scale from timm's pretrained config of ``model_name``."""
        cfg = resolve_data_config({}, model=self.vit)
        return [255.0 * m for m in cfg["mean"]], [255.0 * s for s in cfg["std"]]

    def _timm_state(self, state: Dict[str, torch.Tensor], source: str) -> Dict[str, torch.Tensor]:
        """A file's weights in this backbone's names (``vit.`` + timm's key, or already ours)."""
        state = strip_prefix(state, ("backbone.",))
        if any(k.startswith(VIT_PREFIX) for k in state):
            return state
        if is_hf_vit(state):
            state = convert_hf_vit(state, source)
        state = checkpoint_filter_fn(state, self.vit)  # timm's own conversion of original layouts
        return {VIT_PREFIX + k: v for k, v in state.items()}

    def init_weights(self) -> None:
        """Loads ``pretrained`` strictly; adapters and temporal embedding keep their zero init."""
        if not self.pretrained:
            return
        source, state = read_state_dict(self.pretrained)
        has_attn_pool = getattr(self.vit, "attn_pool", None) is not None
        load_image_weights(
            self, self._timm_state(state, source), source, adaptation_key=adaptation_keys(self).__contains__,
            unused_key=lambda k: k.startswith(("vit.head.", "cls_head.")) or (
                not has_attn_pool and k.startswith("vit.attn_pool.")),
            pos_embed_key="vit.pos_embed",
            num_prefix_tokens=0 if getattr(self.vit, "no_embed_class", False) else self.vit.num_prefix_tokens,
        )
        apply_tuning(self, self.tuning)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, t, h, w = x.shape
        vit = self.vit
        x = vit.patch_embed(x.transpose(1, 2).reshape(b * t, c, h, w))
        x = vit._pos_embed(x)  # timm's class/register tokens and positions (no public equivalent)
        x = vit.patch_drop(x)
        x = add_temporal_embedding(x, self.temporal_embedding, t)
        x = vit.norm_pre(x)
        x = forward_blocks(vit.blocks, x, t, self.with_cp and self.training, self.compile_options)
        x = vit.forward_head(vit.norm(x), pre_logits=True)  # (B*T, D)
        return x.view(b, t, -1).transpose(1, 2)[:, :, :, None, None]
