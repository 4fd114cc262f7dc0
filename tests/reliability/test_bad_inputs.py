"""Bad list files, config keys and pretrained weights: each is one clear ``error:`` line naming
the file and line, the key, or the file and tensor; exit code 2; no traceback; nothing trained
(no iteration logged, no checkpoint written) - the mistake is found before any GPU time."""

import pytest
import torch

from tests.reliability.reliability_kit import checkpoints, describe, output, reliability_config, run_train

pytestmark = pytest.mark.slow


def _lines(path):
    return path.read_text().splitlines()


def _write(path, lines, tail: bytes = b""):
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8") + tail)
    return path


def assert_one_clear_error(proc, work_dir, *needles):
    """Exit code 2, no traceback, an ``error:`` line containing every needle, and no training."""
    text = output(proc)
    assert proc.returncode == 2, describe(proc)
    assert "Traceback" not in text, describe(proc)
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error: ")]
    assert len(errors) == 1, describe(proc)
    for needle in needles:
        assert needle in errors[0], f"{needle!r} not in {errors[0]!r}"
    assert "Epoch(train)" not in text, "an iteration ran before the error"
    assert not work_dir.exists() or checkpoints(work_dir) == [], "a checkpoint was written"
    assert proc.elapsed < 90


# (case, which list is broken, how, text the error line must contain besides "<list>:<line>")
LIST_CASES = {
    "wrong_column_count": ("train", 3, lambda ln: ln + " extra", "expected 'path label' (2 fields), got 3 fields"),
    "label_out_of_range": ("train", 2, lambda ln: ln.rsplit(" ", 1)[0] + " 3", "label 3 is out of range for num_classes=3"),
    # a test list (--test-last): read before training, not after it
    "negative_label_in_test_list": ("test", 4, lambda ln: ln.rsplit(" ", 1)[0] + " -1", "label -1 is negative"),
}


@pytest.mark.parametrize("case", sorted(LIST_CASES))
def test_bad_list_line_is_named(videos, tmp_path, case):
    which, line_no, edit, message = LIST_CASES[case]
    lists = videos.copy_lists(f"bad_list_{case}")
    target = getattr(lists, which)
    lines = _lines(target)
    lines[line_no - 1] = edit(lines[line_no - 1])
    _write(target, lines)
    cfg = reliability_config(tmp_path / "cfg.py", lists.train, lists.test, lists.test)
    proc = run_train(cfg, tmp_path / "work", "--test-last")
    assert_one_clear_error(proc, tmp_path / "work", f"{target}:{line_no}:", message)


def test_duplicate_entries_are_named_with_their_lines(videos, tmp_path):
    lists = videos.copy_lists("duplicates")
    lines = _lines(lists.train)
    _write(lists.train, lines + [lines[1]])
    cfg = reliability_config(tmp_path / "cfg.py", lists.train, lists.test, lists.test)
    proc = run_train(cfg, tmp_path / "work")
    path = lines[1].split()[0]
    assert_one_clear_error(proc, tmp_path / "work", str(lists.train), path,
                           f"(lines 2, {len(lines) + 1})", "allow_duplicates=True")


def test_non_utf8_path_bytes_are_named(videos, tmp_path):
    lists = videos.copy_lists("latin1")
    lines = _lines(lists.train)
    _write(lists.train, lines, tail=b"train/vid\xe9o_latin1.mp4 1\n")  # 'video' with a Latin-1 e-acute
    cfg = reliability_config(tmp_path / "cfg.py", lists.train, lists.test, lists.test)
    proc = run_train(cfg, tmp_path / "work")
    assert_one_clear_error(proc, tmp_path / "work", f"{lists.train}:{len(lines) + 1}:", "not valid UTF-8",
                           "\\xe9")


def test_unknown_key_in_config_file_is_named(videos, tmp_path):
    cfg = reliability_config(tmp_path / "cfg.py", videos.train, videos.test, videos.test,
                             extra="train_dataloader['dataset']['decode_timout'] = 5\n")
    proc = run_train(cfg, tmp_path / "work")
    assert_one_clear_error(proc, tmp_path / "work", "'train_dataloader.dataset.decode_timout'",
                           "Did you mean 'decode_timeout'?")


# An unknown key given with --cfg-options: tests/engine/test_config_tools.py::
# test_cli_rejects_unknown_option_before_building runs tools/train.py for it (not repeated here).


def test_pretrained_file_of_another_architecture_is_named(videos, tmp_path):
    """A CLIP file of width 64 / patch 16 for the width-32 / patch-8 model."""
    from mmaction.registry import MODELS

    other = MODELS.build(dict(type="ViT_CLIP", input_resolution=32, num_frames=4, patch_size=16, width=64,
                              layers=1, heads=2))
    weights = tmp_path / "other_arch.pth"
    torch.save(other.state_dict(), weights)
    cfg = reliability_config(tmp_path / "cfg.py", videos.train, videos.test, videos.test)
    proc = run_train(cfg, tmp_path / "work", "--cfg-options", f"model.backbone.pretrained={weights}")
    assert_one_clear_error(proc, tmp_path / "work", str(weights),
                           "key 'conv1.weight' has shape (64, 3, 16, 16) in the file",
                           "(width=32, patch_size=8) expects (32, 3, 8, 8)")


def test_label_map_with_more_classes_than_the_head_is_refused(videos, tmp_path):
    label_map = tmp_path / "label_map.txt"
    label_map.write_text("".join(f"class_{i}\n" for i in range(5)))  # the tiny head has 3 classes
    extra = f"train_dataloader['dataset']['label_map'] = '{label_map}'\n"
    cfg = reliability_config(tmp_path / "cfg.py", videos.train, videos.test, videos.test, extra=extra)
    proc = run_train(cfg, tmp_path / "work")
    assert_one_clear_error(proc, tmp_path / "work", "train_dataloader.dataset", f"label_map {label_map} names 5 classes",
                           "model.cls_head.num_classes=3")
