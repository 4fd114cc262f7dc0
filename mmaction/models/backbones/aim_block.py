"""AIM's adaptation of one image transformer block: temporal, spatial and joint adapters around the
block's own (frozen) norms, attention, MLP and LayerScale."""

from typing import Callable, Dict, Mapping, Optional, Union

import torch
from timm.models.vision_transformer import Block
from torch import nn
from torch.utils.checkpoint import checkpoint

from .adapter import Adapter

#: attribute names of the parts in OpenAI CLIP's residual blocks (released AIM checkpoints)
CLIP_PART_NAMES: Dict[str, str] = dict(norm1="ln_1", attn="attn", norm2="ln_2", mlp="mlp", ls1="ls1", ls2="ls2")
#: attribute names of the parts in timm's ``vision_transformer.Block``
TIMM_PART_NAMES: Dict[str, str] = dict(norm1="norm1", attn="attn", norm2="norm2", mlp="mlp", ls1="ls1", ls2="ls2")

DROP_PATH_MODES = ("token", "frame", "sample")


def drop_path_mask(x: torch.Tensor, rate: Union[float, torch.Tensor], mode: str,
                   num_frames: int) -> Optional[torch.Tensor]:
    """Stochastic-depth keep mask for a residual branch of x, or None when nothing drops (rate 0).

    Args:
        x: (B*T, L, D), the T frames of one clip contiguous.
        rate: drop probability, a number or a 0-dim tensor (a tensor is never tested against 0
            here: :class:`DropPathRate` keeps it as one so that ``torch.compile`` traces it as an
            input instead of specialising each block's graph on its value).
        mode: ``'token'`` (one draw per token position, shared by every frame), ``'frame'`` (one per
            frame) or ``'sample'`` (one per clip).
        num_frames: T.

    Returns:
        (1, L, 1) (``'token'``) or (B*T, 1, 1) mask, values 0 or 1 / (1 - rate).
    """
    if not isinstance(rate, torch.Tensor) and rate <= 0.0:
        return None
    keep = 1.0 - rate
    if mode == "token":
        shape = (1, x.shape[1], 1)
    elif mode == "frame":
        shape = (x.shape[0], 1, 1)
    else:
        shape = (x.shape[0] // num_frames, 1, 1, 1)
    # uniform < keep rather than bernoulli_(keep): the same distribution, and under torch.compile
    # the rate stays an input of the graph (bernoulli_ would specialise the graph on each block's rate)
    mask = torch.rand(shape, dtype=x.dtype, device=x.device).lt_(keep).div_(keep)
    if mode == "sample":
        mask = mask.expand(shape[0], num_frames, 1, 1).reshape(-1, 1, 1)
    return mask


class DropPathRate(nn.Module):
    """One block's stochastic-depth rate and mode: the keep masks of its residual branches.

    The rate is a non-persistent 0-dim buffer (not in the state dict; it follows the model's
    device), and whether the block drops at all a bool: every block with a rate above 0 runs the
    same code with the rate as a tensor input, so one compiled block function serves them all
    (a Python float would make Dynamo guard on, and recompile for, each block's value).

    Args:
        rate: drop probability in [0, 1).
        mode: see :func:`drop_path_mask`.
    """

    def __init__(self, rate: float = 0.0, mode: str = "token") -> None:
        super().__init__()
        if mode not in DROP_PATH_MODES:
            raise ValueError(f"drop_path_mode must be one of {DROP_PATH_MODES}, got {mode!r}")
        if not 0.0 <= float(rate) < 1.0:
            raise ValueError(f"drop-path rate must be in [0, 1), got {rate!r}")
        self.mode = mode
        self.active = float(rate) > 0.0
        self.register_buffer("rate", torch.tensor(float(rate)), persistent=False)

    def mask(self, x: torch.Tensor, num_frames: int) -> Optional[torch.Tensor]:
        """Keep mask for a residual branch of x (see :func:`drop_path_mask`); None in eval mode or at rate 0."""
        if not (self.training and self.active):
            return None
        return drop_path_mask(x, self.rate, self.mode, num_frames)

    def extra_repr(self) -> str:
        return f"rate={float(self.rate):.4g}, mode={self.mode!r}"


class AIMBlock(nn.Module):
    """One pre-norm image block ``x + ls1(attn(norm1(x)))``, ``x + ls2(mlp(norm2(x)))`` adapted by AIM.

    The block receives the image model's own modules and adds, each switchable for the ablation:

    1. temporal (``use_temporal``): tokens at the same position attend across the T frames of
       their clip through the same attention; ``T_Adapter`` (no skip) maps the result back:
       ``x + drop_path(T_Adapter(ls1(attn(norm1(x_t)))))``. With ``num_tadapter=2`` a
       ``T_Adapter_in`` (with skip) runs before the attention.
    2. spatial (``use_spatial``): ``x + S_Adapter(ls1(attn(norm1(x))))`` (skip adapter); when off,
       the image block's own ``x + drop_path(ls1(attn(norm1(x))))``.
    3. joint (``use_joint``): ``x + ls2(mlp(xn)) + drop_path(scale * MLP_Adapter(xn))`` with
       ``xn = norm2(x)`` (no-skip adapter); when off, ``x + drop_path(ls2(mlp(xn)))``.

    Adapters start as zero / identity, so the adapted block starts as the image block applied to
    every frame. Every part runs through its own ``forward`` (a wrapper placed on a frozen linear,
    e.g. LoRA, takes effect). The parts are stored under the names ``part_names`` gives, so the
    state-dict keys equal the image model's (``ln_1``/``mlp.c_fc`` for CLIP, ``norm1``/``mlp.fc1``
    for timm) plus ``T_Adapter``, ``T_Adapter_in``, ``S_Adapter``, ``MLP_Adapter``.

    Drop-path, the adapter scale and the residual add run as one fused ``add``/``addcmul``.

    Args:
        norm1: the block's attention pre-norm.
        attn: the block's self-attention, batch-first: (N, S, D) -> (N, S, D).
        norm2: the block's MLP pre-norm.
        mlp: the block's MLP.
        width: model width D.
        ls1: LayerScale after the attention (DINOv2), or None.
        ls2: LayerScale after the MLP, or None.
        part_names: attribute names of ``norm1``, ``attn``, ``norm2``, ``mlp``, ``ls1``, ``ls2``
            (:data:`CLIP_PART_NAMES`, :data:`TIMM_PART_NAMES`).
        adapter_scale: scale of the joint adapter's output.
        num_tadapter: 1 or 2 temporal adapters.
        adapter_ratio: bottleneck ratio of every adapter.
        drop_path: stochastic depth rate of this block.
        drop_path_mode: which elements share one keep/drop draw: ``'token'`` (one draw per token
            position, shared by every frame of the batch: what the original CLIP code's
            (L, B*T, D) layout gives), ``'frame'`` (one per frame: the original ImageNet-ViT code)
            or ``'sample'`` (one per clip).
        use_temporal: add the temporal adaptation.
        use_spatial: add the spatial adapter.
        use_joint: add the joint (MLP) adapter.

    Shapes:
        x: (B*T, L, D) -> (B*T, L, D), the T frames of one clip contiguous.
    """

    def __init__(
        self,
        norm1: nn.Module,
        attn: nn.Module,
        norm2: nn.Module,
        mlp: nn.Module,
        *,
        width: int,
        ls1: Optional[nn.Module] = None,
        ls2: Optional[nn.Module] = None,
        part_names: Mapping[str, str] = CLIP_PART_NAMES,
        adapter_scale: float = 0.5,
        num_tadapter: int = 1,
        adapter_ratio: float = 0.25,
        drop_path: float = 0.0,
        drop_path_mode: str = "token",
        use_temporal: bool = True,
        use_spatial: bool = True,
        use_joint: bool = True,
    ) -> None:
        super().__init__()
        if num_tadapter not in (1, 2):
            raise ValueError(f"num_tadapter must be 1 or 2, got {num_tadapter}")
        missing = sorted({"norm1", "attn", "norm2", "mlp", "ls1", "ls2"} - set(part_names))
        if missing:
            raise ValueError(f"part_names lacks the role(s) {missing}")
        self._names = dict(part_names)
        for role, module in (("norm1", norm1), ("attn", attn), ("norm2", norm2), ("mlp", mlp)):
            if not isinstance(module, nn.Module):
                raise TypeError(f"AIMBlock needs the image block's {role} module, got {module!r}")
            setattr(self, self._names[role], module)
        for role, module in (("ls1", ls1), ("ls2", ls2)):  # LayerScale: absent or identity -> skipped
            if module is None or isinstance(module, nn.Identity):
                self._names[role] = ""
            else:
                setattr(self, self._names[role], module)
        self.scale = adapter_scale
        self.num_tadapter = num_tadapter
        self.use_temporal = use_temporal
        self.use_spatial = use_spatial
        self.use_joint = use_joint
        if use_joint:
            self.MLP_Adapter = Adapter(width, adapter_ratio, skip_connect=False)
        if use_spatial:
            self.S_Adapter = Adapter(width, adapter_ratio, skip_connect=True)
        if use_temporal:
            self.T_Adapter = Adapter(width, adapter_ratio, skip_connect=False)
            if num_tadapter == 2:
                self.T_Adapter_in = Adapter(width, adapter_ratio, skip_connect=True)
        self.drop_path = DropPathRate(drop_path, drop_path_mode)

    # ------------------------------------------------------------------ parts
    def part(self, role: str) -> Optional[nn.Module]:
        """The image block's module playing ``role`` (``'norm1'``, ``'attn'``, ``'ls1'``...), or None."""
        name = self._names[role]
        return getattr(self, name) if name else None

    def _scaled(self, role: str, h: torch.Tensor) -> torch.Tensor:
        ls = self.part(role)
        return h if ls is None else ls(h)

    # ------------------------------------------------------------------ drop path
    @property
    def drop_path_rate(self) -> float:
        """This block's stochastic-depth rate."""
        return float(self.drop_path.rate)

    @property
    def drop_path_mode(self) -> str:
        return self.drop_path.mode

    def residual_add(self, x: torch.Tensor, h: torch.Tensor, num_frames: int, scale: float = 1.0) -> torch.Tensor:
        """``x + drop_path(scale * h)`` in one fused operation."""
        mask = self.drop_path.mask(x, num_frames)
        if mask is None:
            return torch.add(x, h, alpha=scale)
        return torch.addcmul(x, h, mask if scale == 1.0 else mask * scale)

    # ------------------------------------------------------------------ branches
    def temporal_branch(self, x: torch.Tensor, num_frames: int) -> torch.Tensor:
        """The temporal branch h (before drop_path), shape (B*T, L, D)."""
        bt, n, d = x.shape
        b = bt // num_frames
        # The norm is per token, so it runs before the regrouping. The regrouped tensor must be
        # contiguous: for B=1 reshape returns a strided view, and F.linear on a strided 3-D input
        # falls back to a batched matmul that copies the weight once per sequence.
        h = self.part("norm1")(x).view(b, num_frames, n, d).transpose(1, 2).contiguous().view(b * n, num_frames, d)
        if self.num_tadapter == 2:
            h = self.T_Adapter_in(h)
        h = self.T_Adapter(self._scaled("ls1", self.part("attn")(h)))
        return h.view(b, n, num_frames, d).transpose(1, 2).reshape(bt, n, d)

    def forward(self, x: torch.Tensor, num_frames: int) -> torch.Tensor:
        if self.use_temporal:
            x = self.residual_add(x, self.temporal_branch(x, num_frames), num_frames)
        h = self._scaled("ls1", self.part("attn")(self.part("norm1")(x)))
        x = x + self.S_Adapter(h) if self.use_spatial else self.residual_add(x, h, num_frames)
        xn = self.part("norm2")(x)
        h = self._scaled("ls2", self.part("mlp")(xn))
        if self.use_joint:
            return self.residual_add(x + h, self.MLP_Adapter(xn), num_frames, self.scale)
        return self.residual_add(x, h, num_frames)


def run_block(block: nn.Module, x: torch.Tensor, num_frames: int) -> torch.Tensor:
    """``block(x, num_frames)``: the one function :func:`compiled_block_runner` compiles for every block."""
    return block(x, num_frames)


#: compiled :func:`run_block` per ``torch.compile`` options (``repr`` of their sorted items)
_COMPILED_RUNNERS: Dict[str, Callable[[nn.Module, torch.Tensor, int], torch.Tensor]] = {}


def compile_options_of(torch_compile: Union[bool, Mapping]) -> Optional[dict]:
    """A backbone's ``torch_compile`` argument as :func:`forward_blocks`' ``compile_options``.

    Args:
        torch_compile: ``False`` (eager), ``True`` (``torch.compile`` defaults) or a dict of
            :func:`torch.compile` keyword arguments, e.g. ``dict(mode='max-autotune')``.

    Returns:
        None for eager mode, else the keyword arguments.

    Raises:
        TypeError: ``torch_compile`` is neither a bool nor a dict (the message shows the value).
    """
    if isinstance(torch_compile, bool):
        return {} if torch_compile else None
    if isinstance(torch_compile, Mapping):
        return dict(torch_compile)
    raise TypeError(f"torch_compile must be a bool or a dict of torch.compile arguments, got {torch_compile!r}")


def compiled_block_runner(options: Mapping) -> Callable[[nn.Module, torch.Tensor, int], torch.Tensor]:
    """``torch.compile(run_block, **options)``, made once per options and shared by every block.

    The block is an argument of the compiled function, not its owner: Dynamo traces the block's
    code once and guards on what the blocks share (types, shapes, dtypes, ``requires_grad``,
    training mode), not on each block's identity or parameters, so a 12-block model compiles
    one graph (two when the first block has no drop-path) instead of recompiling per block until
    Dynamo's recompile limit (8) sends the remaining blocks back to eager mode.

    Args:
        options: keyword arguments of :func:`torch.compile` (``{}``: its defaults).
    """
    key = repr(sorted(options.items()))
    runner = _COMPILED_RUNNERS.get(key)
    if runner is None:
        runner = _COMPILED_RUNNERS[key] = torch.compile(run_block, **options)
    return runner


def forward_blocks(blocks: nn.ModuleList, x: torch.Tensor, num_frames: int, with_cp: bool = False,
                   compile_options: Optional[Mapping] = None) -> torch.Tensor:
    """Runs ``x`` through adapted blocks, each under gradient checkpointing when ``with_cp`` and grad is on.

    Args:
        blocks: modules called as ``block(x, num_frames)``.
        x: the tokens.
        num_frames: T.
        with_cp: gradient checkpointing per block.
        compile_options: run every block through the one compiled :func:`run_block` of
            :func:`compiled_block_runner` (``torch.compile`` keyword arguments); None: eager.

    Shapes:
        x: (B*T, L, D) -> (B*T, L, D).
    """
    runner = run_block if compile_options is None else compiled_block_runner(compile_options)
    for block in blocks:
        if with_cp and torch.is_grad_enabled():
            x = checkpoint(runner, block, x, num_frames, use_reentrant=False)
        else:
            x = runner(block, x, num_frames)
    return x


def timm_aim_block(block: nn.Module, width: int, **adaptation) -> AIMBlock:
    """AIM's adaptation around a timm ``vision_transformer.Block`` (pre-norm, optional LayerScale).

    The block's own ``norm1``, ``attn``, ``ls1``, ``norm2``, ``mlp``, ``ls2`` are kept under their
    timm names, so timm checkpoints load as they are.

    Raises:
        ValueError: the block is not a pre-norm ``x + ls(attn(norm(x)))`` block (the message names its type).
    """
    if not isinstance(block, Block) or type(block).forward is not Block.forward:
        raise ValueError(f"{type(block).__name__} is not timm's pre-norm vision_transformer.Block "
                         "(x + ls1(attn(norm1(x))), x + ls2(mlp(norm2(x)))); AIMBlock cannot adapt it")
    return AIMBlock(
        block.norm1, block.attn, block.norm2, block.mlp, width=width, ls1=getattr(block, "ls1", None),
        ls2=getattr(block, "ls2", None), part_names=TIMM_PART_NAMES, **adaptation,
    )
