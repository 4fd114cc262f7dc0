"""Window geometry of Swin attention: partition/merge windows, the shifted-window mask and the
relative-position index of one window."""

import torch


def window_partition(x: torch.Tensor, window_size: int) -> torch.Tensor:
    """Cuts a grid of tokens into non-overlapping square windows.

    Args:
        x: (B, H, W, C) tokens; H and W are multiples of ``window_size``.
        window_size: window side Ws.

    Returns:
        (B, nW, Ws*Ws, C) with nW = (H/Ws)*(W/Ws) windows in row-major order; the tokens of a
        window are row-major too.
    """
    b, h, w, c = x.shape
    x = x.view(b, h // window_size, window_size, w // window_size, window_size, c)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(b, -1, window_size * window_size, c)


def window_merge(windows: torch.Tensor, window_size: int, height: int, width: int) -> torch.Tensor:
    """Inverse of :func:`window_partition`.

    Args:
        windows: (B, nW, Ws*Ws, C).
        window_size: window side Ws.
        height: grid height H.
        width: grid width W.

    Returns:
        (B, H, W, C).
    """
    b, _, _, c = windows.shape
    x = windows.view(b, height // window_size, width // window_size, window_size, window_size, c)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(b, height, width, c)


def shifted_window_mask(height: int, width: int, window_size: int, shift_size: int) -> torch.Tensor:
    """Additive attention mask of shifted-window attention (Swin's SW-MSA).

    After the grid is rolled by ``-shift_size`` on both axes, a window may hold tokens that were
    not neighbours in the image; tokens from different image regions must not attend to each
    other. Blocked pairs get -100 (as Microsoft's Swin, so that results match its weights), the
    others 0.

    Args:
        height: grid height H.
        width: grid width W.
        window_size: window side Ws.
        shift_size: roll of the grid, 0 < shift_size < window_size.

    Returns:
        (nW, Ws*Ws, Ws*Ws) float mask.
    """
    regions = torch.zeros(1, height, width, 1)
    bounds = (slice(0, -window_size), slice(-window_size, -shift_size), slice(-shift_size, None))
    label = 0
    for rows in bounds:
        for cols in bounds:
            regions[:, rows, cols, :] = label
            label += 1
    windows = window_partition(regions, window_size)[0, :, :, 0]  # (nW, Ws*Ws)
    different = windows[:, None, :] != windows[:, :, None]
    return torch.zeros(different.shape).masked_fill(different, -100.0)


def relative_position_index(window_size: int) -> torch.Tensor:
    """Index into Swin's (2Ws-1)^2 relative-position bias table for every pair of window tokens.

    Args:
        window_size: window side Ws.

    Returns:
        (Ws*Ws, Ws*Ws) long tensor: ``(dy + Ws - 1) * (2Ws - 1) + (dx + Ws - 1)`` for the pair
        (query i, key j) with (dy, dx) = position(i) - position(j).
    """
    coords = torch.stack(torch.meshgrid(torch.arange(window_size), torch.arange(window_size), indexing="ij"))
    coords = coords.flatten(1)  # (2, Ws*Ws)
    delta = (coords[:, :, None] - coords[:, None, :]) + (window_size - 1)  # (2, N, N), >= 0
    return delta[0] * (2 * window_size - 1) + delta[1]


def temporal_position_index(num_tokens: int, table_tokens: int) -> torch.Tensor:
    """Index into a (2T0-1) temporal bias table for every pair of ``num_tokens`` <= T0 time steps.

    Returns:
        (T, T) long tensor ``(t_i - t_j) + T0 - 1``.
    """
    steps = torch.arange(num_tokens)
    return steps[:, None] - steps[None, :] + (table_tokens - 1)
