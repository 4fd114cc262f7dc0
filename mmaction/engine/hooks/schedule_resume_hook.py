"""Keeps epoch-based schedules right when a run is resumed with another number of iterations
per epoch (another world size, batch size or dataset length).

mmengine converts an epoch-based scheduler with ``convert_to_iter_based=True`` into iterations
once, for the iterations per epoch of the run that builds it, and a resume restores the converted
``begin``/``end``/``T_max`` and step count of the *old* run. Resumed with 1 process instead of 2,
a cosine schedule converted for 25 iterations per epoch was then replayed at 49 per epoch and
ended half-way through the remaining epochs (the rest trained at lr ~0).

:class:`ScheduleResumeHook` writes the run's iterations per epoch (and world size, batch size,
dataset length) into every checkpoint's ``meta``; on resume, when they differ, the converted
schedulers are re-derived for the new iterations per epoch: the freshly built schedulers (already
converted for the new run) are stepped through the new run's iterations up to the resumed epoch,
and their states and the optimizer's scheduled values replace the checkpoint's. Iteration-based
schedulers and per-epoch schedulers keep their state (their steps do not depend on the epoch
length). A case that cannot be re-derived exactly is refused with one error line.
"""

import copy
import warnings
from typing import Dict, List, Optional, Set

from mmengine.hooks import Hook
from mmengine.runner import EpochBasedTrainLoop

from mmaction.engine.runner.config_check import ConfigError
from mmaction.registry import HOOKS

#: keys added to ``checkpoint['meta']``
ITERS_PER_EPOCH_KEY = "train_iters_per_epoch"
WORLD_SIZE_KEY = "train_world_size"
BATCH_SIZE_KEY = "train_batch_size"
DATASET_SIZE_KEY = "train_dataset_size"


def _scheduler_cfgs(cfg_schedulers) -> Optional[List[dict]]:
    """The config's scheduler dicts, in build order (None when not a plain list/dict)."""
    if isinstance(cfg_schedulers, dict) and "type" in cfg_schedulers:
        return [cfg_schedulers]
    if isinstance(cfg_schedulers, (list, tuple)) and all(isinstance(c, dict) for c in cfg_schedulers):
        return list(cfg_schedulers)
    return None


