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
    # the reference is the best of the products measured before and after the model's steps
    assert result["matmul_peak_tflops"] == max(result["matmul_before_tflops"], result["matmul_after_tflops"])
    assert result["step_spread"] >= 1.0
    if mode == "train":  # the config's own wrapper (--amp none: full precision, as tools/train.py --amp none)
        assert result["optim_wrapper"] == "SafeOptimWrapper" and result["optimizer"] == "AdamW"
        assert math.isfinite(result["first_loss"])


def test_benchmark_rejects_fp16_on_cpu(tiny_run, load_tool, capsys):
    rc = load_tool(BENCHMARK).main([str(tiny_run.config), "--mode", "test", "--iters", "1", "--amp", "fp16",
                                    "--device", "cpu"])
    assert rc == 1
    assert "bf16" in capsys.readouterr().err


def test_train_mode_steps_the_configured_optim_wrapper(tiny_run, load_tool):
    """benchmark's train step is model.train_step with the config's wrapper: one step moves the tunable
    weights exactly as a hand-written SGD step on the same loss does, and frozen weights stay out."""
    import copy

    import torch

    bm = load_tool(BENCHMARK)
    cpu = torch.device("cpu")
    cfg = bm.load_config(tiny_run.config)
    cfg.optim_wrapper.optimizer = dict(type="SGD", lr=0.5, weight_decay=0.0)  # plain update, no decay
    torch.manual_seed(0)
    model = bm.build_model(cfg, cpu)
    reference = copy.deepcopy(model)
    data = bm.random_batch(cfg, "train", 2)
    optim_wrapper = bm.build_train_optim_wrapper(cfg, model, cpu, None)
    assert type(optim_wrapper).__name__ == cfg.optim_wrapper.type == "SafeOptimWrapper"
    in_optimizer = {id(p) for group in optim_wrapper.optimizer.param_groups for p in group["params"]}
    assert in_optimizer == {id(p) for p in model.parameters() if p.requires_grad}  # the config's constructor
    assert len(in_optimizer) < len(list(model.parameters()))  # the frozen CLIP weights are not there
    step, _ = bm.make_train_step(model, data, optim_wrapper)
    torch.manual_seed(1)
    loss = step()

    torch.manual_seed(1)  # same dropout / drop-path draws
    reference.train()
    batch = reference.data_preprocessor(copy.deepcopy(data), True)
    losses = reference(**batch, mode="loss")
    total = sum(value for key, value in losses.items() if "loss" in key)
    total.backward()
    assert loss == pytest.approx(float(total.detach()), rel=1e-6)
    with torch.no_grad():
        for (name, got), (_, ref) in zip(model.named_parameters(), reference.named_parameters()):
            expected = ref - 0.5 * ref.grad if ref.requires_grad else ref
            assert torch.allclose(got, expected, atol=1e-6), name
    assert any(not torch.equal(p, r) for p, r in zip(model.parameters(), reference.parameters()))


def test_train_mode_amp_changes_the_wrapper_as_train_py_does(tiny_run, load_tool):
    import torch

    bm = load_tool(BENCHMARK)
    cpu = torch.device("cpu")
    cfg = bm.load_config(tiny_run.config)
    model = bm.build_model(cfg, cpu)
    wrapper = bm.build_train_optim_wrapper(cfg, model, cpu, "bf16")
    assert type(wrapper).__name__ == "MixedPrecisionOptimWrapper" and bm.wrapper_dtype(wrapper) == torch.bfloat16
    assert cfg.optim_wrapper.get("type") == "SafeOptimWrapper"  # the caller's config is left as it was
    with pytest.raises(ValueError, match="bf16"):
        bm.build_train_optim_wrapper(cfg, model, cpu, "fp16")


def test_spread_warning(load_tool):
    bm = load_tool(BENCHMARK)
    assert bm.spread_warning([0.10, 0.12, 0.19]) is None
    message = bm.spread_warning([0.10, 0.12, 0.25])
    assert message.startswith("warning:") and "2.5x" in message and "100.0 to 250.0 ms" in message


def test_matmul_reference_is_the_best_reading_and_larger_than_the_cache(load_tool):
    import torch

    bm = load_tool(BENCHMARK)
    size = bm.default_matmul_size(torch.device("cpu"), torch.bfloat16)
    assert size % 512 == 0 and 2048 <= size <= 8192
    assert 3 * size * size * 2 >= 4 * bm.last_level_cache_bytes() or size == 8192
    assert bm.default_matmul_size(torch.device("cuda"), torch.bfloat16) == 8192


def test_profile_reports_the_slowest_operators_of_one_step(tiny_run, load_tool, capsys):
    result = run_json(load_tool, capsys, BENCHMARK, str(tiny_run.config), "--mode", "train", "--iters", "1",
                      "--warmup", "0", "--device", "cpu", "--matmul-size", "256", "--profile", "6")
    rows = result["profile"]
    assert len(rows) == 6
    assert [r["self_ms"] for r in rows] == sorted((r["self_ms"] for r in rows), reverse=True)
    assert all(r["calls"] >= 1 and 0 < r["share"] <= 1 and r["self_ms"] > 0 for r in rows)
    assert sum(r["share"] for r in rows) <= 1 + 1e-9
    assert len({r["op"] for r in rows}) == 6
    # the matrix products of a training step are among the operators seen
    assert any(("mm" in r["op"] or "linear" in r["op"] or "conv" in r["op"]) for r in rows), rows

    rc = load_tool(BENCHMARK).main([str(tiny_run.config), "--mode", "test", "--iters", "1", "--warmup", "0",
                                    "--device", "cpu", "--matmul-size", "256", "--profile", "3"])
    out = capsys.readouterr().out
    assert rc == 0
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if "profile of one step" in line)
    assert len(lines) == header + 4 and all(" ms " in line for line in lines[header + 1:])
