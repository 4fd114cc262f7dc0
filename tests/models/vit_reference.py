"""Independent plain-tensor computations of AIM on an ImageNet ViT and of the TimeSformer baseline,
written from the descriptions (the original repository's behaviour), used as ground truth.

Layout of the ImageNet ViT: batch-first (B*T, L, D), timm names (``attn.qkv``, ``attn.proj``,
``mlp.fc1``/``fc2``, ``norm1``/``norm2``), LayerNorm eps 1e-6, exact GELU, no norm before the blocks.
TimeSformer: CLIP layout in (L, B*T, D), a separate temporal attention ``t_attn`` + ``t_norm`` and a
linear ``T_Adapter``. Shares no code with ``mmaction.models``.
"""

from typing import Dict

import torch

from .aim_reference import adapter, attention, gelu_exact, layer_norm, linear

Tensor = torch.Tensor


def qkv_attention(x: Tensor, sd: Dict[str, Tensor], name: str, heads: int) -> Tensor:
    """timm-style attention over dim 1 of x: (N, S, D) -> (N, S, D), explicit softmax."""
    n, s, d = x.shape
    dh = d // heads
    qkv = linear(x, sd, name + ".qkv").reshape(n, s, 3, heads, dh).permute(2, 0, 3, 1, 4)
    q, k, v = qkv[0], qkv[1], qkv[2]
    att = torch.softmax((q @ k.transpose(-1, -2)) * dh**-0.5, dim=-1)
    return linear((att @ v).transpose(1, 2).reshape(n, s, d), sd, name + ".proj")


def patch_tokens(video: Tensor, weight: Tensor, bias=None) -> Tensor:
    """(B, 3, T, H, W) -> (B*T, N, D) by an explicit unfold + matmul (a conv with stride = kernel)."""
    b, c, t, hh, ww = video.shape
    d, _, p, _ = weight.shape
    frames = video.permute(0, 2, 1, 3, 4).reshape(b * t, c, hh, ww)
    patches = frames.unfold(2, p, p).unfold(3, p, p).permute(0, 2, 3, 1, 4, 5).reshape(b * t, -1, c * p * p)
    x = patches @ weight.reshape(d, -1).T
    return x if bias is None else x + bias


def imagenet_block(x: Tensor, sd: Dict[str, Tensor], p: str, heads: int, t: int, num_tadapter: int, scale: float) -> Tensor:
    bt, n, d = x.shape
    b = bt // t
    ln = lambda z, name: layer_norm(z, sd[p + name + ".weight"], sd[p + name + ".bias"], eps=1e-6)  # noqa: E731
    xt = x.reshape(b, t, n, d).permute(0, 2, 1, 3).reshape(b * n, t, d)
    h = ln(xt, "norm1")
    if num_tadapter == 2:
        h = adapter(h, sd, p + "T_Adapter_in", skip=True)
    h = adapter(qkv_attention(h, sd, p + "attn", heads), sd, p + "T_Adapter", skip=False)
    x = x + h.reshape(b, n, t, d).permute(0, 2, 1, 3).reshape(bt, n, d)
    x = x + adapter(qkv_attention(ln(x, "norm1"), sd, p + "attn", heads), sd, p + "S_Adapter", skip=True)
    xn = ln(x, "norm2")
    mlp = linear(gelu_exact(linear(xn, sd, p + "mlp.fc1")), sd, p + "mlp.fc2")
    return x + mlp + scale * adapter(xn, sd, p + "MLP_Adapter", skip=False)


def vit_imagenet_features(video: Tensor, sd: Dict[str, Tensor], *, heads: int, layers: int, num_tadapter: int,
                          scale: float) -> Tensor:
    """(B, 3, T, H, W) -> (B, D, T): ln_post of every frame's class token (backbone keys, no prefix)."""
    sd = {k: v.double() for k, v in sd.items()}
    b, _, t = video.shape[:3]
    x = patch_tokens(video.double(), sd["patch_embed.proj.weight"], sd["patch_embed.proj.bias"])
    d = x.shape[-1]
    x = torch.cat([sd["cls_token"].expand(b * t, 1, d), x], dim=1) + sd["pos_embed"]
    x = (x.reshape(b, t, -1, d) + sd["temporal_embedding"].reshape(1, t, 1, d)).reshape(b * t, -1, d)
    for i in range(layers):
        x = imagenet_block(x, sd, f"blocks.{i}.", heads, t, num_tadapter, scale)
    x = layer_norm(x, sd["ln_post.weight"], sd["ln_post.bias"], eps=1e-6)[:, 0]
    return x.reshape(b, t, d).transpose(1, 2)


def timesformer_block(x: Tensor, sd: Dict[str, Tensor], p: str, heads: int, t: int) -> Tensor:
    """Divided space-time block in the (L, B*T, D) layout (eval: no drop path)."""
    n, bt, d = x.shape
    b = bt // t
    ln = lambda z, name: layer_norm(z, sd[p + name + ".weight"], sd[p + name + ".bias"])  # noqa: E731
    xt = x.reshape(n, b, t, d).permute(2, 1, 0, 3).reshape(t, b * n, d)
    h = linear(attention(ln(xt, "t_norm"), sd, p + "t_attn", heads), sd, p + "T_Adapter")
    x = x + h.reshape(t, b, n, d).permute(2, 1, 0, 3).reshape(n, bt, d)
    x = x + attention(ln(x, "ln_1"), sd, p + "attn", heads)
    fc = linear(ln(x, "ln_2"), sd, p + "mlp.c_fc")
    return x + linear(fc * torch.sigmoid(1.702 * fc), sd, p + "mlp.c_proj")


def timesformer_features(video: Tensor, sd: Dict[str, Tensor], *, heads: int, layers: int) -> Tensor:
    """(B, 3, T, H, W) -> (B, D, T) from TimeSformer backbone keys (no prefix)."""
    sd = {k: v.double() for k, v in sd.items()}
    b, _, t = video.shape[:3]
    x = patch_tokens(video.double(), sd["conv1.weight"])
    d = x.shape[-1]
    x = torch.cat([sd["class_embedding"].expand(b * t, 1, d), x], dim=1) + sd["positional_embedding"]
    x = (x.reshape(b, t, -1, d) + sd["temporal_embedding"].reshape(1, t, 1, d)).reshape(b * t, -1, d)
    x = layer_norm(x, sd["ln_pre.weight"], sd["ln_pre.bias"]).permute(1, 0, 2)
    for i in range(layers):
        x = timesformer_block(x, sd, f"transformer.resblocks.{i}.", heads, t)
    x = layer_norm(x[0], sd["ln_post.weight"], sd["ln_post.bias"])
    return x.reshape(b, t, d).transpose(1, 2)

