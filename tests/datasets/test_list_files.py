"""List files of VideoDataset / RawframeDataset: what parses, and located errors for what does not.

Every error about a list line must name the list file and the line number (``file:line:``).
Most datasets here are built with ``serialize_data=False``: mmengine's serialisation runs a full
``gc.collect()`` (about 0.5 s in a process that has imported torch), which these tests do not need.
"""

import re
from pathlib import Path
from typing import List

import numpy as np
import pytest
import torch
from torchvision.io import encode_jpeg

from mmaction.datasets import AnnotationError, RawframeDataset, VideoDataset, read_label_map
from mmaction.datasets.video_io import VideoFileMissingError
from mmaction.registry import DATASETS, TRANSFORMS

from .video_factory import frame_for_index, index_of_frame


def write(path: Path, lines: List[str], encoding: str = "utf-8", bom: bool = False) -> str:
    data = "".join(f"{ln}\n" for ln in lines).encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return str(path)


def line_error(tmp_path: Path, lines: List[str], line_no: int, dataset=VideoDataset, **kwargs) -> str:
    """Builds the dataset on ``lines``; asserts an AnnotationError at ``list.txt:line_no``."""
    ann = write(tmp_path / "list.txt", lines)
    with pytest.raises(AnnotationError) as info:
        dataset(ann_file=ann, **kwargs)
    message = str(info.value)
    assert message.startswith(f"{ann}:{line_no}:"), message
    return message


# --------------------------------------------------------------------------- VideoDataset
def test_video_list_with_prefix(tmp_path):
    ann = write(tmp_path / "list.txt", ["a/x.mp4 3", "", "b/y.mp4 0", "  c/z.mp4   12  "])
    ds = VideoDataset(ann_file=ann, data_prefix=dict(video=str(tmp_path / "videos")))
    assert len(ds) == 3
    infos = [ds.get_data_info(i) for i in range(3)]
    assert [i["filename"] for i in infos] == [str(tmp_path / "videos" / p) for p in ("a/x.mp4", "b/y.mp4", "c/z.mp4")]
    assert [i["label"] for i in infos] == [3, 0, 12]
    assert [i["sample_idx"] for i in infos] == [0, 1, 2]
    assert all(i["start_index"] == 0 and i["modality"] == "RGB" for i in infos)


def test_video_list_data_root_joins_list_and_prefix(tmp_path, monkeypatch):
    root = tmp_path / "data"
    root.mkdir()
    write(root / "train.txt", ["x.mp4 1"])
    ds = VideoDataset(ann_file="train.txt", data_root=str(root), data_prefix=dict(video="videos_train"),
                      serialize_data=False)
    assert ds.get_data_info(0)["filename"] == str(root / "videos_train" / "x.mp4")
    # MMAction2 0.x spelling: data_prefix as a plain string
    ds = VideoDataset(ann_file=str(root / "train.txt"), data_prefix=str(root / "v"), serialize_data=False)
    assert ds.get_data_info(0)["filename"] == str(root / "v" / "x.mp4")
    # no prefix: relative to the working directory, made absolute
    monkeypatch.chdir(tmp_path)
    ds = VideoDataset(ann_file=str(root / "train.txt"), serialize_data=False)
    assert ds.get_data_info(0)["filename"] == str(tmp_path / "x.mp4")


def test_bom_and_blank_lines_keep_line_numbers(tmp_path):
    ann = write(tmp_path / "list.txt", ["x.mp4 1", "", "", "y.mp4 one"], bom=True)
    with pytest.raises(AnnotationError, match=rf"^{ann}:4: label 'one' is not an integer"):
        VideoDataset(ann_file=ann)


@pytest.mark.parametrize(
    "bad,pattern",
    [
        ("x.mp4", "expected 'path label'"),
        ("x.mp4 1 2", "2 fields|3 fields"),
        ("x.mp4 1.5", "not an integer"),
        ("x.mp4 cat", "not an integer"),
        ("x.mp4 -1", "negative"),
    ],
)
def test_bad_video_line_names_file_and_line(tmp_path, bad, pattern):
    message = line_error(tmp_path, ["ok.mp4 0", "ok2.mp4 1", bad], 3)
    assert re.search(pattern, message), message


def test_label_out_of_range(tmp_path):
    message = line_error(tmp_path, ["a.mp4 0", "b.mp4 400"], 2, num_classes=400)
    assert "400" in message and "num_classes=400" in message
    ds = VideoDataset(ann_file=write(tmp_path / "ok.txt", ["a.mp4 399"]), num_classes=400, serialize_data=False)
    assert ds.get_data_info(0)["label"] == 399


