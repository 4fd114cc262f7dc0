"""tools/analysis/benchmark.py --mode train|test on the tiny AIM config (the data mode is tested elsewhere)."""

import json
import math

import pytest

BENCHMARK = "tools/analysis/benchmark.py"
GET_FLOPS = "tools/analysis/get_flops.py"
KEYS = {"mode", "batch_size", "step_s", "clips_per_s", "peak_mem_mb", "tflops", "matmul_peak_tflops"}


def run_json(load_tool, capsys, script: str, *argv: str) -> dict:
    rc = load_tool(script).main([*argv, "--json"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    return json.loads(out.out.strip().splitlines()[-1])


@pytest.mark.parametrize("mode,amp", [("train", "none"), ("test", "none"), ("test", "bf16")])
def test_benchmark_model_modes(tiny_run, load_tool, capsys, mode, amp):
    batch = 2
    result = run_json(load_tool, capsys, BENCHMARK, str(tiny_run.config), "--mode", mode, "--batch-size", str(batch),
                      "--iters", "3", "--warmup", "1", "--amp", amp, "--device", "cpu", "--matmul-size", "256")
    assert set(result) >= KEYS
    assert result["mode"] == mode and result["batch_size"] == batch
    for key in ("step_s", "clips_per_s", "peak_mem_mb", "tflops", "matmul_peak_tflops"):
        assert isinstance(result[key], float) and math.isfinite(result[key]) and result[key] > 0, (key, result[key])
    assert result["step_s"] < 30
    # what a step adds to the model's standing state: non-negative, part of the process's peak
    assert 0.0 <= result["step_mem_mb"] <= result["peak_mem_mb"]

    # the work of one step, from the counter get_flops.py uses
    flops = run_json(load_tool, capsys, GET_FLOPS, str(tiny_run.config))
    forward_gmacs = flops["gflops_per_view"]  # one view of one video
    clips_per_video = flops["num_views"] if mode == "test" else 1  # the train pipeline samples 1 clip
    assert math.isclose(result["clips_per_s"], batch * clips_per_video / result["step_s"], rel_tol=1e-9)
    if mode == "test":  # forward of every view of every video, nothing else
        assert math.isclose(result["step_gmacs"], batch * clips_per_video * forward_gmacs, rel_tol=1e-9)
    else:  # forward + backward (input gradients through the frozen blocks, adapter/head weight gradients)
        assert 1.5 * batch * forward_gmacs < result["step_gmacs"] < 3 * batch * forward_gmacs
    # achieved rate = 2 FLOPs per multiply-add x multiply-adds per step / step time
    assert math.isclose(result["tflops"], 2 * result["step_gmacs"] * 1e9 / result["step_s"] / 1e12, rel_tol=1e-9)
    assert math.isclose(result["fraction_of_matmul_peak"], result["tflops"] / result["matmul_peak_tflops"],
                        rel_tol=1e-9)


def test_benchmark_rejects_fp16_on_cpu(tiny_run, load_tool, capsys):
    rc = load_tool(BENCHMARK).main([str(tiny_run.config), "--mode", "test", "--iters", "1", "--amp", "fp16",
                                    "--device", "cpu"])
    assert rc == 1
    assert "bf16" in capsys.readouterr().err
