"""The harness's resolved configs, read from configs.json (generated from src/models/configs.ts; README.md
says how), never retyped here. Every field and enum value the PyTorch models read is checked, so a config
the harness grows beyond what this restatement implements is refused instead of silently misread."""

import json
from pathlib import Path

CONFIGS_JSON = Path(__file__).with_name("configs.json")
REGENERATE = "regenerate configs.json as benchmarks/torch_reference/README.md says"


class ConfigError(Exception):
    """An unknown model or config name, or a config this restatement does not implement."""


# Field → its Python type, or the set of enum values the models below implement, per model kind.
_COMMON = {
    "imageSize": int,
    "batchSize": int,
    "learningRate": (int, float),
    "weightDecay": (int, float),
    "adamBeta1": (int, float),
    "adamBeta2": (int, float),
    "adamEpsilon": (int, float),
    "lossMseWeight": (int, float),
    "lossSsimWeight": (int, float),
    "ssimLoss": {"negative", "oneMinus"},
}
_VTADL = {
    **_COMMON,
    "patchSize": int,
    "dim": int,
    "depth": int,
    "heads": int,
    "mlpDim": int,
    "projectionDim": int,
    "decoder": {"code", "stride2"},
    "decoderSeedSize": int,
    "decoderChannels": list,
    "numGaussians": int,
    "noiseStd": (int, float),
    "lossNllWeight": (int, float),
    "attentionScale": {"dim", "headDim"},
    "mixtureNll": {"weightedComponentNll", "logSumExp"},
    "varianceParam": {"expSoftplusLogVar", "softplusStd"},
    "sigmaFloor": (int, float),
    "log2piOnce": bool,
    "mdnInputClamp": bool,
    "mdnGradAccumulate": bool,
    "squashEpsilon": (int, float),
}
_AUTOENCODER = {**_COMMON, "latentDim": int, "leakySlope": (int, float), "channelScale": (int, float)}


def load_entry(model: str, name: str, path: Path = CONFIGS_JSON) -> dict:
    """The configs.json entry {configHash, parameterCounts, config} of `model`/`name`, validated."""
    try:
        table = json.loads(path.read_text())["configs"]
    except FileNotFoundError:
        raise ConfigError(f"{path} not found: {REGENERATE}") from None
    if model not in table:
        raise ConfigError(f"unknown model '{model}': expected one of {', '.join(table)}")
    if name not in table[model]:
        raise ConfigError(f"unknown config '{name}' for {model}: expected one of {', '.join(table[model])}")
    entry = table[model][name]
    _check_fields(entry["config"], _VTADL if model == "vtadl" else _AUTOENCODER, f"{model}/{name}")
    return entry


def _check_fields(config: dict, schema: dict, where: str) -> None:
    for field, allowed in schema.items():
        if field not in config:
            raise ConfigError(f"config {where} in configs.json has no '{field}': {REGENERATE}")
        value = config[field]
        if isinstance(allowed, set):
            if value not in allowed:
                raise ConfigError(
                    f"config {where}: {field}={value!r} is not implemented by the PyTorch restatement "
                    f"(knows {', '.join(sorted(allowed))}): extend benchmarks/torch_reference"
                )
        elif not isinstance(value, allowed) or (allowed is int and isinstance(value, bool)):
            raise ConfigError(f"config {where}: {field}={value!r} has an unexpected type: {REGENERATE}")
