"""mmaction.utils.safe_load: every crafted file is refused by name without running; the formats the
project reads still load, compared with an independent reading of the same file."""

import hashlib
import os
import pickle
import shutil
import warnings
import zipfile
from collections import OrderedDict

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer
from safetensors.torch import save_file
from torch import nn

from mmaction.utils import safe_load as sl
from tests.safety.conftest import assert_refused
from tests.safety.payloads import SystemPayload


def test_every_crafted_file_is_refused_by_name(payload):
    with pytest.raises(sl.UnsafeCheckpointError) as err:
        sl.read_checkpoint_file(str(payload.path))
    assert_refused(str(err.value), payload)


def test_refusal_is_a_runtime_error_of_one_type():
    assert issubclass(sl.UnsafeCheckpointError, sl.CheckpointReadError)
    assert issubclass(sl.CheckpointReadError, RuntimeError)


# ------------------------------------------------------------------------------------------------
# Files that must still load
# ------------------------------------------------------------------------------------------------
class ReleasedMeta:
    """A training script's own class in a released checkpoint's meta; rebuilding it would run its code."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __setstate__(self, state):  # would leave a trace if the reader rebuilt the object
        open(state["marker"], "w").close()


def test_mmcv_style_released_file_loads_and_its_unknown_objects_stay_inert(tmp_path):
    marker = tmp_path / "setstate_ran"
    state = OrderedDict(w=torch.randn(3, 2), b=torch.randn(3))
    path = tmp_path / "released.pth"
    torch.save({"meta": {"epoch": 30, "note": ReleasedMeta(str(marker)), "best": np.float64(0.5)},
                "state_dict": OrderedDict(("module." + k, v) for k, v in state.items()),
                "optimizer": {"state": {}, "param_groups": [{"lr": 0.1, "params": [0, 1]}]}}, path)
    got = sl.read_checkpoint_file(str(path))
    assert got["meta"]["epoch"] == 30 and got["meta"]["best"] == 0.5
    assert "ReleasedMeta" in repr(got["meta"]["note"]) and not hasattr(got["meta"]["note"], "marker")
    assert not marker.exists()
    flat = sl.unwrap_state_dict(got, str(path))
    assert list(flat) == ["w", "b"] and all(torch.equal(flat[k], state[k]) for k in state)


def test_mmengine_checkpoint_types_load(tmp_path):
    hub = HistoryBuffer([0.5, 0.25], [1, 1])
    rng = np.random.default_rng(0).bit_generator.state
    path = tmp_path / "epoch_1.pth"
    torch.save({"meta": {"seed": 0, "np_rng": rng, "arr": np.arange(4, dtype=np.int16)},
                "message_hub": {"log_scalars": {"loss": hub}}, "state_dict": {"w": torch.ones(2)}}, path)
    got = sl.read_checkpoint_file(str(path))
    assert got["meta"]["np_rng"] == rng
    assert got["meta"]["arr"].dtype == np.int16 and got["meta"]["arr"].tolist() == [0, 1, 2, 3]
    assert got["message_hub"]["log_scalars"]["loss"].mean() == hub.mean()


def test_legacy_plain_state_dict_and_safetensors_load(tmp_path):
    state = {"a": torch.randn(2, 3), "b": torch.arange(4)}
    legacy = tmp_path / "legacy.pth"
    torch.save(state, legacy, _use_new_zipfile_serialization=False)
    tensors = tmp_path / "weights.safetensors"
    save_file(state, str(tensors))
    renamed = tmp_path / "weights.bin"  # safetensors recognised from its header, not its name
    shutil.copyfile(tensors, renamed)
    for path in (legacy, tensors, renamed):
        got = sl.read_checkpoint_file(str(path))
        assert sorted(got) == ["a", "b"] and all(torch.equal(got[k], state[k]) for k in state), path


class _Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(3, 4)
        self.register_buffer("running", torch.arange(4.0))
        self.scale = torch.full((1,), 2.0)  # a plain tensor attribute: not in state_dict()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lin(x) * self.scale + self.running


class _Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.blocks = nn.Sequential(_Block(), _Block())
        self.attn = nn.MultiheadAttention(4, 2)
        self.gain = nn.Parameter(torch.randn(4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(x) * self.gain


def test_torchscript_archive_gives_what_torch_jit_gives(tmp_path):
    path = tmp_path / "net.pt"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        torch.jit.save(torch.jit.script(_Net().half()), str(path))
        want = torch.jit.load(str(path)).state_dict()  # the reference: TorchScript's own loader
    got = sl.read_checkpoint_file(str(path))
    assert sorted(got) == sorted(want) and "blocks.0.scale" not in got
    for key, value in want.items():
        assert got[key].dtype == value.dtype == torch.float16 and torch.equal(got[key], value), key
    assert sl.is_torchscript_archive(str(path))


def test_unreadable_and_missing_files_are_named(tmp_path):
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(sl.CheckpointReadError) as err:
        sl.read_checkpoint_file(str(junk))
    assert not isinstance(err.value, sl.UnsafeCheckpointError)
    assert str(junk) in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(FileNotFoundError, match="missing.pth"):
        sl.read_checkpoint_file(str(tmp_path / "missing.pth"))


def test_unwrap_finds_the_weights_and_names_the_source():
    w = torch.ones(1)
    assert sl.unwrap_state_dict({"model": {"module.a": w, "module.b": w}}, "x") == {"a": w, "b": w}
    assert list(sl.unwrap_state_dict({"state_dict": {"_orig_mod.a": w, "step": 3}}, "x")) == ["a"]
    with pytest.raises(ValueError, match="some.pth: found no tensors"):
        sl.unwrap_state_dict({"meta": {}}, "some.pth")


# ------------------------------------------------------------------------------------------------
# SHA-256 checked downloads
# ------------------------------------------------------------------------------------------------
def test_download_is_checked_before_it_lands(tmp_path, monkeypatch):
    data = b"tower bytes"
    calls = []

    def fake_download(url, dst, hash_prefix=None, progress=True):
        calls.append(hash_prefix)
        with open(dst, "wb") as f:
            f.write(data)

    monkeypatch.setattr(torch.hub, "download_url_to_file", fake_download)
    good = hashlib.sha256(data).hexdigest()
    dst = tmp_path / "tower.pt"
    sl.download_with_sha256("https://example.invalid/tower.pt", str(dst), good)
    assert dst.read_bytes() == data and calls == [good]
    assert sl.cached_sha256(str(dst)) == good == sl.sha256_of_file(str(dst))
    other = tmp_path / "other.pt"
    with pytest.raises(RuntimeError, match=f"expected {'0' * 64}, found {good}"):
        sl.download_with_sha256("https://example.invalid/tower.pt", str(other), "0" * 64)
    assert sorted(os.listdir(tmp_path)) == ["tower.pt"]


def _rewrite_archive(src, dst, drop_code=False, data_pkl=None):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for name in zin.namelist():
            if drop_code and "/code/" in name:
                continue
            zout.writestr(name, data_pkl if data_pkl is not None and name.endswith("/data.pkl") else zin.read(name))


def test_torchscript_archive_without_its_code_or_with_a_foreign_global_is_refused(make_payload, tmp_path):
    payload = make_payload("torchscript")
    stripped = tmp_path / "stripped.pt"  # the __setstate__ text is gone, its tuple state is still there
    _rewrite_archive(payload.path, stripped, drop_code=True)
    with pytest.raises(sl.UnsafeCheckpointError, match="OverwritingModule is stored in a form only its own"):
        sl.read_checkpoint_file(str(stripped))
    foreign = tmp_path / "foreign.pt"  # a TorchScript archive whose data.pkl calls os.system
    crafted = pickle.dumps(SystemPayload(tmp_path / "ran"), protocol=2)
    _rewrite_archive(payload.path, foreign, drop_code=True, data_pkl=crafted)
    with pytest.raises(sl.UnsafeCheckpointError) as err:
        sl.read_checkpoint_file(str(foreign))
    assert str(foreign) in str(err.value) and f"the global {os.system.__module__}.system" in str(err.value)
    assert not payload.ran() and not (tmp_path / "ran").exists()


def test_reading_keeps_the_process_allow_list(tmp_path):
    """torch's ``safe_globals`` context removes on exit every global it was given, also ones the
    process had registered before; a read must leave the process's allow-list as it found it."""
    from mmengine.logging import HistoryBuffer

    from mmaction.engine.runner import register_checkpoint_safe_globals
    from mmaction.utils.safe_load import read_checkpoint_file

    register_checkpoint_safe_globals()
    before = set(torch.serialization.get_safe_globals())
    assert HistoryBuffer in before
    path = tmp_path / "ckpt.pth"
    torch.save({"state_dict": {"w": torch.ones(2)}, "message_hub": HistoryBuffer()}, path)
    read_checkpoint_file(str(path))
    assert set(torch.serialization.get_safe_globals()) == before
    # and a plain weights_only load in the same process still rebuilds mmengine's types
    assert isinstance(torch.load(path, weights_only=True)["message_hub"], HistoryBuffer)
