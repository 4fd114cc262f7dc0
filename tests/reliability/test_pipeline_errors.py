"""An error of a pipeline step after the video was decoded (a bug or a wrong setting of that step)
stops loading with the step's name and the file; it is not counted as an unreadable video and
skipped. Errors while the file is opened or decoded still count as unreadable (training: another
sample; testing: black frames)."""

import numpy as np
import pytest

from mmaction.datasets import VideoDataset
from mmaction.datasets.base_action_dataset import PipelineStepError
from tests.reliability.reliability_kit import write_h264


class BrokenStep:
    """A step that raises on every sample, like a crop with a size larger than the frames."""

    def __call__(self, results):
        raise ValueError(f"crop of 64 px does not fit frames of {tuple(results['imgs'].shape[-2:])}")


class ReadyCheck:
    """Records that it ran (a step after the decoding that works)."""

    calls = 0

    def __call__(self, results):
        ReadyCheck.calls += 1
        return results


def _pipeline(after_decode):
    return [dict(type="DecordInit"), dict(type="SampleFrames", clip_len=2, frame_interval=1, num_clips=1),
            dict(type="DecordDecode"), *after_decode]


@pytest.fixture
def video_list(tmp_path):
    write_h264(tmp_path / "good.mp4", 6)
    (tmp_path / "garbage.mp4").write_bytes(np.random.default_rng(0).integers(0, 256, 3000, np.uint8).tobytes())
    (tmp_path / "list.txt").write_text("good.mp4 0\ngarbage.mp4 1\n")
    return tmp_path


@pytest.mark.parametrize("test_mode", [False, True])
def test_step_error_after_decoding_names_the_step_and_the_file(video_list, test_mode):
    dataset = VideoDataset(str(video_list / "list.txt"), pipeline=_pipeline([ReadyCheck(), BrokenStep()]),
                           data_prefix=str(video_list), test_mode=test_mode, decode_timeout=None)
    with pytest.raises(PipelineStepError) as info:
        dataset[0]
    message = str(info.value)
    assert "pipeline step 4 (BrokenStep)" in message and repr(str(video_list / "good.mp4")) in message
    assert "crop of 64 px does not fit frames of (32, 32)" in message and "\n" not in message
    assert dataset._num_failed == 0  # not counted as an unreadable video
    assert isinstance(info.value.__cause__, ValueError)


def test_unreadable_file_still_counts_as_unreadable(video_list):
    ReadyCheck.calls = 0
    np.random.seed(0)  # the replacement index is drawn with numpy
    dataset = VideoDataset(str(video_list / "list.txt"), pipeline=_pipeline([ReadyCheck()]),
                           data_prefix=str(video_list), decode_timeout=None)
    sample = dataset[1]  # garbage.mp4 cannot be opened: another (the good) sample is used instead
    assert dataset._num_failed >= 1 and sample["imgs"].shape[0] == 2
    assert ReadyCheck.calls == 1
    test_set = VideoDataset(str(video_list / "list.txt"), pipeline=_pipeline([ReadyCheck()]),
                            data_prefix=str(video_list), test_mode=True, decode_timeout=None)
    assert test_set[1]["decode_failed"] is True
