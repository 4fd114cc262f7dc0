"""An independent plain-tensor computation of AIM (spec §1), used as ground truth in the tests.

Written from the description only, in the original's (L, B*T, D) layout with an explicit softmax;
it shares no code with ``mmaction.models``.
"""

import math
from typing import Dict

import torch

Tensor = torch.Tensor


def layer_norm(x: Tensor, w: Tensor, b: Tensor, eps: float = 1e-5) -> Tensor:
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + eps) * w + b


def linear(x: Tensor, sd: Dict[str, Tensor], name: str) -> Tensor:
    return x @ sd[name + ".weight"].T + sd[name + ".bias"]


def gelu_exact(x: Tensor) -> Tensor:
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def adapter(x: Tensor, sd: Dict[str, Tensor], name: str, skip: bool) -> Tensor:
    h = linear(gelu_exact(linear(x, sd, name + ".D_fc1")), sd, name + ".D_fc2")
    return x + h if skip else h


def attention(x: Tensor, sd: Dict[str, Tensor], name: str, heads: int) -> Tensor:
    """Multi-head self-attention over dim 0 of x: (S, N, D) -> (S, N, D)."""
    s, n, d = x.shape
    qkv = x @ sd[name + ".in_proj_weight"].T + sd[name + ".in_proj_bias"]
    q, k, v = qkv.split(d, dim=-1)
    dh = d // heads

    def split(t: Tensor) -> Tensor:  # (S, N, D) -> (N, H, S, dh)
        return t.reshape(s, n, heads, dh).permute(1, 2, 0, 3)

    q, k, v = split(q), split(k), split(v)
    att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(dh), dim=-1)
    out = (att @ v).permute(2, 0, 1, 3).reshape(s, n, d)
    return out @ sd[name + ".out_proj.weight"].T + sd[name + ".out_proj.bias"]


def block(x: Tensor, sd: Dict[str, Tensor], p: str, heads: int, t: int, num_tadapter: int, scale: float) -> Tensor:
    n, bt, d = x.shape
    b = bt // t
    # temporal: (L, B*T, D) -> (T, B*L, D)
    xt = x.reshape(n, b, t, d).permute(2, 1, 0, 3).reshape(t, b * n, d)
    h = layer_norm(xt, sd[p + "ln_1.weight"], sd[p + "ln_1.bias"])
    if num_tadapter == 2:
        h = adapter(h, sd, p + "T_Adapter_in", skip=True)
    h = adapter(attention(h, sd, p + "attn", heads), sd, p + "T_Adapter", skip=False)
    h = h.reshape(t, b, n, d).permute(2, 1, 0, 3).reshape(n, bt, d)
    x = x + h
    # spatial
    h = layer_norm(x, sd[p + "ln_1.weight"], sd[p + "ln_1.bias"])
    x = x + adapter(attention(h, sd, p + "attn", heads), sd, p + "S_Adapter", skip=True)
    # joint
    xn = layer_norm(x, sd[p + "ln_2.weight"], sd[p + "ln_2.bias"])
    fc = linear(xn, sd, p + "mlp.c_fc")
    mlp = linear(fc * torch.sigmoid(1.702 * fc), sd, p + "mlp.c_proj")
    return x + mlp + scale * adapter(xn, sd, p + "MLP_Adapter", skip=False)


def aim_scores(
    video: Tensor, sd: Dict[str, Tensor], *, patch: int, heads: int, layers: int, num_tadapter: int, scale: float
) -> Tensor:
    """Class scores of (B, 3, T, H, W) clips from a released-layout state dict (keys with 'backbone.')."""
    sd = {k: v.double() for k, v in sd.items()}
    video = video.double()
    b, c, t, hh, ww = video.shape
    g = "backbone."
    frames = video.permute(0, 2, 1, 3, 4).reshape(b * t, c, hh, ww)
    # patch embedding as an explicit unfold + matmul
    w = sd[g + "conv1.weight"]  # (D, 3, p, p)
    d = w.shape[0]
    patches = frames.unfold(2, patch, patch).unfold(3, patch, patch)  # (BT, 3, gh, gw, p, p)
    patches = patches.permute(0, 2, 3, 1, 4, 5).reshape(b * t, -1, c * patch * patch)
    x = patches @ w.reshape(d, -1).T  # (BT, N, D)
    cls = sd[g + "class_embedding"].expand(b * t, 1, d)
    x = torch.cat([cls, x], dim=1) + sd[g + "positional_embedding"]
    x = x.reshape(b, t, -1, d) + sd[g + "temporal_embedding"].reshape(1, t, 1, d)
    x = x.reshape(b * t, -1, d)
    x = layer_norm(x, sd[g + "ln_pre.weight"], sd[g + "ln_pre.bias"])
    x = x.permute(1, 0, 2)  # (L, BT, D)
    for i in range(layers):
        x = block(x, sd, f"{g}transformer.resblocks.{i}.", heads, t, num_tadapter, scale)
    cls_tok = layer_norm(x[0], sd[g + "ln_post.weight"], sd[g + "ln_post.bias"])  # (BT, D)
    feat = cls_tok.reshape(b, t, d).mean(dim=1)
    return feat @ sd["cls_head.fc_cls.weight"].T + sd["cls_head.fc_cls.bias"]
