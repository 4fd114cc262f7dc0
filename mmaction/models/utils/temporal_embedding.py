"""The learnable per-frame embedding AIM adds to every token, and its resampling over time."""

import torch
import torch.nn.functional as F


def interpolate_temporal_embedding(embed: torch.Tensor, num_frames: int) -> torch.Tensor:
    """Resample a (1, T0, D) temporal embedding to (1, num_frames, D), linearly over time.

    The one implementation used both when a checkpoint trained at T0 frames is loaded and when a
    clip of another length runs through the model (differentiable; same dtype as ``embed``).

    Args:
        embed: (..., T0, D).
        num_frames: target length T.

    Returns:
        (..., T, D); ``embed`` itself when T0 == T.
    """
    if embed.shape[-2] == num_frames:
        return embed
    lead, d = embed.shape[:-2], embed.shape[-1]
    series = embed.float().reshape(1, -1, d).transpose(1, 2)  # (1, D, T0)
    series = F.interpolate(series, size=num_frames, mode="linear", align_corners=False)
    return series.transpose(1, 2).reshape(*lead, num_frames, d).to(embed.dtype)


def add_temporal_embedding(x: torch.Tensor, embed: torch.Tensor, num_frames: int) -> torch.Tensor:
    """Token n of frame t of every clip gets ``embed[t]``.

    Args:
        x: (B*T, L, D) tokens, the T frames of one clip contiguous.
        embed: (1, T0, D); resampled to T when T0 != T.
        num_frames: T.

    Returns:
        (B*T, L, D).
    """
    bt, n, d = x.shape
    temporal = interpolate_temporal_embedding(embed, num_frames).to(x.dtype)
    return (x.view(bt // num_frames, num_frames, n, d) + temporal[:, :, None]).view(bt, n, d)
