"""Mixed precision training without apex: torch.autocast (bf16 on CPU/GPU, fp16 + GradScaler on GPU)."""

import logging
from contextlib import contextmanager
from typing import Optional, Union

import torch
from mmengine.device import get_device
from mmengine.logging import print_log
from torch import nn
from torch.optim import Optimizer

from mmaction.registry import OPTIM_WRAPPERS

from .safe_optim_wrapper import SafeOptimWrapper

DTYPE_NAMES = {
    "bf16": torch.bfloat16,
    "bfloat16": torch.bfloat16,
    "fp16": torch.float16,
    "float16": torch.float16,
    "half": torch.float16,
}


def parse_amp_dtype(dtype: Union[str, torch.dtype, None]) -> torch.dtype:
    """``'bf16'``/``'bfloat16'``/``'fp16'``/``'float16'`` (or a torch dtype) -> torch dtype."""
    if dtype is None:
        return torch.bfloat16
    if isinstance(dtype, torch.dtype):
        if dtype not in (torch.bfloat16, torch.float16):
            raise ValueError(f"mixed precision dtype must be bfloat16 or float16, got {dtype}")
        return dtype
    key = str(dtype).lower()
    if key not in DTYPE_NAMES:
        raise ValueError(f"unknown mixed precision dtype {dtype!r}; use one of {sorted(DTYPE_NAMES)}")
    return DTYPE_NAMES[key]


@OPTIM_WRAPPERS.register_module()
class MixedPrecisionOptimWrapper(SafeOptimWrapper):
    """Automatic mixed precision with ``torch.autocast`` and the NaN/inf guard of
    :class:`SafeOptimWrapper` (replaces apex and mmengine's GPU-only ``AmpOptimWrapper``).

    - ``dtype='bfloat16'``: autocast to bf16 on the CPU or the GPU; no loss scaling needed.
    - ``dtype='float16'``: autocast to fp16 with a dynamic ``GradScaler`` (GPU only). An
      overflowing step is skipped and the scale lowered by the scaler itself. On a CPU,
      fp16 autocast is not supported: bf16 is used instead, with a warning.

    Args:
        optimizer: the optimizer.
        dtype: ``'bfloat16'`` (``'bf16'``) or ``'float16'`` (``'fp16'``).
        loss_scale: fp16 only: ``'dynamic'``, a float (static initial scale) or
            ``GradScaler`` keyword arguments.
        device_type: ``'cuda'``/``'cpu'``; default: where mmengine runs the model.
        **kwargs: ``accumulative_counts``, ``clip_grad``, ``max_consecutive_nonfinite``.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        dtype: Union[str, torch.dtype, None] = "bfloat16",
        loss_scale: Union[str, float, dict] = "dynamic",
        device_type: Optional[str] = None,
        **kwargs,
    ) -> None:
        super().__init__(optimizer=optimizer, **kwargs)
        self.device_type = device_type or ("cuda" if get_device() == "cuda" else "cpu")
        self.cast_dtype = parse_amp_dtype(dtype)
        if self.cast_dtype == torch.float16 and self.device_type == "cpu":
            print_log(
                "MixedPrecisionOptimWrapper: fp16 autocast is not available on the CPU; using bfloat16 instead",
                logger="current",
                level=logging.WARNING,
            )
            self.cast_dtype = torch.bfloat16
        if self.cast_dtype == torch.bfloat16 and self.device_type == "cuda" and not torch.cuda.is_bf16_supported():
            raise RuntimeError(
                "MixedPrecisionOptimWrapper: this GPU does not support bfloat16; use dtype='float16' (--amp fp16)"
            )
        self.loss_scaler: Optional[torch.amp.GradScaler] = None
        self._scale_update_param: Optional[float] = None
        if self.cast_dtype == torch.float16:
            if loss_scale == "dynamic":
                self.loss_scaler = torch.amp.GradScaler(self.device_type)
            elif isinstance(loss_scale, (int, float)):
                self._scale_update_param = float(loss_scale)
                self.loss_scaler = torch.amp.GradScaler(self.device_type, init_scale=float(loss_scale))
            elif isinstance(loss_scale, dict):
                self.loss_scaler = torch.amp.GradScaler(self.device_type, **loss_scale)
            else:
                raise TypeError(f"loss_scale must be 'dynamic', a float or a dict, got {loss_scale!r}")

    @contextmanager
    def optim_context(self, model: nn.Module):
        """Gradient-accumulation context of the parent plus ``torch.autocast``."""
        with super().optim_context(model), torch.autocast(device_type=self.device_type, dtype=self.cast_dtype):
            yield

    def backward(self, loss: torch.Tensor, **kwargs) -> None:
        if self.loss_scaler is not None:
            loss = self.loss_scaler.scale(loss)
        loss.backward(**kwargs)
        self._inner_count += 1

    def step(self, **kwargs) -> None:
        if self.loss_scaler is None:
            super().step(**kwargs)
            return
        if self.clip_grad_kwargs:
            self.loss_scaler.unscale_(self.optimizer)
            self._clip_grad()
        self.loss_scaler.step(self.optimizer, **kwargs)
        self.loss_scaler.update(self._scale_update_param)
        self.message_hub.update_scalar("train/loss_scale", float(self.loss_scaler.get_scale()))

    def state_dict(self) -> dict:
        state = super().state_dict()
        if self.loss_scaler is not None:
            state["loss_scaler"] = self.loss_scaler.state_dict()
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        state_dict = dict(state_dict)
        scaler_state = state_dict.pop("loss_scaler", None)
        if scaler_state is not None and self.loss_scaler is not None:
            self.loss_scaler.load_state_dict(scaler_state)
        super().load_state_dict(state_dict)
