#!/usr/bin/env python3
"""PyTorch yardstick for `deno task bench:train`: the harness's networks and configs restated in PyTorch,
timed the same way, one JSON line on stdout.

    /usr/bin/python3 benchmarks/torch_reference/bench.py --model vtadl --config code --batch 2 --steps 1

Straight line: fixed seed → model (its parameter counts checked against the harness's) → Adam →
random images in [0, 1] → 1 warm-up training step → `steps` timed steps → scoring of `batch` images
(eval, no_grad) once as warm-up and once timed → JSON.

Exit codes: 0 done; 2 usage or config error; 3 torch is not importable; 4 the PyTorch model's parameter
counts differ from the harness's (configs.json).
"""

import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the sources in the repository

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402

EXIT_USAGE, EXIT_NO_TORCH, EXIT_PARAM_MISMATCH = 2, 3, 4
PARTS = ("encoder", "projection", "decoder", "mdn")

try:
    import torch
except ImportError:
    print(
        f"bench.py: torch is not importable by {sys.executable}. Debian: `apt-get install python3-torch` "
        "and run with /usr/bin/python3; elsewhere: `pip install torch`.",
        file=sys.stderr,
    )
    sys.exit(EXIT_NO_TORCH)

from autoencoder import ConvAutoencoder  # noqa: E402
from configs import ConfigError, load_entry  # noqa: E402
from convt import AdjointConvTranspose2d, conv_transpose_class  # noqa: E402
from vtadl import VtAdl  # noqa: E402


def default_threads() -> int:
    """All logical CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def parse_args(argv: list) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench.py",
        description="Time PyTorch training and scoring of a harness config; prints one JSON line.",
    )
    parser.add_argument("--model", default="vtadl", help="vtadl, ae-mse or ae-ssim [default: vtadl]")
    parser.add_argument(
        "--config", default="smoke", help="smoke, quick, mnist, code or paper [default: smoke]"
    )
    parser.add_argument("--batch", type=int, help="images per step [default: the config's batchSize]")
    parser.add_argument("--steps", type=int, default=3, help="timed training steps [default: 3]")
    parser.add_argument(
        "--threads", type=int, default=default_threads(), help="torch threads [default: all CPUs]"
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of weights, images and noise [default: 1]")
    parser.add_argument(
        "--ssim",
        choices=("window", "separable"),
        default="window",
        help="window: pytorch_ssim's 11×11 grouped conv2d (the original); separable: row + column passes "
        "(the harness's FLOPs) [default: window]",
    )
    parser.add_argument(
        "--convt",
        choices=("auto", "native", "adjoint"),
        default="auto",
        help="native: nn.ConvTranspose2d; adjoint: the same operator through conv2d's oneDNN gradient "
        "kernels (convt.py); auto: adjoint only where native is torch's generic slow kernel [default: auto]",
    )
    parser.add_argument("--params-only", action="store_true", help="print parameter counts per part and exit")
    parser.add_argument("--engine-info", action="store_true", help="print the backend/engine JSON and exit")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    args = parser.parse_args(argv)
    for name in ("batch", "steps", "threads"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name} must be a positive integer, got {value}")
    return args


def engine_description(conv_transpose: type) -> str:
    """`pytorch <version> (<packaging>; <BLAS>; <oneDNN>[; ConvT kernel])`, from the libraries loaded."""
    torch.ones(8, 8) @ torch.ones(8, 8)  # make sure the BLAS is loaded before reading the maps
    details = []
    if torch.__file__.startswith("/usr/lib/python3/dist-packages/"):
        try:
            query = ["dpkg-query", "-W", "-f=${Version}", "python3-torch"]
            version = subprocess.run(query, capture_output=True, text=True, timeout=10).stdout.strip()
            if version:
                details.append(f"Debian python3-torch {version}")
        except (OSError, subprocess.SubprocessError):
            pass
    details.append(blas_description())
    config = torch.__config__.show()
    onednn = re.search(r"(?:MKL-DNN|oneDNN)\)?\s+v(\d+(?:\.\d+)*)", config)
    if torch.backends.mkldnn.is_available():
        details.append(f"oneDNN {onednn.group(1)}" if onednn else "oneDNN")
    if conv_transpose is AdjointConvTranspose2d:
        details.append("ConvTranspose2d as conv2d adjoint")
    return f"pytorch {torch.__version__} ({'; '.join(details)})"


def blas_description() -> str:
    """The BLAS torch uses: MKL if built in, else the BLAS library mapped into this process."""
    if torch.backends.mkl.is_available():
        return "MKL"
    try:
        with open("/proc/self/maps") as maps:
            libs = {line.split()[-1].rsplit("/", 1)[-1] for line in maps if ".so" in line}
    except OSError:
        libs = set()
    for lib in sorted(libs):
        found = re.match(r"libopenblas(p|o)?-r(\d+(?:\.\d+)*)", lib)
        if found:
            flavour = {"p": " pthread", "o": " openmp"}.get(found.group(1), "")
            return f"OpenBLAS {found.group(2)}{flavour}"
    for name in ("libblis", "libmkl_rt", "libopenblas", "libblas"):
        match = next((lib for lib in sorted(libs) if lib.startswith(name)), None)
        if match:
            return f"BLAS {match}"
    info = re.search(r"BLAS_INFO=(\w+)", torch.__config__.show())
    return f"BLAS {info.group(1) if info else 'unknown'}"


def build_model(
    model: str, config: dict, seed: int, ssim_separable: bool, conv_transpose: type
) -> torch.nn.Module:
    torch.manual_seed(seed)
    if model == "vtadl":
        return VtAdl(config, ssim_separable, conv_transpose)
    return ConvAutoencoder(config, ssim_separable, conv_transpose)


def parameter_counts(net: torch.nn.Module) -> dict:
    """Trainable parameters per part, the shape `deno task model-summary` prints."""
    counts = {part: 0 for part in PARTS}
    for part, modules in net.parts().items():
        modules = modules if isinstance(modules, list) else [modules]
        counts[part] = sum(p.numel() for m in modules for p in m.parameters() if p.requires_grad)
    counts["total"] = sum(counts.values())
    return counts


def adam(net: torch.nn.Module, config: dict) -> torch.optim.Adam:
    """torch.optim.Adam with the config's lr, betas, eps and coupled weight decay (train.py:52)."""
    return torch.optim.Adam(
        net.parameters(),
        lr=config["learningRate"],
        betas=(config["adamBeta1"], config["adamBeta2"]),
        eps=config["adamEpsilon"],
        weight_decay=config["weightDecay"],
    )


