"""tools/misc/extract_features.py: one (D,) .npy per video = backbone features averaged over the test views."""

import contextlib
import io
import shutil

import numpy as np
import pytest
import torch

EXTRACT = "tools/misc/extract_features.py"


def features_in_test(model, video):
    """model.backbone on every test view of ``video``, averaged over frames/space, then over views.

    Returns:
        (D,) feature and the (V, K) raw class scores of the views.
    """
    from mmengine.dataset import Compose, pseudo_collate

    pipeline = Compose(list(model.cfg.test_dataloader.dataset.pipeline))
    packed = pipeline(dict(filename=str(video), label=-1, start_index=0, modality="RGB"))
    with torch.no_grad():
        inputs = model.data_preprocessor(pseudo_collate([packed]), False)["inputs"][0]  # (V, 3, T, H, W)
        per_view = torch.stack([model.backbone(view[None])[0].mean(dim=(1, 2, 3)) for view in inputs])  # (V, D)
        view_scores = model(inputs, mode="tensor")  # (V, K)
    assert per_view.shape == (2, model.backbone.width)  # the tiny test pipeline: 2 clips x 1 crop
    return per_view.mean(dim=0), view_scores


@pytest.fixture(scope="module")
def extracted(tiny_run, load_tool, tmp_path_factory):
    """Runs the tool on a list of the 3 test videos, one in a sub-folder, one corrupt and one missing file."""
    root = tmp_path_factory.mktemp("extract")
    videos = root / "videos"
    (videos / "sub").mkdir(parents=True)
    names = ["video_000.mp4", "sub/video_001.mp4", "video_002.mp4"]
    for name in names:
        shutil.copy(tiny_run.root / "test" / name.split("/")[-1], videos / name)
    (videos / "corrupt.mp4").write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    listing = root / "list.txt"
    listing.write_text(f"{names[0]} 0\ncorrupt.mp4 1\n{names[1]} 1\n\nmissing.mp4 2\n{names[2]} 2\n")
    out = root / "features"
    argv = [str(tiny_run.config), str(tiny_run.checkpoint), "--list", str(listing), "--out", str(out),
            "--data-prefix", str(videos)]
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        rc = load_tool(EXTRACT).main(argv)
    assert rc == 0, stderr.getvalue()
    return dict(names=names, videos=videos, listing=listing, out=out, argv=argv, stdout=stdout.getvalue(),
                stderr=stderr.getvalue())


def test_features_equal_backbone_features_averaged_over_views(tiny_run, extracted):
    from mmaction.apis import init_recognizer

    model = init_recognizer(tiny_run.config, str(tiny_run.checkpoint), device="cpu")
    for name in extracted["names"]:
        path = extracted["out"] / name.replace(".mp4", ".npy")
        feature = np.load(path)
        assert feature.shape == (model.backbone.width,) and feature.dtype == np.float32
        expected, view_scores = features_in_test(model, extracted["videos"] / name)
        np.testing.assert_allclose(feature, expected.numpy(), rtol=1e-5, atol=1e-6)
        # the head is linear after the average: fc_cls(feature) = the views' raw scores averaged
        with torch.no_grad():
            scores = model.cls_head.fc_cls(torch.from_numpy(feature))
        torch.testing.assert_close(scores, view_scores.mean(dim=0), rtol=1e-5, atol=1e-6)
    assert sorted(p.relative_to(extracted["out"]).as_posix() for p in extracted["out"].rglob("*.npy")) == sorted(
        n.replace(".mp4", ".npy") for n in extracted["names"])

    # unreadable videos: skipped, named on stderr and in unreadable.txt; the summary is the last line
    for bad in ("corrupt.mp4", "missing.mp4"):
        assert str(extracted["videos"] / bad) in extracted["stderr"]
    report = (extracted["out"] / "unreadable.txt").read_text().splitlines()
    assert [line.split("\t")[0] for line in report] == ["corrupt.mp4", "missing.mp4"]
    summary = extracted["stdout"].strip().splitlines()[-1]
    assert summary.startswith(f"extracted 3 of 5 videos to {extracted['out']}")
    assert f"({model.backbone.width},)" in summary and "2 unreadable" in summary


def test_skip_existing_and_relative_to_the_list(tiny_run, load_tool, capsys, extracted, tmp_path):
    tool = load_tool(EXTRACT)
    assert tool.main(extracted["argv"] + ["--skip-existing"]) == 0
    assert "extracted 0 of 5 videos" in capsys.readouterr().out.strip().splitlines()[-1]

    # without --data-prefix the paths are relative to the list file's folder
    listing = extracted["videos"] / "own_list.txt"
    listing.write_text("sub/video_001.mp4\n")
    out = tmp_path / "feats"
    assert tool.main([str(tiny_run.config), str(tiny_run.checkpoint), "--list", str(listing), "--out", str(out)]) == 0
    np.testing.assert_array_equal(np.load(out / "sub" / "video_001.npy"),
                                  np.load(extracted["out"] / "sub" / "video_001.npy"))
    assert not (out / "unreadable.txt").exists()


def test_errors_name_the_file(tiny_run, load_tool, capsys, tmp_path):
    tool = load_tool(EXTRACT)
    missing = tmp_path / "no_list.txt"
    assert tool.main([str(tiny_run.config), str(tiny_run.checkpoint), "--list", str(missing),
                      "--out", str(tmp_path / "o")]) == 1
    assert str(missing) in capsys.readouterr().err

    only_bad = tmp_path / "bad.txt"
    only_bad.write_text("gone.mp4 0\n")
    assert tool.main([str(tiny_run.config), str(tiny_run.checkpoint), "--list", str(only_bad),
                      "--out", str(tmp_path / "o")]) == 1  # nothing extracted
    captured = capsys.readouterr()
    assert str(tmp_path / "gone.mp4") in captured.err and "extracted 0 of 1" in captured.out

    dup = tmp_path / "dup.txt"
    dup.write_text("a.mp4 0\na.mp4 1\n")
    assert tool.main([str(tiny_run.config), str(tiny_run.checkpoint), "--list", str(dup),
                      "--out", str(tmp_path / "o")]) == 1
    assert f"{dup}:2" in capsys.readouterr().err
