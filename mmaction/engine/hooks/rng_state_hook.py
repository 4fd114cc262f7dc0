"""Saves and restores the random number generators so that a resumed run continues the
exact random stream of an uninterrupted one."""

import random
from typing import Any, Dict, List, Optional

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_dist_info
from mmengine.hooks import CheckpointHook, Hook
from mmengine.logging import print_log

from mmaction.registry import HOOKS

CHECKPOINT_KEY = "rng_states"


def get_rng_state() -> Dict[str, Any]:
    """The state of Python's, numpy's, torch's CPU and (if present) CUDA generators."""
    state: Dict[str, Any] = dict(
        python=random.getstate(),
        numpy=np.random.get_state(),
        torch=torch.get_rng_state(),
    )
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: Dict[str, Any]) -> None:
    """Restores a state returned by :func:`get_rng_state`."""
    random.setstate(_as_tuple(state["python"]))
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"].cpu() if isinstance(state["torch"], torch.Tensor) else state["torch"])
    cuda = state.get("cuda")
    if cuda is not None and torch.cuda.is_available():
        if len(cuda) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all([s.cpu() for s in cuda])
        else:
            print_log(
                f"RNGStateHook: checkpoint holds {len(cuda)} CUDA generator states but "
                f"{torch.cuda.device_count()} devices are visible; CUDA generators not restored",
                logger="current",
                level=30,
            )


def _as_tuple(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_as_tuple(v) for v in value)
    return value


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Puts every rank's generator states in each checkpoint and restores them on resume.

    - After each training epoch (or iteration, for iteration-based checkpoints) every rank's
      state is gathered; the checkpoint saved right after it stores the list under
      ``checkpoint['rng_states']`` (index = rank).
    - On ``resume`` the states are applied at ``before_train`` (after the model was built
      and initialised, which consumed random numbers), rank ``r`` taking entry ``r``.
    - Validation during training runs between a snapshot and a restore of the generators,
      so it never shifts the training's random stream (a run validated every epoch and a
      run resumed from a checkpoint continue identically).

    Args:
        protect_validation: snapshot/restore the generators around validation.
    """

    priority = "VERY_HIGH"

    def __init__(self, protect_validation: bool = True) -> None:
        self.protect_validation = protect_validation
        self._gathered: Optional[List[Dict[str, Any]]] = None
        self._pending: Optional[List[Dict[str, Any]]] = None
        self._val_snapshot: Optional[Dict[str, Any]] = None

    # ------------------------------------------------------------------ saving
    def _gather(self) -> None:
        _, world_size = get_dist_info()
        state = get_rng_state()
        self._gathered = all_gather_object(state) if world_size > 1 else [state]

    def after_train_epoch(self, runner) -> None:
        self._gather()

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if self._iter_checkpoint_due(runner):
            self._gather()

    @staticmethod
    def _iter_checkpoint_due(runner) -> bool:
        for hook in runner.hooks:
            if isinstance(hook, CheckpointHook) and not hook.by_epoch:
                due = hook.every_n_train_iters(runner, hook.interval, hook.save_begin)
                return due or (hook.save_last and hook.is_last_train_iter(runner))
        return False

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        states = self._gathered if self._gathered is not None else [get_rng_state()]
        checkpoint[CHECKPOINT_KEY] = states

    # ------------------------------------------------------------------ resuming
    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self._pending = checkpoint.get(CHECKPOINT_KEY)

    def before_train(self, runner) -> None:
        states, self._pending = self._pending, None
        if states is None or not getattr(runner, "_resume", False):
            return
        rank, world_size = get_dist_info()
        if len(states) != world_size:
            runner.logger.warning(
                f"RNGStateHook: the checkpoint holds generator states of {len(states)} processes but this run "
                f"has {world_size}; random generators keep their seeded state (the run will not repeat the "
                "original random stream exactly)"
            )
            return
        set_rng_state(states[rank])
        runner.logger.info("RNGStateHook: random generator states restored from the checkpoint")

    # ------------------------------------------------------------------ validation
    def before_val(self, runner) -> None:
        if self.protect_validation:
            self._val_snapshot = get_rng_state()

    def after_val(self, runner) -> None:
        if self._val_snapshot is not None:
            set_rng_state(self._val_snapshot)
            self._val_snapshot = None