def train_step(net: torch.nn.Module, optimizer: torch.optim.Adam, zeroed: list, x: torch.Tensor) -> list:
    """One step as the harness's trainStep: loss and gradients, the update only if every value is finite.
    Gradients of `zeroed` are cleared first; the others (VT-ADL `mdnGradAccumulate`: the MDN) keep
    summing, as train.py calls only model.zero_grad() (train.py:65,93-94)."""
    for p in zeroed:
        p.grad = None
    loss, terms = net.loss(x)
    loss.backward()
    values = torch.stack([loss.detach(), *(t.detach() for t in terms.values())]).tolist()
    if all(math.isfinite(v) for v in values):
        optimizer.step()
    return values


def score(net: torch.nn.Module, x: torch.Tensor) -> dict:
    """Forward-only scoring as the harness's scoreImages: no noise, BatchNorm on running statistics."""
    net.eval()
    with torch.no_grad():
        out = net.score(x)
    net.train()
    return out


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB.

    On Linux this is VmHWM of /proc/self/status: ru_maxrss survives fork + exec, so when the harness's
    benchmark starts this script it would report the parent's peak when that is higher.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def main(argv: list) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    progress = (lambda *_: None) if args.quiet else (lambda msg: print(f"bench.py: {msg}", file=sys.stderr))
    conv_transpose = conv_transpose_class(args.convt)
    if args.engine_info:
        engine = engine_description(conv_transpose)
        print(json.dumps({"backend": "torch", "engine": engine, "threads": args.threads}))
        return 0
    try:
        entry = load_entry(args.model, args.config)
    except ConfigError as error:
        print(f"bench.py: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    config = entry["config"]
    batch = args.batch or config["batchSize"]

    net = build_model(args.model, config, args.seed, args.ssim == "separable", conv_transpose)
    counts = parameter_counts(net)
    if counts != entry["parameterCounts"]:
        print(
            f"bench.py: error: the PyTorch {args.model}/{args.config} has parameter counts "
            f"{json.dumps(counts)}, the harness {json.dumps(entry['parameterCounts'])}: the restatement no "
            "longer matches src/models (fix benchmarks/torch_reference), or configs.json is stale "
            "(regenerate it, README.md)",
            file=sys.stderr,
        )
        return EXIT_PARAM_MISMATCH
    if args.params_only:
        print(json.dumps(counts))
        return 0

    optimizer = adam(net, config)
    accumulated = {id(p) for p in net.accumulated_parameters()}
    zeroed = [p for p in net.parameters() if id(p) not in accumulated]
    size = config["imageSize"]
    x = torch.rand(batch, 3, size, size)
    net.train()

    progress(f"{args.model}/{args.config}: batch {batch}, {args.threads} threads, warm-up step")
    values = train_step(net, optimizer, zeroed, x)
    started = time.perf_counter()
    for step in range(1, args.steps + 1):
        values = train_step(net, optimizer, zeroed, x)
        progress(f"step {step}/{args.steps}: loss {values[0]:.6g} ({time.perf_counter() - started:.1f} s)")
    train_seconds = time.perf_counter() - started
    if not all(math.isfinite(v) for v in values):
        progress("the last step's loss was not finite; its update was skipped, as the harness does")

    score(net, x)
    started = time.perf_counter()
    score(net, x)
    score_seconds = time.perf_counter() - started

    print(
        json.dumps(
            {
                "model": args.model,
                "config": args.config,
                "backend": "torch",
                "engine": engine_description(conv_transpose),
                "threads": args.threads,
                "batch": batch,
                "steps": args.steps,
                "train_img_per_s": batch * args.steps / train_seconds,
                "score_img_per_s": batch / score_seconds,
                "peak_rss_mb": round(peak_rss_mb(), 1),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
