"""Bad videos in the lists: training skips the unreadable ones (naming each, with a counter)
and uses the odd-but-readable ones; evaluation keeps every listed video (unreadable ones count
as wrong and are named) so the denominator is the full list; a decode that hangs is cut off by
the per-sample ``decode_timeout``, in the main process and in DataLoader workers."""

import pickle
import re
from pathlib import Path

import pytest

from tests.reliability.reliability_kit import (
    BAD_VIDEO_KINDS,
    append_to_list,
    describe,
    header_frame_count,
    log_files,
    make_bad_videos,
    output,
    reliability_config,
    run_test,
    run_train,
)

pytestmark = pytest.mark.slow

UNREADABLE = sorted(k for k, skip in BAD_VIDEO_KINDS.items() if skip)
ODD_BUT_READABLE = sorted(k for k, skip in BAD_VIDEO_KINDS.items() if not skip)
DECODE_TIMEOUT = 2.0  # generous: a normal sample must never hit it on a loaded machine
SKIP_LINE = re.compile(r"cannot load sample \d+ '([^']+)' \((\w+): .*?; (\d+) unreadable so far in this process")


@pytest.fixture(scope="module")
def bad_run(videos, tmp_path_factory):
    """2 epochs of training on 8 good videos + one of each BAD_VIDEO_KINDS (the ``slow`` one
    hangs in a pipeline step until ``decode_timeout`` cuts it off)."""
    lists = videos.copy_lists("bad_videos")
    bad = make_bad_videos(videos.root)
    train_lines = append_to_list(lists.train, list(bad.values()))
    test_lines = append_to_list(lists.test, list(bad.values()))
    cfg = reliability_config(tmp_path_factory.mktemp("bad_videos") / "cfg.py", lists.train, lists.test, lists.test,
                             max_epochs=2, resize_pipeline=True, slow=True, decode_timeout=DECODE_TIMEOUT)
    work_dir = cfg.parent / "work"
    proc = run_train(cfg, work_dir, timeout=240)
    return dict(proc=proc, bad=bad, cfg=cfg, work_dir=work_dir, lists=lists, train_lines=train_lines,
                test_lines=test_lines)


def test_the_bad_videos_are_what_they_claim(tmp_path):
    bad = make_bad_videos(tmp_path)
    assert not bad["missing"].exists() and bad["zero_bytes"].stat().st_size == 0
    assert header_frame_count(bad["header_overcount"]) == 16  # the header promises 16 frames ...
    from mmaction.datasets.video_io import open_video

    with open_video(str(bad["header_overcount"])) as reader:
        assert reader.num_frames < 16  # ... fewer can be decoded
    with open_video(str(bad["rotated_90"])) as reader:
        assert reader.read([0]).shape == (1, 48, 32, 3)  # stored 48 wide x 32 high, shown upright
    with open_video(str(bad["wide_4000x16"]), backend="pyav") as reader:
        assert reader.read([0]).shape == (1, 16, 4000, 3)


def test_training_skips_unreadable_videos_and_names_each(bad_run):
    proc, bad = bad_run["proc"], bad_run["bad"]
    assert proc.returncode == 0, describe(proc)
    assert (bad_run["work_dir"] / "epoch_2.pth").is_file()
    logs = log_files(bad_run["work_dir"])
    assert logs, "no log file written"
    for text, where in ((output(proc), "console"), (logs[-1].read_text(), "log file")):
        skips = SKIP_LINE.findall(text)
        skipped = {Path(name).stem for name, _, _ in skips}
        assert skipped == set(UNREADABLE), f"{where}: skipped {sorted(skipped)}, expected {UNREADABLE}"
        counters = [int(n) for _, _, n in skips]
        assert counters == list(range(1, len(counters) + 1)), f"{where}: skip counter {counters}"
        # every unreadable file is met at least once per epoch
        assert len(counters) >= 2 * len(UNREADABLE)
    kinds = {Path(name).stem: kind for name, kind, _ in SKIP_LINE.findall(output(proc))}
    assert kinds["missing"] == "VideoFileMissingError" and kinds["zero_bytes"] == "EmptyVideoFileError"
    assert kinds["slow"] == "DecodeTimeoutError"
    assert f"decode_timeout={DECODE_TIMEOUT}" in output(proc)


def test_training_uses_the_odd_but_readable_videos(bad_run):
    proc = bad_run["proc"]
    assert proc.returncode == 0, describe(proc)
    text = output(proc)
    for name in ODD_BUT_READABLE:
        assert str(bad_run["bad"][name]) not in text, f"{name} was skipped but can be read"
    losses = [float(v) for v in re.findall(r"Epoch\(train\) +\[\d+\]\[ *\d+/\d+\].*? loss: ([-\d.eE+na]+)", text)]
    assert len(losses) == 2 * 10 and all(v == v for v in losses), losses  # 20 videos / batch 2, finite


@pytest.mark.parametrize("workers", [0, 2], ids=["main_process", "2_workers"])
def test_evaluation_keeps_every_video_and_reports_the_unreadable(bad_run, workers):
    assert bad_run["proc"].returncode == 0, describe(bad_run["proc"])
    out = bad_run["cfg"].parent / f"results_{workers}.pkl"
    proc = run_test(bad_run["cfg"], bad_run["work_dir"] / "epoch_2.pth", bad_run["cfg"].parent / f"test_{workers}",
                    "--out", str(out), "--cfg-options", f"test_dataloader.num_workers={workers}", timeout=180)
    assert proc.returncode == 0, describe(proc)
    text = output(proc)
    num_listed = len(bad_run["lists"].test.read_text().splitlines())
    assert f"AccMetric: evaluated {num_listed} videos" in text
    assert re.search(rf"acc/num_failed[:=] ?{len(UNREADABLE)}\b", text), describe(proc)
    named = re.search(r"AccMetric: (\d+) of (\d+) videos could not be decoded and count as wrong: (.*)", text)
    assert named and int(named.group(1)) == len(UNREADABLE) and int(named.group(2)) == num_listed
    assert sorted(Path(p).stem for p in named.group(3).split(", ")) == UNREADABLE
    with open(out, "rb") as f:
        results = pickle.load(f)
    assert len(results) == num_listed
    assert sorted(r["sample_idx"] for r in results) == list(range(num_listed))
    failed = sorted(Path(r["filename"]).stem for r in results if r["decode_failed"])
    assert failed == UNREADABLE
    # the slow video was cut off after decode_timeout seconds, not waited for
    assert "slow.mp4" in text and "DecodeTimeoutError" in text
    assert proc.elapsed < 120
