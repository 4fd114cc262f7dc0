"""DumpVideoResults writes its file atomically (through the engine's ``atomic_local`` backend, which
it names instead of importing): a write that dies half-way leaves the previous file as it was."""

import json

import pytest
import torch

from mmaction.evaluation import DumpVideoResults
from mmaction.structures import ActionDataSample


def sample(i: int) -> ActionDataSample:
    s = ActionDataSample()
    s.set_gt_label(i % 3)
    s.set_pred_score(torch.tensor([0.2, 0.3, 0.5]))
    s.set_metainfo(dict(filename=f"v{i}.mp4", sample_idx=i))
    return s


def dump(path, n: int) -> None:
    metric = DumpVideoResults(out_file_path=str(path))
    metric.process({}, [sample(i) for i in range(n)])
    metric.compute_metrics(metric.results)


def test_a_write_that_dies_half_way_leaves_the_previous_file(tmp_path, monkeypatch):
    import mmaction.engine.runner.atomic_io as atomic_io

    out = tmp_path / "results.json"
    dump(out, 2)
    before = out.read_bytes()
    assert [r["filename"] for r in json.loads(before)] == ["v0.mp4", "v1.mp4"]

    def write_half_then_fail(fileobj, data):
        fileobj.write(data[: len(data) // 2])
        raise OSError("disk gone")

    monkeypatch.setattr(atomic_io, "write_payload", write_half_then_fail)
    with pytest.raises(OSError, match="disk gone"):
        dump(out, 5)
    assert out.read_bytes() == before  # not truncated, not half of the new content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json"]  # no temporary file left
