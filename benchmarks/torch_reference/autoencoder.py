"""The convolutional autoencoder of Bergmann et al. 2019 (Table 1; the paper's "AE MSE" and "AE MSE+SSIM"
rows) in PyTorch, restated from the harness's src/models/autoencoder.ts, NCHW.

At 128×128 (Table 1), LeakyReLU after every layer but the latent and the output:

    encoder: conv 32·4×4/2 → 32·4×4/2 → 32·3×3/1 → 64·4×4/2 → 64·3×3/1 → 128·4×4/2 → 64·3×3/1
             → 32·3×3/1 → latent d·8×8 'valid' (8×8 → 1×1, linear)
    decoder: the mirror image, stride-2 convs ↔ ConvT 4×4/2, ConvT d → 32·8×8 first, sigmoid last

Harness size rule: image side 8·2^n; n > 4 inserts n − 4 extra conv 32·4×4/2 after the first layer
(mirrored); n < 4 turns the first 4 − n stride-2 layers (and mirrors) into stride 1. Padding is
TensorFlow's 'same' (asymmetric for even kernels at stride 1: the extra pixel goes after).
"""

import math
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch import nn

from ssim import ssim_map, ssim_mean


@dataclass(frozen=True)
class AeLayer:
    kind: str  # "conv" | "convT"
    cin: int
    cout: int
    kernel: int
    stride: int
    pad: str  # "same" | "valid"
    activation: str  # "leaky" | "none" | "sigmoid"
    part: str  # "encoder" | "decoder"


def _conv(cin: int, cout: int, kernel: int, stride: int) -> AeLayer:
    return AeLayer("conv", cin, cout, kernel, stride, "same", "leaky", "encoder")


def _js_round(v: float) -> int:
    """JavaScript's Math.round (halves round up), which the harness's channel scaling uses."""
    return math.floor(v + 0.5)


def autoencoder_layers(config: dict) -> list:
    """The layer list of a config (see the module doc for the size rule)."""
    n = round(math.log2(config["imageSize"] / 8))
    extra = max(n - 4, 0)
    flattened = max(4 - n, 0)
    strides = [1 if i < flattened else 2 for i in range(4)]
    d = config["latentDim"]
    table = [_conv(3, 32, 4, strides[0])]
    table += [_conv(32, 32, 4, 2) for _ in range(extra)]
    table += [
        _conv(32, 32, 4, strides[1]),
        _conv(32, 32, 3, 1),
        _conv(32, 64, 4, strides[2]),
        _conv(64, 64, 3, 1),
        _conv(64, 128, 4, strides[3]),
        _conv(128, 64, 3, 1),
        _conv(64, 32, 3, 1),
        AeLayer("conv", 32, d, 8, 1, "valid", "none", "encoder"),
    ]

    def ch(c: int) -> int:
        return max(1, _js_round(c * config["channelScale"]))

    last = len(table) - 1
    encoder = [
        replace(layer, cin=layer.cin if i == 0 else ch(layer.cin), cout=d if i == last else ch(layer.cout))
        for i, layer in enumerate(table)
    ]
    decoder = [AeLayer("convT", d, encoder[-1].cin, 8, 1, "valid", "leaky", "decoder")]
    for layer in reversed(encoder[:-1]):
        kind = "convT" if layer.kernel == 4 else "conv"
        decoder.append(
            AeLayer(kind, layer.cout, layer.cin, layer.kernel, layer.stride, "same", "leaky", "decoder")
        )
    decoder[-1] = replace(decoder[-1], activation="sigmoid")
    return encoder + decoder


def _same_pads(size: int, kernel: int, stride: int) -> tuple:
    """TensorFlow 'same' padding (before, after) of a convolution over `size` pixels."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class SameConv2d(nn.Module):
    """Conv2d with TensorFlow 'same' or 'valid' padding (symmetric padding inside the conv when it can)."""

    def __init__(self, layer: AeLayer):
        super().__init__()
        self.layer = layer
        self.conv = nn.Conv2d(layer.cin, layer.cout, layer.kernel, layer.stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.layer.pad == "valid":
            return self.conv(x)
        before, after = _same_pads(x.shape[-1], self.layer.kernel, self.layer.stride)
        if before == after:
            return F.conv2d(x, self.conv.weight, self.conv.bias, self.layer.stride, before)
        return self.conv(F.pad(x, (before, after, before, after)))


class SameConvTranspose2d(nn.Module):
    """ConvTranspose2d as tfjs conv2dTranspose 'same' (output side × stride) or 'valid' ((in − 1)·s + k)."""

    def __init__(self, layer: AeLayer, conv_transpose: type = nn.ConvTranspose2d):
        super().__init__()
        self.layer = layer
        if layer.pad == "valid":
            self.crop = (0, 0)
        else:  # the transpose of a 'same' conv from in·s pixels: crop its padding off the full output
            total = max(layer.kernel - layer.stride, 0)
            self.crop = (total // 2, total - total // 2)
        self.conv = conv_transpose(layer.cin, layer.cout, layer.kernel, layer.stride, padding=self.crop[0])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        extra = self.crop[1] - self.crop[0]
        return y[..., : y.shape[-2] - extra, : y.shape[-1] - extra] if extra else y


class ConvAutoencoder(nn.Module):
    """`ae-mse` / `ae-ssim`: PyTorch default init U(±1/√fan_in), as the harness draws it.
    `ssim_separable`: see ssim.py; `conv_transpose`: the ConvTranspose2d class (see convt.py)."""

    def __init__(self, config: dict, ssim_separable: bool = False, conv_transpose: type = nn.ConvTranspose2d):
        super().__init__()
        self.config = config
        self.ssim_separable = ssim_separable
        self.specs = autoencoder_layers(config)
        self.layers = nn.ModuleList(
            SameConv2d(layer) if layer.kind == "conv" else SameConvTranspose2d(layer, conv_transpose)
            for layer in self.specs
        )

    def parts(self) -> dict:
        return {
            part: [m for m, s in zip(self.layers, self.specs) if s.part == part]
            for part in ("encoder", "decoder")
        }

    def accumulated_parameters(self) -> list:
        return []

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        for module, layer in zip(self.layers, self.specs):
            h = module(h)
            if layer.activation == "leaky":
                h = F.leaky_relu(h, self.config["leakySlope"])
            elif layer.activation == "sigmoid":
                h = torch.sigmoid(h)
        return h

    def loss(self, x: torch.Tensor) -> tuple:
        """w_mse·MSE + w_ssim·(1 − SSIM). As the harness, SSIM is computed (and differentiated) even at
        weight 0 (`ae-mse`), where it is only a logged term."""
        c = self.config
        recon = self.reconstruct(x)
        mse = F.mse_loss(recon, x)
        ssim = ssim_mean(x, recon, self.ssim_separable)
        ssim_term = -ssim if c["ssimLoss"] == "negative" else 1 - ssim
        loss = c["lossMseWeight"] * mse + c["lossSsimWeight"] * ssim_term
        return loss, {"mse": mse, "ssim": ssim}

    def score(self, x: torch.Tensor) -> dict:
        """What the harness's scoreImages computes for an autoencoder (call under eval() and no_grad())."""
        recon = self.reconstruct(x)
        return {
            "errorMap": (recon - x).pow(2).mean(1),
            "ssimMap": ssim_map(x, recon, self.ssim_separable).mean(1),
        }
