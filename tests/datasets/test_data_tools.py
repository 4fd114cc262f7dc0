"""tools/data scripts from the command line, on tiny generated inputs.

Each script must print its counts and the SHA-256 of every list it writes (``wrote PATH: N lines,
sha256 HEX``), and the lists must load with our datasets. The scripts run as ``__main__`` with
their own ``sys.argv`` in ONE child interpreter (``run_scripts``): each would otherwise spend
seconds importing torch. Variants and error cases run in-process through ``main``.
"""

import csv
import hashlib
import json
import os
import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from mmaction.datasets import RawframeDataset, VideoDataset, read_label_map
from mmaction.datasets.video_io import open_video

from .video_factory import write_video

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / "tools" / "data"
WROTE_RE = re.compile(r"^wrote (?P<path>.+): (?P<lines>\d+) lines, sha256 (?P<sha>[0-9a-f]{64})$", re.M)

# Runs every job's script as __main__ with its argv; records exit status and stdout.
DRIVER = r"""
import contextlib, io, json, runpy, sys
jobs_file, results_file = sys.argv[1:3]
jobs = json.load(open(jobs_file))
results = {}
for name, script, args in jobs:
    out = io.StringIO()
    sys.argv = [script] + args
    code = 0
    with contextlib.redirect_stdout(out):
        try:
            runpy.run_path(script, run_name="__main__")
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) or e.code is None else str(e.code)
    results[name] = dict(rc=code or 0, stdout=out.getvalue())
json.dump(results, open(results_file, "w"))
"""

pytestmark = pytest.mark.timeout(120)


def run_scripts(jobs: List[Tuple[str, str, List[str]]], workdir: Path) -> Dict[str, dict]:
    """Runs ``tools/data/<script> args`` for every ``(name, script, args)`` in one fresh interpreter.

    Returns:
        {name: dict(rc=exit status, stdout=text)}.
    """
    jobs_file, results_file = workdir / "jobs.json", workdir / "results.json"
    jobs_file.write_text(json.dumps([(n, str(TOOLS / s), a) for n, s, a in jobs]))
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-c", DRIVER, str(jobs_file), str(results_file)], cwd=str(REPO), env=env,
                          capture_output=True, text=True, timeout=110)
    assert proc.returncode == 0, proc.stderr
    return json.loads(results_file.read_text())


def tool_main(script: str):
    """The ``main(argv)`` of a tool script, loaded in this process."""
    return runpy.run_path(str(TOOLS / script), run_name="tool_under_test")["main"]