def test_label_map_gives_classes_and_num_classes(tmp_path):
    label_map = write(tmp_path / "classes.txt", ["archery", "yoga", "abseiling"])
    ann = write(tmp_path / "list.txt", ["a.mp4 2", "b.mp4 0"])
    ds = VideoDataset(ann_file=ann, label_map=label_map, serialize_data=False)
    assert ds.metainfo["classes"] == ("archery", "yoga", "abseiling") and ds.num_classes == 3
    assert ds.metainfo["classes"][ds.get_data_info(0)["label"]] == "abseiling"
    line_error(tmp_path, ["a.mp4 3"], 1, label_map=label_map)
    with pytest.raises(ValueError, match="num_classes=4"):
        VideoDataset(ann_file=ann, label_map=label_map, num_classes=4)


def test_label_map_relative_to_data_root(tmp_path):
    write(tmp_path / "classes.txt", ["a", "b"])
    write(tmp_path / "list.txt", ["a.mp4 1"])
    ds = VideoDataset(ann_file="list.txt", data_root=str(tmp_path), label_map="classes.txt", serialize_data=False)
    assert ds.num_classes == 2


def test_label_map_errors(tmp_path):
    with pytest.raises(AnnotationError, match=r"classes.txt:3: class name 'a' already on line 1"):
        read_label_map(write(tmp_path / "classes.txt", ["a", "b", "a"]))
    with pytest.raises(AnnotationError, match="no class name"):
        read_label_map(write(tmp_path / "empty.txt", [""]))


def test_repository_label_maps_are_valid(repo_root):
    sizes = {"kinetics400": 400, "kinetics600": 600, "kinetics700": 700, "sthv2": 174, "diving48": 48}
    for name, size in sizes.items():
        assert len(read_label_map(str(repo_root / "tools" / "data" / "label_maps" / f"{name}.txt"))) == size


def test_duplicates_are_an_error_unless_allowed(tmp_path, mm_log):
    lines = ["a.mp4 0", "b.mp4 1", "a.mp4 0", "c.mp4 2", "a.mp4 1"]
    ann = write(tmp_path / "list.txt", lines)
    with pytest.raises(AnnotationError) as info:
        VideoDataset(ann_file=ann)
    message = str(info.value)
    assert message.startswith(f"{ann}:") and "a.mp4' (lines 1, 3, 5)" in message and "allow_duplicates=True" in message
    ds = VideoDataset(ann_file=ann, allow_duplicates=True, serialize_data=False)
    assert len(ds) == 5
    assert any("kept (allow_duplicates=True)" in m for m in mm_log)


def test_non_utf8_list_names_the_line(tmp_path):
    path = tmp_path / "list.txt"
    path.write_bytes("a.mp4 0\nb.mp4 1\ncaf\u00e9.mp4 2\n".encode("latin-1"))
    with pytest.raises(AnnotationError, match=rf"^{path}:3: .*not valid UTF-8"):
        VideoDataset(ann_file=str(path))


def test_empty_and_missing_lists(tmp_path):
    with pytest.raises(AnnotationError, match="the list is empty"):
        VideoDataset(ann_file=write(tmp_path / "empty.txt", ["", "  "]))
    with pytest.raises(FileNotFoundError, match="nope.txt"):
        VideoDataset(ann_file=str(tmp_path / "nope.txt"))


def test_multi_class_lists(tmp_path):
    ann = write(tmp_path / "list.txt", ["a.mp4 1 5 7", "b.mp4 3"])
    ds = VideoDataset(ann_file=ann, multi_class=True, num_classes=8, serialize_data=False)
    assert ds.get_data_info(0)["label"] == [1, 5, 7] and ds.get_data_info(1)["label"] == [3]
    line_error(tmp_path, ["a.mp4 1 8"], 1, multi_class=True, num_classes=8)
    line_error(tmp_path, ["a.mp4"], 1, multi_class=True, num_classes=8)
    with pytest.raises(ValueError, match="num_classes"):
        VideoDataset(ann_file=ann, multi_class=True)


def test_suffix_and_tab_delimiter(tmp_path):
    ann = write(tmp_path / "l.txt", ["78687 3", "12.webm 1"])
    ds = VideoDataset(ann_file=ann, suffix=".webm", serialize_data=False)
    assert [Path(ds.get_data_info(i)["filename"]).name for i in range(2)] == ["78687.webm", "12.webm"]
    ann = write(tmp_path / "t.txt", ["abseiling/my clip.mp4\t0"])
    ds = VideoDataset(ann_file=ann, delimiter="\t", serialize_data=False)
    assert ds.get_data_info(0)["filename"].endswith("abseiling/my clip.mp4")
    message = line_error(tmp_path, ["abseiling/my clip.mp4 0"], 1)
    assert "delimiter" in message