@HOOKS.register_module()
class ScheduleResumeHook(Hook):
    """Re-derives converted epoch-based schedules when a resume changes the iterations per epoch.

    - ``before_save_checkpoint``: ``meta['train_iters_per_epoch']`` (and world size, batch size,
      dataset length) of this run.
    - ``after_load_checkpoint`` (resume of an ``EpochBasedTrainLoop`` only): if the checkpoint's
      iterations per epoch differ from this run's, the schedulers built with
      ``convert_to_iter_based=True`` (and the per-epoch schedulers of the same parameter, which
      act on the same value) are re-derived; the iteration counter becomes
      ``epoch x new iterations per epoch``; one log line says what was re-derived and one names
      what cannot be carried over exactly (which samples each process and batch draws; with a
      mid-epoch checkpoint, the interrupted epoch restarts from its first batch).

    A checkpoint written before this hook existed has no record; its iterations per epoch are
    then inferred from the saved ``end`` of the converted schedulers (whole-epoch ends only).

    Refused (:class:`ConfigError`, one line): a converted schedule and an iteration-based one
    acting on the same parameter (their step counts would diverge), several optimizers, or a
    checkpoint without the record whose iterations per epoch cannot be inferred.
    """

    priority = "NORMAL"

    # ------------------------------------------------------------------ saving
    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        loop = getattr(runner, "_train_loop", None)
        if not isinstance(loop, EpochBasedTrainLoop):
            return
        loader = loop.dataloader
        meta = checkpoint.setdefault("meta", {})
        meta[ITERS_PER_EPOCH_KEY] = len(loader)
        meta[WORLD_SIZE_KEY] = runner.world_size
        meta[BATCH_SIZE_KEY] = loader.batch_size
        meta[DATASET_SIZE_KEY] = len(loader.dataset)

    # ------------------------------------------------------------------ resuming
    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        loop = getattr(runner, "_train_loop", None)
        if not getattr(runner, "_resume", False) or not isinstance(loop, EpochBasedTrainLoop):
            return
        meta = checkpoint.get("meta") or {}
        if "epoch" not in meta or "iter" not in meta:
            return
        epoch, old_iter = int(meta["epoch"]), int(meta["iter"])
        new_ipe = len(loop.dataloader)
        old_ipe = meta.get(ITERS_PER_EPOCH_KEY)
        schedulers = runner.param_schedulers
        converted = self._converted_indices(runner)
        if old_ipe is None:  # a checkpoint written before this hook existed
            if not converted:
                return
            old_ipe = self._infer_iters_per_epoch(runner, checkpoint, converted)
            if old_ipe is None:
                raise ConfigError(
                    f"resume: the checkpoint (epoch {epoch}, iteration {old_iter}) does not record its iterations per "
                    f"epoch and they cannot be inferred, so its epoch-based schedules cannot be re-derived for "
                    f"{new_ipe} iterations per epoch; resume with the original world size and batch size"
                )
        old_ipe = int(old_ipe)
        if old_ipe == new_ipe:
            if old_iter != epoch * old_ipe:
                runner.logger.warning(
                    f"resume: not carried over exactly: the checkpoint was written {old_iter - epoch * old_ipe} of "
                    f"{old_ipe} iterations into epoch {epoch + 1}, which restarts from its first batch")
            return
        if isinstance(schedulers, dict):
            raise ConfigError(
                f"resume: iterations per epoch changed ({old_ipe} -> {new_ipe}) and the run has several optimizers; "
                "re-deriving their schedules is not supported: resume with the original world size and batch size")
        if not converted or "param_schedulers" not in checkpoint:
            runner.logger.info(
                f"resume: iterations per epoch {old_ipe} -> {new_ipe}; no saved schedule was converted from epochs "
                "to iterations, so none is re-derived (iteration-based and per-epoch schedules continue unchanged)")
            return
        names = self._rederive(runner, checkpoint, schedulers, converted, epoch, new_ipe)
        meta["iter"] = epoch * new_ipe
        runner.logger.info(
            f"resume: iterations per epoch {old_ipe} -> {new_ipe} ({self._describe(meta, runner, loop)}): "
            f"epoch-based schedules {names} re-derived for {new_ipe} iterations per epoch from epoch {epoch} "
            f"(iteration {old_iter} -> {epoch * new_ipe}); iteration-based schedules unchanged")
        lost = ("which samples each process and batch draws (each epoch's shuffled order is split into "
                f"{new_ipe} batches instead of {old_ipe}), so the data order differs from the original run's")
        if old_iter != epoch * old_ipe:
            lost += (f"; the checkpoint was written {old_iter - epoch * old_ipe} of {old_ipe} iterations into epoch "
                     f"{epoch + 1}, which restarts from its first batch")
        runner.logger.warning(f"resume: not carried over exactly: {lost}")

    @staticmethod
    def _describe(meta: dict, runner, loop) -> str:
        parts = []
        for key, label, now in ((WORLD_SIZE_KEY, "world size", runner.world_size),
                                (BATCH_SIZE_KEY, "batch size", loop.dataloader.batch_size),
                                (DATASET_SIZE_KEY, "dataset length", len(loop.dataloader.dataset))):
            before = meta.get(key)
            parts.append(f"{label} {before if before is not None else '?'} -> {now}")
        return ", ".join(parts)

    @staticmethod
    def _infer_iters_per_epoch(runner, checkpoint: dict, converted: List[int]) -> Optional[int]:
        """The old iterations per epoch, from the converted schedulers' saved ``end`` (``end`` epochs
        x iterations per epoch) where the config's ``end`` is a whole number of epochs; None when
        that gives no single answer."""
        cfgs = _scheduler_cfgs(runner.cfg.get("param_scheduler")) or []
        saved = checkpoint.get("param_schedulers")
        if not isinstance(saved, list) or len(saved) != len(cfgs):
            return None
        found = set()
        for i in converted:
            end, saved_end = cfgs[i].get("end"), saved[i].get("end")
            if isinstance(end, int) and end > 0 and isinstance(saved_end, int) and saved_end % end == 0:
                found.add(saved_end // end)
        return found.pop() if len(found) == 1 else None

    @staticmethod
    def _converted_indices(runner) -> List[int]:
        """Indices of the built schedulers that the config made iteration-based from epochs."""
        built = runner.param_schedulers
        cfgs = _scheduler_cfgs(runner.cfg.get("param_scheduler")) if runner.cfg is not None else None
        if not isinstance(built, list) or cfgs is None or len(cfgs) != len(built):
            return []
        return [i for i, (cfg, sched) in enumerate(zip(cfgs, built))
                if cfg.get("by_epoch", True) and cfg.get("convert_to_iter_based", False) and not sched.by_epoch]

    @staticmethod
    def _rederive(runner, checkpoint: dict, schedulers: list, converted: List[int], epoch: int,
                  new_ipe: int) -> List[str]:
        """Steps the freshly built schedulers of the affected parameters through ``epoch`` epochs of
        ``new_ipe`` iterations and writes their states and values into ``checkpoint``."""
        cfgs = _scheduler_cfgs(runner.cfg.get("param_scheduler"))
        params: Set[str] = {schedulers[i].param_name for i in converted}
        replay = [i for i, s in enumerate(schedulers) if s.param_name in params]
        for i in replay:
            if i not in converted and not schedulers[i].by_epoch:
                raise ConfigError(
                    f"resume: iterations per epoch changed; param_scheduler[{i}] ({cfgs[i].get('type')}) is "
                    f"iteration-based and acts on '{schedulers[i].param_name}' like the epoch-based "
                    f"{[cfgs[j].get('type') for j in converted]}, so the schedule cannot be re-derived exactly: "
                    "resume with the original world size and batch size")
        saved = checkpoint["param_schedulers"]
        if len(saved) != len(schedulers):
            raise ConfigError(
                f"resume: the checkpoint holds {len(saved)} parameter schedulers but the config builds "
                f"{len(schedulers)}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "scheduler.step() before optimizer.step()": intended here
            for _ in range(epoch):
                for _ in range(new_ipe):
                    for i in replay:
                        if not schedulers[i].by_epoch:
                            schedulers[i].step()
                for i in replay:
                    if schedulers[i].by_epoch:
                        schedulers[i].step()
        for i in replay:
            saved[i] = copy.deepcopy(schedulers[i].state_dict())
        optimizer = runner.optim_wrapper.optimizer
        groups: List[Dict] = checkpoint.get("optimizer", {}).get("param_groups", [])
        if len(groups) != len(optimizer.param_groups):
            raise ConfigError(
                f"resume: the checkpoint's optimizer has {len(groups)} parameter groups but this run builds "
                f"{len(optimizer.param_groups)}")
        for saved_group, group in zip(groups, optimizer.param_groups):
            for name in params:
                saved_group[name] = copy.deepcopy(group[name])
                if f"initial_{name}" in group:
                    saved_group[f"initial_{name}"] = copy.deepcopy(group[f"initial_{name}"])
        return [cfgs[i].get("type") for i in replay]
