"""mmengine's CheckpointHook made crash-safe: nothing already written is removed before its
replacement is complete, and the best-checkpoint bookkeeping survives kills and resumes."""

import os.path as osp
from typing import Callable, List, Optional

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook
from mmengine.runner import EpochBasedTrainLoop

from mmaction.engine.runner.atomic_backend import ATOMIC_BACKEND_NAME
from mmaction.engine.runner.atomic_io import DiskFullError, atomic_write_text, is_disk_full, remove_stale_temp_files
from mmaction.registry import HOOKS

#: message-hub key: the last epoch whose validation the checkpoint hook has seen. It must not start
#: with 'train', 'val' or 'test': mmengine's LogProcessor prints every runtime-info key with the
#: phase's prefix in that phase's log line.
VALIDATED_EPOCH_KEY = "checkpoint_hook/last_validated_epoch"


class _DeferredRemovals:
    """Stands in for a file backend and records ``remove``/``rmtree`` instead of deleting;
    every other call goes to the real backend."""

    def __init__(self, backend) -> None:
        self._backend = backend
        self.paths: List[str] = []

    def remove(self, path) -> None:
        self.paths.append(str(path))

    def rmtree(self, path) -> None:
        self.paths.append(str(path))

    def __getattr__(self, name: str):
        return getattr(self._backend, name)


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """mmengine's ``CheckpointHook`` (same arguments) with crash-safe writes and removals.

    - Files go through the ``atomic_local`` backend (temp file + ``os.replace``) unless another
      ``backend_args``/``file_client_args`` is given; a full disk raises
      :class:`~mmaction.engine.runner.atomic_io.DiskFullError` naming the file, which is unchanged.
    - Removals are deferred until the save that caused them is complete: the previous best
      checkpoint is deleted only after the new best (and the epoch checkpoint that records it) is
      on disk, the oldest of ``max_keep_ckpts`` only after the new checkpoint. A kill or an error
      in between leaves the old files. mmengine's own save/removal logic is reused unchanged; only
      its ``remove``/``rmtree`` calls are held back.
    - ``work_dir/last_checkpoint`` is rewritten atomically (and fsync'ed) after mmengine wrote it.
    - At the start of training, stray ``.<name>.tmp-*`` files of killed writes are deleted
      from the checkpoint folder and the work dir (logged).
    - On resume from an epoch checkpoint whose validation was due but is not recorded in it (the
      run was killed between the checkpoint and the end of validation), that validation runs
      first, so the best checkpoint and best score come out as in an uninterrupted run.
    """

    def __init__(self, *args, backend_args: Optional[dict] = None, file_client_args: Optional[dict] = None, **kwargs):
        if backend_args is None and file_client_args is None:
            backend_args = dict(backend=ATOMIC_BACKEND_NAME)
        super().__init__(*args, backend_args=backend_args, file_client_args=file_client_args, **kwargs)

    # ------------------------------------------------------------------ start of training
    def before_train(self, runner) -> None:
        super().before_train(runner)
        if is_main_process():
            for folder in sorted({str(self.out_dir), str(runner.work_dir)}):
                removed = remove_stale_temp_files(folder)
                if removed:
                    runner.logger.info(f"removed {len(removed)} unfinished temporary file(s) of an interrupted "
                                       f"write in {folder}: {removed}")
        if getattr(runner, "_resume", False):
            self.last_ckpt = runner.message_hub.get_info("last_ckpt", self.last_ckpt)
            self._validate_resumed_epoch(runner)

    def _validate_resumed_epoch(self, runner) -> None:
        loop = getattr(runner, "_train_loop", None)
        if not (self.by_epoch and self.save_best and isinstance(loop, EpochBasedTrainLoop)):
            return
        if getattr(runner, "_val_loop", None) is None:
            return
        epoch = loop.epoch
        due = epoch >= 1 and epoch >= loop.val_begin and (epoch % loop.val_interval == 0 or epoch == loop.max_epochs)
        if not due or runner.message_hub.get_info(VALIDATED_EPOCH_KEY) == epoch:
            return
        runner.logger.info(
            f"resume: the checkpoint of epoch {epoch} was written before its validation finished; validating "
            f"epoch {epoch} now so that the best checkpoint is chosen as in an uninterrupted run")
        runner.val_loop.run()

    # ------------------------------------------------------------------ validation
    def after_val_epoch(self, runner, metrics) -> None:
        loop = getattr(runner, "_train_loop", None)
        if isinstance(loop, EpochBasedTrainLoop):
            runner.message_hub.update_info(VALIDATED_EPOCH_KEY, loop.epoch)
        super().after_val_epoch(runner, metrics)

    # ------------------------------------------------------------------ saving
    def _save_checkpoint_with_step(self, runner, step, meta):
        self._with_deferred_removals(super()._save_checkpoint_with_step, runner, step, meta)
        if is_main_process() and self.last_ckpt is not None:
            atomic_write_text(osp.join(runner.work_dir, "last_checkpoint"), str(self.last_ckpt))

    def _save_best_checkpoint(self, runner, metrics) -> None:
        self._with_deferred_removals(super()._save_best_checkpoint, runner, metrics)

    def _with_deferred_removals(self, save: Callable, runner, *args) -> None:
        """Runs mmengine's ``save`` with its removals held back, then (only if it succeeded)
        removes what it meant to remove, except the files that are now current."""
        backend = self.file_backend
        deferred = _DeferredRemovals(backend)
        self.file_backend = deferred
        try:
            save(runner, *args)
        except OSError as exc:
            if is_disk_full(exc) and not isinstance(exc, DiskFullError):
                # mmengine writes work_dir/last_checkpoint itself (the checkpoints go through our backend)
                raise DiskFullError(osp.join(runner.work_dir, "last_checkpoint"), exc) from exc
            raise
        finally:
            self.file_backend = backend
        current = {str(p) for p in (self.last_ckpt, getattr(self, "best_ckpt_path", None)) if p}
        current |= {str(p) for p in (getattr(self, "best_ckpt_path_dict", None) or {}).values() if p}
        for path in deferred.paths:
            if path in current:
                continue
            if backend.isfile(path):
                backend.remove(path)
            elif backend.isdir(path):
                backend.rmtree(path)
