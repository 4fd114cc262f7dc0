"""An OptimWrapper that skips updates whose loss is NaN or infinite."""

import logging
from typing import Dict, Optional

import torch
import torch.distributed as torch_dist
from mmengine.dist import is_distributed
from mmengine.logging import MessageHub, print_log
from mmengine.optim import OptimWrapper
from torch.optim import Optimizer

from mmaction.registry import OPTIM_WRAPPERS


class NonFiniteLossError(RuntimeError):
    """Raised when the loss stays NaN/inf for too many consecutive iterations."""


@OPTIM_WRAPPERS.register_module()
class SafeOptimWrapper(OptimWrapper):
    """``OptimWrapper`` that never lets a NaN/inf loss reach the weights.

    Each iteration checks that the loss is finite (in distributed training the flag is
    all-reduced, so every rank takes the same decision and no collective is left hanging).
    The backward pass still runs (DDP's gradient all-reduce must happen on every rank);
    when the update step comes, an accumulation window that saw a non-finite loss is
    dropped: gradients are zeroed and the optimizer does not step. Each skip is logged
    with its iteration; after ``max_consecutive_nonfinite`` non-finite iterations in a row
    the run stops with :class:`NonFiniteLossError`.

    Args:
        optimizer: the optimizer.
        accumulative_counts: gradient accumulation steps (the original ``update_interval``).
        clip_grad: ``torch.nn.utils.clip_grad_*`` arguments, e.g. ``dict(max_norm=20)``.
        max_consecutive_nonfinite: how many non-finite iterations in a row end the run
            (``0`` or less: never stop).
    """

    def __init__(
        self,
        optimizer: Optimizer,
        accumulative_counts: int = 1,
        clip_grad: Optional[dict] = None,
        max_consecutive_nonfinite: int = 10,
    ) -> None:
        super().__init__(optimizer=optimizer, accumulative_counts=accumulative_counts, clip_grad=clip_grad)
        self.max_consecutive_nonfinite = int(max_consecutive_nonfinite)
        self.consecutive_nonfinite = 0
        self.total_skipped_updates = 0
        self._window_nonfinite = False

    # ------------------------------------------------------------------ checks
    @staticmethod
    def loss_is_finite(loss: torch.Tensor) -> bool:
        """True when ``loss`` is finite on every rank (one all-reduce in distributed runs)."""
        flag = torch.isfinite(loss.detach()).all().to(torch.float32).reshape(1)
        if is_distributed():
            torch_dist.all_reduce(flag, op=torch_dist.ReduceOp.MIN)
        return bool(flag.item() > 0.5)

    def _current_iter(self) -> Optional[int]:
        hub = MessageHub.get_current_instance()
        it = hub.get_info("iter")
        return None if it is None else int(it) + 1

    def _on_nonfinite(self, loss: torch.Tensor) -> None:
        self.consecutive_nonfinite += 1
        it = self._current_iter()
        where = f"iteration {it}" if it is not None else f"update {self._inner_count}"
        print_log(
            f"Non-finite loss ({loss.detach().float().cpu().reshape(-1)[:4].tolist()}) at {where}: "
            f"this update is skipped (gradients zeroed, no optimizer step); "
            f"{self.consecutive_nonfinite} non-finite iteration(s) in a row"
            + (f", the run stops at {self.max_consecutive_nonfinite}" if self.max_consecutive_nonfinite > 0 else ""),
            logger="current",
            level=logging.WARNING,
        )
        if 0 < self.max_consecutive_nonfinite <= self.consecutive_nonfinite:
            raise NonFiniteLossError(
                f"the loss was NaN/inf for {self.consecutive_nonfinite} consecutive iterations (last at {where}); "
                "stopping. Lower the learning rate, check the data (e.g. decoding errors, labels) or enable "
                "gradient clipping (optim_wrapper.clip_grad=dict(max_norm=...))."
            )

    # ------------------------------------------------------------------ update
    def update_params(  # type: ignore[override]
        self,
        loss: torch.Tensor,
        step_kwargs: Optional[Dict] = None,
        zero_kwargs: Optional[Dict] = None,
    ) -> None:
        """Backward, then step (or skip, see the class doc) when an update is due.

        Args:
            loss: the scalar training loss of this iteration.
            step_kwargs: arguments for ``optimizer.step``.
            zero_kwargs: arguments for ``optimizer.zero_grad``.
        """
        step_kwargs = step_kwargs or {}
        zero_kwargs = zero_kwargs or {}
        finite = self.loss_is_finite(loss)
        if finite:
            self.consecutive_nonfinite = 0
        else:
            self._window_nonfinite = True
            self._on_nonfinite(loss)
        self.backward(self.scale_loss(loss))
        if self.should_update():
            if self._window_nonfinite:
                self.skip_step()
            else:
                self.step(**step_kwargs)
            self.zero_grad(**zero_kwargs)
            self._window_nonfinite = False

    def skip_step(self) -> None:
        """Drops the accumulated gradients of a window that saw a non-finite loss."""
        self.total_skipped_updates += 1
        self.message_hub.update_info("skipped_updates", self.total_skipped_updates)

    def state_dict(self) -> dict:
        state = super().state_dict()
        state["nonfinite"] = dict(consecutive=self.consecutive_nonfinite, skipped=self.total_skipped_updates)
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        state_dict = dict(state_dict)
        counters = state_dict.pop("nonfinite", None)
        if counters:
            self.consecutive_nonfinite = int(counters.get("consecutive", 0))
            self.total_skipped_updates = int(counters.get("skipped", 0))
        super().load_state_dict(state_dict)
