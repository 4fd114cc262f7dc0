"""tools/misc/plot_curves.py on the work dir of a real (tiny) training run."""

import json

import numpy as np
from PIL import Image

PLOT = "tools/misc/plot_curves.py"


def test_plot_curves_of_a_training_run(tiny_run, load_tool, capsys, tmp_path):
    out = tmp_path / "curves.png"
    rc = load_tool(PLOT).main([str(tiny_run.work_dir), "--out", str(out)])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert "['loss', 'acc/top1', 'lr']" in captured.out

    with Image.open(out) as image:
        assert image.format == "PNG"
        width, height = image.size
        pixels = np.asarray(image.convert("RGB"))
    assert width > 3 * height > 0  # three panels side by side
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 10  # curves, axes and text, not a blank canvas

    # the series the plot is made of: one loss/lr point per iteration, one accuracy point per epoch
    (scalars,) = tiny_run.work_dir.glob("*/vis_data/scalars.json")
    series = load_tool(PLOT).read_scalars(scalars)
    iterations = tiny_run.epochs * tiny_run.iters_per_epoch
    assert [x for x, _ in series["loss"]] == list(range(1, iterations + 1))
    assert len(series["lr"]) == iterations
    assert [x for x, _ in series["acc/top1"]] == list(range(1, tiny_run.epochs + 1))
    logged = [json.loads(line) for line in scalars.read_text().splitlines() if line.strip()]
    assert [v for _, v in series["loss"]] == [rec["loss"] for rec in logged if "loss" in rec]
    assert all(0.0 <= v <= 1.0 for _, v in series["acc/top1"])


def test_default_output_and_errors(tiny_run, load_tool, capsys, tmp_path):
    tool = load_tool(PLOT)
    assert tool.main([str(tiny_run.work_dir), "--keys", "loss"]) == 0
    assert (tiny_run.work_dir / "curves.png").is_file()
    capsys.readouterr()

    assert tool.main([str(tiny_run.work_dir), "--keys", "no_such_key", "--out", str(tmp_path / "x.png")]) == 1
    err = capsys.readouterr().err
    assert "no_such_key" in err and "loss" in err  # names the missing key and the available ones

    empty = tmp_path / "empty_work_dir"
    empty.mkdir()
    assert tool.main([str(empty)]) == 1
    assert str(empty) in capsys.readouterr().err

    broken = tmp_path / "run" / "vis_data" / "scalars.json"
    broken.parent.mkdir(parents=True)
    broken.write_text('{"loss": 1.0, "step": 1}\nnot json\n')
    assert tool.main([str(tmp_path / "run"), "--out", str(tmp_path / "y.png")]) == 1
    assert f"{broken}:2" in capsys.readouterr().err
