"""CheckpointHook whose files are written atomically and whose clean-up never deletes the
last complete checkpoint before the next one is on disk."""

import os.path as osp
from typing import Optional

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook

from mmaction.engine.runner.atomic_backend import ATOMIC_BACKEND_NAME
from mmaction.engine.runner.atomic_io import atomic_write_text
from mmaction.registry import HOOKS


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """mmengine's ``CheckpointHook`` with crash-safe writes.

    Differences (arguments are the same as ``CheckpointHook``):

    - checkpoint files go through the ``atomic_local`` backend (temp file + ``os.replace``)
      unless another ``backend_args``/``file_client_args`` is given;
    - ``work_dir/last_checkpoint`` is replaced atomically, after the checkpoint it names is
      complete;
    - with ``max_keep_ckpts``, the oldest checkpoint is deleted *after* the new one is saved
      (mmengine deletes it before), so a kill during a save always leaves the previous
      checkpoint usable.
    """

    def __init__(self, *args, backend_args: Optional[dict] = None, file_client_args: Optional[dict] = None, **kwargs):
        if backend_args is None and file_client_args is None:
            backend_args = dict(backend=ATOMIC_BACKEND_NAME)
        super().__init__(*args, backend_args=backend_args, file_client_args=file_client_args, **kwargs)

    def _save_checkpoint_with_step(self, runner, step, meta):
        to_remove = None
        if self.max_keep_ckpts > 0 and not (len(self.keep_ckpt_ids) > 0 and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                to_remove = self.keep_ckpt_ids.popleft()
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info("keep_ckpt_ids", list(self.keep_ckpt_ids))

        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, ckpt_filename)
        runner.message_hub.update_info("last_ckpt", self.last_ckpt)

        runner.save_checkpoint(
            self.out_dir,
            ckpt_filename,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args,
        )
        if not is_main_process():
            return
        atomic_write_text(osp.join(runner.work_dir, "last_checkpoint"), str(self.last_ckpt))
        if to_remove is not None:
            old = self.file_backend.join_path(self.out_dir, self.filename_tmpl.format(to_remove))
            if self.file_backend.isfile(old):
                self.file_backend.remove(old)
            elif self.file_backend.isdir(old):
                self.file_backend.rmtree(old)