def written(stdout: str) -> Dict[str, dict]:
    """{path: {'lines': n, 'sha': hex}} from the 'wrote ...' lines; checks every checksum."""
    out = {}
    for m in WROTE_RE.finditer(stdout):
        data = Path(m["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == m["sha"], m["path"]
        assert data.count(b"\n") == int(m["lines"])
        out[m["path"]] = dict(lines=int(m["lines"]), sha=m["sha"])
    assert out, f"no 'wrote ...: N lines, sha256 ...' line in:\n{stdout}"
    return out


def lines_of(path: Path) -> List[str]:
    return path.read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="module")
def class_tree(tmp_path_factory) -> Path:
    """videos/<class>/<k>.mp4 for 3 classes x 5 small videos, and rawframes/<class>/<k>/img_*.jpg."""
    root = tmp_path_factory.mktemp("tree")
    sample = write_video(root / "sample.mp4", 8, height=32, width=32)
    for c in ("yoga", "abseiling", "archery"):
        (root / "videos" / c).mkdir(parents=True)
        for k in range(5):
            shutil.copy(sample, root / "videos" / c / f"{c}_{k}.mp4")
        (root / "videos" / c / "notes.txt").write_text("not a video")
        for k in range(2):
            frames = root / "rawframes" / c / f"{c}_{k}"
            frames.mkdir(parents=True)
            for i in range(1, 4 + k):
                (frames / f"img_{i:05d}.jpg").write_bytes(b"jpg")
    return root


K400_ROWS = [("abseiling", "aaaaaaaaaaa", 10, 20, "val"), ("yoga", "bbbbbbbbbbb", 0, 10, "val"),
             ("archery", "ccccccccccc", 5.0, 15.0, "val")]
STHV2_ENTRIES = [dict(id="78687", label="x", template="Closing [something]", placeholders=["a"]),
                 dict(id="42326", label="y", template="Bending [something] until it breaks", placeholders=["b"])]
DIVING48_ENTRIES = [dict(vid_name="-mmq0PT-u8k_00155", label=0, start_frame=0, end_frame=184),
                    dict(vid_name="-mmq0PT-u8k_00156", label=47, start_frame=10, end_frame=60)]
CHECK_ENTRIES = ["v64.mp4 0", "truncated.mp4 1", "v30.mkv 2", "empty.mp4 0", "missing.mp4 1", "garbage.mp4 2",
                 "vfr.mp4 0"]


@pytest.fixture(scope="module")
def cli(class_tree, video_dir, tmp_path_factory) -> Tuple[Dict[str, dict], Path]:
    """Every script once from the command line (one interpreter); returns (results by job, work folder)."""
    w = tmp_path_factory.mktemp("cli")
    # Kinetics: a validate.csv of 3 rows, 2 of whose videos exist
    with open(w / "validate.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["label", "youtube_id", "time_start", "time_end", "split"])
        writer.writerows(K400_ROWS)
    (w / "videos_val").mkdir()
    for name in ("aaaaaaaaaaa_000010_000020.mp4", "ccccccccccc_000005_000015.mp4"):
        (w / "videos_val" / name).write_bytes(b"x")
    (w / "something-something-v2-validation.json").write_text(json.dumps(STHV2_ENTRIES))
    (w / "Diving48_V2_test.json").write_text(json.dumps(DIVING48_ENTRIES))
    # resize: two H.264 files in a sub-folder, a GIF, and a broken file
    src = w / "resize_src"
    (src / "cls").mkdir(parents=True)
    shutil.copy(video_dir / "v64.mp4", src / "cls" / "a.mp4")  # 48 x 64
    shutil.copy(video_dir / "odd.mp4", src / "cls" / "b.mp4")  # 35 x 47
    shutil.copy(video_dir / "v16.gif", src / "c.gif")  # 48 x 64, GIF -> .mp4
    shutil.copy(video_dir / "garbage.mp4", src / "cls" / "broken.mp4")
    (w / "check_list.txt").write_text("\n".join(CHECK_ENTRIES) + "\n")
    jobs = [
        ("build", "build_file_list.py", [str(class_tree / "videos"), "--out-dir", str(w / "lists"), "--prefix", "mini",
                                         "--val-ratio", "0.4", "--seed", "3"]),
        ("kinetics", "kinetics/parse_csv.py", [str(w / "validate.csv"), "--dataset", "kinetics400", "--video-root",
                                               str(w / "videos_val"), "--out", str(w / "k400_val.txt"),
                                               "--missing-out", str(w / "missing.txt")]),
        ("sthv2", "sthv2/parse_json.py", [str(w / "something-something-v2-validation.json"), "--out",
                                          str(w / "sthv2_val_list_videos.txt")]),
        ("diving48", "diving48/parse_json.py", [str(w / "Diving48_V2_test.json"), "--out", str(w / "d48.txt")]),
        ("resize", "resize_videos.py", [str(src), str(w / "resize_dst"), "--scale", "32"]),
        ("check", "check_videos.py", [str(w / "check_list.txt"), "--data-prefix", str(video_dir), "--bad-out",
                                      str(w / "bad.txt"), "--clean-out", str(w / "clean.txt"), "--timeout", "20"]),
    ]
    return run_scripts(jobs, w), w


def stdout_of(cli, name: str, rc: int = 0) -> str:
    result = cli[0][name]
    assert result["rc"] == rc, result
    return result["stdout"]


# --------------------------------------------------------------------------- build_file_list.py
def test_build_file_list_videos(cli, class_tree):
    out, w = stdout_of(cli, "build"), cli[1]
    assert "3 classes, 9 train and 6 val videos (seed 3)" in out
    files = written(out)
    train, val, label_map = (w / "lists" / n for n in ("mini_train_list_videos.txt", "mini_val_list_videos.txt",
                                                         "label_map.txt"))
    assert {str(train), str(val), str(label_map)} == set(files)
    assert read_label_map(str(label_map)) == ["abseiling", "archery", "yoga"]
    names = sorted(read_label_map(str(label_map)))
    entries = lines_of(train) + lines_of(val)
    assert len(entries) == len(set(entries)) == 15  # disjoint, complete, no .txt file
    for line in entries:
        path, label = line.split()
        assert names[int(label)] == path.split("/")[0] and path.endswith(".mp4")
    per_class_val = {c: sum(ln.startswith(c + "/") for ln in lines_of(val)) for c in names}
    assert per_class_val == {c: 2 for c in names}  # stratified: round(0.4 * 5) per class
    ds = VideoDataset(ann_file=str(val), data_prefix=dict(video=str(class_tree / "videos")), label_map=str(label_map),
                      serialize_data=False)
    assert len(ds) == 6 and all(os.path.isfile(ds.get_data_info(i)["filename"]) for i in range(6))


def test_build_file_list_is_reproducible_and_rawframes(class_tree, tmp_path, capsys):
    main = tool_main("build_file_list.py")
    args = [str(class_tree / "videos"), "--val-ratio", "0.4", "--seed", "3"]
    assert main(args + ["--out-dir", str(tmp_path / "a")]) == 0
    first = written(capsys.readouterr().out)
    assert main(args + ["--out-dir", str(tmp_path / "b")]) == 0
    second = written(capsys.readouterr().out)
    assert sorted(v["sha"] for v in first.values()) == sorted(v["sha"] for v in second.values())
    assert main(args[:1] + ["--val-ratio", "0.4", "--seed", "4", "--out-dir", str(tmp_path / "c")]) == 0
    third = written(capsys.readouterr().out)
    assert sorted(v["sha"] for v in third.values()) != sorted(v["sha"] for v in first.values())

    assert main([str(class_tree / "rawframes"), "--format", "rawframes", "--out-dir", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out
    assert "3 classes, 6 train and 0 val rawframes" in out
    train = tmp_path / "r" / "dataset_train_list_rawframes.txt"
    assert str(train) in written(out)
    ds = RawframeDataset(ann_file=str(train), serialize_data=False)
    assert sorted(ds.get_data_info(i)["total_frames"] for i in range(len(ds))) == [3, 3, 3, 4, 4, 4]


def test_build_file_list_with_a_label_map(class_tree, tmp_path, capsys):
    """--label-map fixes the label order (here: Kinetics-400's); no label_map.txt is written."""
    main = tool_main("build_file_list.py")
    k400 = str(TOOLS / "label_maps" / "kinetics400.txt")
    assert main([str(class_tree / "videos"), "--out-dir", str(tmp_path), "--label-map", k400]) == 0
    out = capsys.readouterr().out
    assert "400 classes, 15 train and 0 val videos" in out
    names = read_label_map(k400)
    for line in lines_of(tmp_path / "dataset_train_list_videos.txt"):
        path, label = line.split()
        assert names[int(label)] == path.split("/")[0]
    assert not (tmp_path / "label_map.txt").exists()


def test_build_file_list_class_folders_with_spaces(video_dir, tmp_path, capsys):
    """Kinetics-style folders with spaces: tab-separated lists that VideoDataset reads with
    delimiter='\\t'; --delimiter space refuses (the list would not parse) naming the path."""
    main = tool_main("build_file_list.py")
    root = tmp_path / "videos"
    for folder, name in (("playing guitar", "clip one.mp4"), ("running", "r.mp4")):
        (root / folder).mkdir(parents=True)
        shutil.copy(video_dir / "v30.mkv", root / folder / name)
    assert main([str(root), "--out-dir", str(tmp_path / "lists")]) == 0
    out = capsys.readouterr().out
    assert "delimiter='\\t'" in out
    list_file = tmp_path / "lists" / "dataset_train_list_videos.txt"
    assert lines_of(list_file) == ["playing guitar/clip one.mp4\t0", "running/r.mp4\t1"]
    ds = VideoDataset(ann_file=str(list_file), data_prefix=dict(video=str(root)), delimiter="\t")
    assert [Path(ds.get_data_info(i)["filename"]) for i in range(2)] == [
        root / "playing guitar" / "clip one.mp4", root / "running" / "r.mp4"]
    with pytest.raises(SystemExit, match="'playing guitar/clip one.mp4' holds whitespace"):
        main([str(root), "--out-dir", str(tmp_path / "other"), "--delimiter", "space"])
    assert not (tmp_path / "other").exists()


# --------------------------------------------------------------------------- Kinetics csv
def test_kinetics_csv(cli):
    out, w = stdout_of(cli, "kinetics"), cli[1]
    out_list, missing, videos = w / "k400_val.txt", w / "missing.txt", w / "videos_val"
    assert "2 videos listed, 1 missing and left out (400 classes)" in out
    assert set(written(out)) == {str(out_list), str(missing)}
    names = read_label_map(str(TOOLS / "label_maps" / "kinetics400.txt"))
    assert lines_of(out_list) == [f"aaaaaaaaaaa_000010_000020.mp4 {names.index('abseiling')}",
                                  f"ccccccccccc_000005_000015.mp4 {names.index('archery')}"]
    assert lines_of(missing) == ["bbbbbbbbbbb_000000_000010.mp4"]
    ds = VideoDataset(ann_file=str(out_list), data_prefix=dict(video=str(videos)), num_classes=400,
                      serialize_data=False)
    assert len(ds) == 2


def test_kinetics_csv_layouts_and_errors(tmp_path, capsys):
    main = tool_main("kinetics/parse_csv.py")
    csv_path = tmp_path / "train.csv"
    csv_path.write_text("label,youtube_id,time_start,time_end\nplaying guitar,xyz,1,11\n")
    assert main([str(csv_path), "--out", str(tmp_path / "l.txt"), "--layout", "class-folders",
                 "--class-folder-style", "underscores"]) == 0
    capsys.readouterr()
    label = read_label_map(str(TOOLS / "label_maps" / "kinetics400.txt")).index("playing guitar")
    assert lines_of(tmp_path / "l.txt") == [f"playing_guitar/xyz_000001_000011.mp4 {label}"]
    with pytest.raises(SystemExit, match="contains the field separator"):
        main([str(csv_path), "--out", str(tmp_path / "l.txt"), "--layout", "class-folders"])
    argv = [str(csv_path), "--out", str(tmp_path / "t.txt"), "--layout", "class-folders", "--delimiter", "tab"]
    assert main(argv) == 0
    assert lines_of(tmp_path / "t.txt") == [f"playing guitar/xyz_000001_000011.mp4\t{label}"]
    bad = tmp_path / "bad.csv"
    bad.write_text("label,youtube_id,time_start,time_end\nyoga,a,0,10\nnot a class,b,0,10\n")
    with pytest.raises(SystemExit, match=r"bad.csv:3: class 'not a class'"):
        main([str(bad), "--out", str(tmp_path / "x.txt")])
    (tmp_path / "nohead.csv").write_text("label,id\n")
    with pytest.raises(SystemExit, match="header lacks columns"):
        main([str(tmp_path / "nohead.csv"), "--out", str(tmp_path / "x.txt")])


# --------------------------------------------------------------------------- SSv2 json
def test_sthv2_json(cli):
    out, w = stdout_of(cli, "sthv2"), cli[1]
    names = read_label_map(str(TOOLS / "label_maps" / "sthv2.txt"))
    out_list = w / "sthv2_val_list_videos.txt"
    assert "2 entries listed, 0 without frames left out (174 classes)" in out
    assert list(written(out)) == [str(out_list)]
    assert lines_of(out_list) == [f"78687.webm {names.index('Closing something')}",
                                  f"42326.webm {names.index('Bending something until it breaks')}"]


def test_sthv2_labels_json_and_rawframes(tmp_path, capsys):
    main = tool_main("sthv2/parse_json.py")
    labels = tmp_path / "labels.json"
    labels.write_text(json.dumps({"Closing something": "1", "Opening something": "0"}))
    ann = tmp_path / "train.json"
    entries = [dict(id="1", template="Opening [something]"), dict(id="2", template="Closing [something]")]
    ann.write_text(json.dumps(entries))
    frames = tmp_path / "frames" / "1"
    frames.mkdir(parents=True)
    for i in range(1, 6):
        (frames / f"img_{i:05d}.jpg").write_bytes(b"j")
    assert main([str(ann), "--labels", str(labels), "--format", "rawframes", "--frame-root", str(tmp_path / "frames"),
                 "--out", str(tmp_path / "r.txt")]) == 0
    out = capsys.readouterr().out
    assert "1 entries listed, 1 without frames left out (2 classes)" in out
    assert lines_of(tmp_path / "r.txt") == ["1 5 0"]
    ann.write_text(json.dumps([dict(id="3")]))
    with pytest.raises(SystemExit, match="entry 0: needs 'id' and 'template'"):
        main([str(ann), "--out", str(tmp_path / "x.txt")])


# --------------------------------------------------------------------------- Diving-48 json
def test_diving48_json(cli):
    out, w = stdout_of(cli, "diving48"), cli[1]
    out_list = w / "d48.txt"
    assert "2 entries listed" in out and list(written(out)) == [str(out_list)]
    assert lines_of(out_list) == ["-mmq0PT-u8k_00155.mp4 0", "-mmq0PT-u8k_00156.mp4 47"]
    ds = VideoDataset(ann_file=str(out_list), label_map=str(TOOLS / "label_maps" / "diving48.txt"),
                      serialize_data=False)
    assert ds.num_classes == 48


def test_diving48_rawframes_and_errors(tmp_path, capsys):
    main = tool_main("diving48/parse_json.py")
    ann = tmp_path / "a.json"
    ann.write_text(json.dumps([dict(vid_name="v", label=3, start_frame=10, end_frame=60)]))
    assert main([str(ann), "--format", "rawframes", "--out", str(tmp_path / "r.txt")]) == 0
    capsys.readouterr()
    assert lines_of(tmp_path / "r.txt") == ["v 50 3"]
    ann.write_text(json.dumps([dict(vid_name="v", label=48)]))
    with pytest.raises(SystemExit, match=r"label 48 is not in \[0, 48\)"):
        main([str(ann), "--out", str(tmp_path / "x.txt")])


# --------------------------------------------------------------------------- resize_videos.py
def test_resize_videos(cli):
    out, w = stdout_of(cli, "resize", rc=1), cli[1]
    dst = w / "resize_dst"
    assert "4 videos found: 3 resized to short side 32, 0 already there, 1 failed" in out
    assert re.search(r"^FAILED cls/broken.mp4: ", out, re.M)
    listed = written(out)
    assert list(listed) == [str(dst / "resized_videos.txt")]
    assert lines_of(dst / "resized_videos.txt") == ["c.mp4", "cls/a.mp4", "cls/b.mp4"]
    expected = {"cls/a.mp4": ((32, 42), 64), "cls/b.mp4": ((32, 42), 12), "c.mp4": ((32, 42), 16)}
    for rel, (hw, frames) in expected.items():
        with open_video(str(dst / rel), backend="pyav") as reader:
            assert reader.num_frames == frames
            shape = reader.read([0, frames - 1]).shape
        assert shape[1:3] == hw and shape[1] % 2 == 0 and shape[2] % 2 == 0
    assert not list(dst.rglob("*.part.mp4"))


def test_resize_videos_skips_existing_outputs(video_dir, tmp_path, capsys):
    main = tool_main("resize_videos.py")
    src, dst = tmp_path / "src", tmp_path / "dst"
    src.mkdir()
    shutil.copy(video_dir / "v30.mkv", src / "a.mkv")
    assert main([str(src), str(dst), "--scale", "24"]) == 0
    first = capsys.readouterr().out
    assert main([str(src), str(dst), "--scale", "24"]) == 0
    second = capsys.readouterr().out
    assert "1 resized" in first and "0 resized to short side 24, 1 already there" in second
    assert list(written(first).values()) == list(written(second).values())


# --------------------------------------------------------------------------- check_videos.py
def test_check_videos_lists_the_broken_ones(cli, video_dir):
    out, w = stdout_of(cli, "check", rc=1), cli[1]
    bad_out, clean_out = w / "bad.txt", w / "clean.txt"
    assert "checked 7 videos (decord, mode sample): 3 readable, 4 unreadable" in out
    for line_no, name in ((2, "truncated.mp4"), (4, "empty.mp4"), (5, "missing.mp4"), (6, "garbage.mp4")):
        assert re.search(rf"^UNREADABLE {re.escape(str(video_dir / name))} \(line {line_no}\): \S", out, re.M), name
    assert set(written(out)) == {str(bad_out), str(clean_out)}
    assert lines_of(clean_out) == ["v64.mp4 0", "v30.mkv 2", "vfr.mp4 0"]
    bad = [ln.split("\t") for ln in lines_of(bad_out)]
    assert [Path(p).name for p, _ in bad] == ["truncated.mp4", "empty.mp4", "missing.mp4", "garbage.mp4"]
    assert all(reason for _, reason in bad)


def test_check_videos_modes_and_backends(video_dir, broken_dir, tmp_path, capsys):
    main = tool_main("check_videos.py")
    ann = tmp_path / "list.txt"
    ann.write_text(f"{broken_dir / 'corrupt.mp4'} 0\n{video_dir / 'v64.mp4'} 1\n")
    # decord alone cannot decode the damaged packet of corrupt.mp4; with its PyAV fallback (default) it can
    assert main([str(ann), "--mode", "full", "--no-fallback"]) == 1
    out = capsys.readouterr().out
    assert "1 readable, 1 unreadable" in out and "corrupt.mp4" in out
    assert main([str(ann), "--mode", "full"]) == 0
    assert "2 readable, 0 unreadable" in capsys.readouterr().out
    assert main([str(ann), "--backend", "pyav", "--mode", "header"]) == 0
    assert "(pyav, mode header): 2 readable" in capsys.readouterr().out