def test_built_from_a_config_dict(tmp_path):
    ann = write(tmp_path / "list.txt", ["a.mp4 0"])
    ds = DATASETS.build(dict(type="VideoDataset", ann_file=ann, data_prefix=dict(video=str(tmp_path)),
                             pipeline=[dict(type="DecordInit")], test_mode=True))
    assert isinstance(ds, VideoDataset) and ds.test_mode


# --------------------------------------------------------------------------- RawframeDataset
def test_rawframe_list(tmp_path):
    ann = write(tmp_path / "list.txt", ["cls/vid1 120 4", "cls/vid2 75 0"])
    ds = RawframeDataset(ann_file=ann, data_prefix=dict(img=str(tmp_path / "frames")), serialize_data=False)
    info = ds.get_data_info(1)
    assert info["frame_dir"] == str(tmp_path / "frames" / "cls" / "vid2")
    assert (info["total_frames"], info["label"], info["start_index"]) == (75, 0, 1)
    assert info["filename_tmpl"] == "img_{:05d}.jpg"


def test_rawframe_with_offset_moves_the_start(tmp_path):
    ann = write(tmp_path / "list.txt", ["v 10 50 2"])
    info = RawframeDataset(ann_file=ann, with_offset=True, serialize_data=False).get_data_info(0)
    assert (info["offset"], info["total_frames"], info["label"], info["start_index"]) == (10, 50, 2, 11)


@pytest.mark.parametrize(
    "bad,pattern",
    [("v 12", "expected 'frame_dir total_frames label'"), ("v twelve 1", "total_frames 'twelve' is not an integer"),
     ("v 0 1", "total_frames is 0"), ("v -3 1", "negative"), ("v 12 x", "label 'x'"), ("v 12 1 2", "4 fields")],
)
def test_bad_rawframe_line_names_file_and_line(tmp_path, bad, pattern):
    message = line_error(tmp_path, ["ok 10 0", bad], 2, dataset=RawframeDataset)
    assert pattern in message, message


def test_bad_filename_template(tmp_path):
    with pytest.raises(ValueError, match="filename_tmpl"):
        RawframeDataset(ann_file=write(tmp_path / "l.txt", ["v 3 0"]), filename_tmpl="img_{name}.jpg")


@pytest.fixture
def frame_folder(tmp_path) -> Path:
    """frames/cls/vid/img_00001.jpg ... img_00040.jpg, file k holding the picture of index k - 1."""
    folder = tmp_path / "frames" / "cls" / "vid"
    folder.mkdir(parents=True)
    for k in range(1, 41):
        image = torch.from_numpy(frame_for_index(k - 1, 32, 40)).permute(2, 0, 1).contiguous()
        (folder / f"img_{k:05d}.jpg").write_bytes(encode_jpeg(image, quality=95).numpy().tobytes())
    return tmp_path


def rawframe_pipeline(test_mode: bool = True) -> List[dict]:
    return [
        dict(type="SampleFrames", clip_len=4, frame_interval=3, num_clips=2, test_mode=test_mode),
        dict(type="RawFrameDecode"),
        dict(type="FormatShape", input_format="NCTHW"),
        dict(type="PackActionInputs"),
    ]


def test_rawframe_dataset_reads_real_jpgs(frame_folder):
    ann = write(frame_folder / "list.txt", ["cls/vid 40 3"])
    ds = RawframeDataset(ann_file=ann, data_prefix=dict(img=str(frame_folder / "frames")), pipeline=rawframe_pipeline(),
                         test_mode=True, serialize_data=False)
    out = ds[0]
    inputs = out["inputs"]
    assert inputs.dtype == torch.uint8 and tuple(inputs.shape) == (2, 3, 4, 32, 40)
    frames = inputs.permute(0, 2, 1, 3, 4).reshape(8, 3, 32, 40)
    got = [index_of_frame(f.numpy()) for f in frames]
    # SampleFrames indices start at start_index=1 (img_00001.jpg) and file k holds picture k - 1
    sampler = ds.pipeline.transforms[0]
    expected = sampler(dict(total_frames=40, start_index=1))["frame_inds"] - 1
    assert got == expected.tolist() and min(expected) >= 0
    assert out["data_samples"].gt_label.tolist() == [3]
    assert out["data_samples"].metainfo["filename"] == str(frame_folder / "frames" / "cls" / "vid")


def test_rawframe_missing_frame_file_is_named(frame_folder):
    (frame_folder / "frames" / "cls" / "vid" / "img_00002.jpg").unlink()
    step = TRANSFORMS.build(dict(type="RawFrameDecode"))
    results = dict(frame_dir=str(frame_folder / "frames" / "cls" / "vid"), frame_inds=np.array([1, 2, 3]),
                   filename_tmpl="img_{:05d}.jpg")
    with pytest.raises(VideoFileMissingError, match="img_00002.jpg"):
        step(results)
