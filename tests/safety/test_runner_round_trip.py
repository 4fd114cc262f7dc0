"""What mmengine's Runner writes, it reads back through our safe loader: a 1-epoch run, then
``resume=True`` from its checkpoint (message hub, optimizer, schedulers, numpy RNG state in meta)
continues at epoch 2 with the saved weights, and ``load_from`` gives the same weights."""

import torch
from mmengine.model import BaseModel
from mmengine.runner import CheckpointLoader, Runner
from torch import nn

import mmaction.engine.runner  # noqa: F401 - installs the safe loaders into mmengine
from mmaction.engine.runner.checkpoint_safety import load_from_local_safely


class _ToyModel(BaseModel):
    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, inputs, labels=None, mode="tensor"):
        inputs = torch.stack(inputs) if isinstance(inputs, (list, tuple)) else inputs
        out = self.linear(inputs)
        if mode == "loss":
            labels = torch.stack(labels) if isinstance(labels, (list, tuple)) else labels
            return {"loss": (out.squeeze(-1) - labels).pow(2).mean()}
        return out


class _ToyData(torch.utils.data.Dataset):
    def __len__(self) -> int:
        return 8

    def __getitem__(self, i: int) -> dict:
        return {"inputs": torch.tensor([float(i), 1.0]), "labels": torch.tensor(0.5 * i)}


def _runner(work_dir, max_epochs: int, **kwargs) -> Runner:
    return Runner(
        model=_ToyModel(), work_dir=str(work_dir), experiment_name=f"toy_{max_epochs}_{len(kwargs)}",
        train_dataloader=dict(dataset=_ToyData(), sampler=dict(type="DefaultSampler", shuffle=False), batch_size=4,
                              num_workers=0, collate_fn=dict(type="default_collate")),
        optim_wrapper=dict(optimizer=dict(type="AdamW", lr=0.1)),
        param_scheduler=dict(type="MultiStepLR", milestones=[1], by_epoch=True),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs), default_scope="mmaction",
        default_hooks=dict(checkpoint=dict(type="CheckpointHook", interval=1)), randomness=dict(seed=0), **kwargs)


def test_runner_checkpoint_resumes_through_the_safe_loader(tmp_path):
    assert CheckpointLoader._get_checkpoint_loader(str(tmp_path / "x.pth")) is load_from_local_safely
    first = _runner(tmp_path, 1)
    first.train()
    ckpt = tmp_path / "epoch_1.pth"
    saved = {k: v.clone() for k, v in first.model.state_dict().items()}
    resumed = _runner(tmp_path, 2, load_from=str(ckpt), resume=True)
    resumed.load_or_resume()
    assert resumed.epoch == 1 and resumed.iter == 2
    assert all(torch.equal(resumed.model.state_dict()[k], v) for k, v in saved.items())
    assert resumed.optim_wrapper.optimizer.state_dict()["state"], "optimizer state was not restored"
    assert len(resumed.message_hub.get_scalar("train/loss").data[0]) > 0  # HistoryBuffer from the file
    loaded = _runner(tmp_path, 2, load_from=str(ckpt))
    loaded.load_or_resume()
    assert loaded.epoch == 0 and all(torch.equal(loaded.model.state_dict()[k], v) for k, v in saved.items())
