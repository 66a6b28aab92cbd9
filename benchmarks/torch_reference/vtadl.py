"""VT-ADL (Mishra et al. 2021) in PyTorch, restated from docs/original-code.md and the harness's
src/models/vtadl.ts, NCHW as PyTorch does. A speed yardstick: the same layers and tensor sizes as the
harness for every config.

    image [B, 3, H, W] ∈ [0, 1]
      → patches [B, N, P·P·3] in (p1, p2, c) order                student_transformer.py:95,114
      → ViT encoder (pre-LN, no final LN, class token dropped) → [B, N, D]       eq. (1)-(3)
      → + N(0, noiseStd²) in training                                VT_AE.py:51-52
      ├→ projection: Linear N·D → projectionDim (no bias) + squash   the capsule layer in closed form, §2
      │    → decoder (ConvT + BN + ReLU, tanh last) → recon [B, 3, H, W]
      └→ MDN: π, μ, σ per patch → per-patch NLL [B, N]              mdn1.py
    loss = w_mse·MSE + w_ssim·(−SSIM or 1 − SSIM) + w_nll·mean_B Σ_patches NLL            eq. (9)
"""

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ssim import ssim_map, ssim_mean

LOG_2PI = math.log(2 * math.pi)
MDN_CLAMP = 2.220446049250313e-16  # np.finfo(float).eps, mdn1.py:35-36


@dataclass(frozen=True)
class DecoderLayer:
    """ConvTranspose2d(cin, cout, kernel, stride, padding=crop), then BN + ReLU or tanh."""

    cin: int
    cout: int
    kernel: int
    stride: int
    crop: int
    activation: str  # "bnRelu" | "tanh"


# The original decoder2(8), model_res18.py:18-43 (doc §3): 8×8×8 → 3×512×512.
CODE_DECODER = [
    DecoderLayer(8, 16, 3, 2, 1, "bnRelu"),  # 8 → 15
    DecoderLayer(16, 32, 9, 3, 1, "bnRelu"),  # 15 → 49
    DecoderLayer(32, 32, 7, 5, 1, "bnRelu"),  # 49 → 245
    DecoderLayer(32, 16, 9, 2, 0, "bnRelu"),  # 245 → 497
    DecoderLayer(16, 8, 6, 1, 0, "bnRelu"),  # 497 → 502
    DecoderLayer(8, 3, 11, 1, 0, "tanh"),  # 502 → 512
]


def decoder_layers(config: dict) -> list:
    """`code`: the original six layers. `stride2` (harness rule): ConvT 4×4/2 (padding 1) + BN + ReLU per
    entry of decoderChannels from the seed grid, then ConvT 3×3/1 (padding 1) to 3 channels + tanh."""
    if config["decoder"] == "code":
        return CODE_DECODER
    layers = []
    cin = config["projectionDim"] // config["decoderSeedSize"] ** 2
    for cout in config["decoderChannels"]:
        layers.append(DecoderLayer(cin, cout, 4, 2, 1, "bnRelu"))
        cin = cout
    layers.append(DecoderLayer(cin, 3, 3, 1, 1, "tanh"))
    return layers


def patchify(x: torch.Tensor, p: int) -> torch.Tensor:
    """Rearrange('b c (h p1) (w p2) -> b (h w) (p1 p2 c)'): [B, C, H, W] → [B, N, P·P·C]."""
    b, c, h, w = x.shape
    t = x.reshape(b, c, h // p, p, w // p, p).permute(0, 2, 4, 3, 5, 1)
    return t.reshape(b, (h // p) * (w // p), p * p * c)


class Attention(nn.Module):
    """Multi-head self-attention (student_transformer.py:41-72): qkv without bias, out with bias."""

    def __init__(self, dim: int, heads: int, scale: float):
        super().__init__()
        self.heads, self.scale = heads, scale
        self.to_qkv = nn.Linear(dim, 3 * dim, bias=False)
        self.to_out = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = (
            part.reshape(b, t, self.heads, d // self.heads).transpose(1, 2)
            for part in self.to_qkv(x).chunk(3, dim=-1)
        )  # [B, h, T, D/h]
        attn = torch.softmax(q @ k.transpose(-1, -2) * self.scale, dim=-1)
        return self.to_out((attn @ v).transpose(1, 2).reshape(b, t, d))


class Block(nn.Module):
    """Pre-norm transformer block: x + Attn(LN(x)), then x + FF(LN(x)); exact-erf GELU, no dropout."""

    def __init__(self, dim: int, heads: int, mlp_dim: int, scale: float):
        super().__init__()
        self.ln1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads, scale)
        self.ln2 = nn.LayerNorm(dim)
        self.ff = nn.Sequential(nn.Linear(dim, mlp_dim), nn.GELU(), nn.Linear(mlp_dim, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.ff(self.ln2(x))


class Encoder(nn.Module):
    """ViT encoder: [B, 3, H, W] → [B, N, D], class token prepended then dropped, no final LayerNorm."""

    def __init__(self, config: dict):
        super().__init__()
        d, p = config["dim"], config["patchSize"]
        n = (config["imageSize"] // p) ** 2
        self.patch_size = p
        # code: scale = dim ** -0.5 with dim = 512 (student_transformer.py:45), not 1/√(head dim).
        head_dim = d // config["heads"]
        scale = d**-0.5 if config["attentionScale"] == "dim" else head_dim**-0.5
        self.patch_to_embedding = nn.Linear(p * p * 3, d)
        self.cls_token = nn.Parameter(torch.randn(1, 1, d))
        self.pos_embedding = nn.Parameter(torch.randn(1, n + 1, d))
        self.layers = nn.ModuleList(
            Block(d, config["heads"], config["mlpDim"], scale) for _ in range(config["depth"])
        )
        # VT_AE(train=True): kaiming-normal (fan_in, gain √2) on every Linear, bias 0 (VT_AE.py:61-70).
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.kaiming_normal_(module.weight)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = self.patch_to_embedding(patchify(x, self.patch_size))
        cls = self.cls_token.expand(x.shape[0], -1, -1)
        h = torch.cat([cls, tokens], 1) + self.pos_embedding
        for layer in self.layers:
            h = layer(h)
        return h[:, 1:]


def squash(s: torch.Tensor, epsilon: float) -> torch.Tensor:
    """‖s‖²·s / ((1 + ‖s‖²)·√(‖s‖² + ε)) over the last axis (spatial.py:112-115, where ε = 0)."""
    n2 = s.pow(2).sum(-1, keepdim=True)
    return n2 * s / ((1 + n2) * torch.sqrt(n2 + epsilon))


class Projection(nn.Module):
    """The capsule layer in closed form (doc §2): flatten → Linear N·D → projectionDim (no bias, N(0, 0.01²)),
    then squash."""

    def __init__(self, config: dict):
        super().__init__()
        n = (config["imageSize"] // config["patchSize"]) ** 2
        self.epsilon = config["squashEpsilon"]
        self.linear = nn.Linear(n * config["dim"], config["projectionDim"], bias=False)
        nn.init.normal_(self.linear.weight, std=0.01)

    def forward(self, encoded: torch.Tensor) -> torch.Tensor:
        return squash(self.linear(encoded.flatten(1)), self.epsilon)


class Decoder(nn.Module):
    """The vector viewed as NCHW (C, s, s), then the ConvT stack; PyTorch's default init (the original does
    not re-initialise ConvTranspose2d: doc §1)."""

    def __init__(self, config: dict, conv_transpose: type = nn.ConvTranspose2d):
        super().__init__()
        self.seed = 8 if config["decoder"] == "code" else config["decoderSeedSize"]
        self.channels = config["projectionDim"] // self.seed**2
        modules = []
        for layer in decoder_layers(config):
            modules.append(
                conv_transpose(layer.cin, layer.cout, layer.kernel, layer.stride, padding=layer.crop)
            )
            if layer.activation == "bnRelu":
                modules += [nn.BatchNorm2d(layer.cout), nn.ReLU()]
            else:
                modules.append(nn.Tanh())
        self.net = nn.Sequential(*modules)

    def forward(self, vector: torch.Tensor) -> torch.Tensor:
        return self.net(vector.view(-1, self.channels, self.seed, self.seed))


class MDN(nn.Module):
    """Gaussian mixture density network (mdn1.py): per patch, K weights, means and diagonal variances."""

    def __init__(self, config: dict):
        super().__init__()
        d, k = config["dim"], config["numGaussians"]
        self.config = config
        # Linear(512, ·, bias=False), PyTorch default init U(±1/√D) (mdn1.py:26-28).
        self.pi = nn.Linear(d, k, bias=False)
        self.mu = nn.Linear(d, d * k, bias=False)
        self.sigma_sq = nn.Linear(d, d * k, bias=False)

    def forward(self, encoded: torch.Tensor) -> torch.Tensor:
        """Per-patch NLL [B, N] of `encoded` under the mixture conditioned on it (train.py:74)."""
        c = self.config
        b, n, d = encoded.shape
        k = c["numGaussians"]
        x = torch.clamp(encoded, min=MDN_CLAMP) if c["mdnInputClamp"] else encoded
        logits = self.pi(x)  # [B, N, K]
        mu = self.mu(x).view(b, n, d, k)  # unit o → (feature ⌊o/K⌋, component o mod K)
        z = F.softplus(self.sigma_sq(x).view(b, n, d, k))
        sq = (encoded.unsqueeze(-1) - mu).pow(2)
        if c["varianceParam"] == "expSoftplusLogVar":
            per_dim = z + sq * torch.exp(-z)  # code: softplus as log-variance, σ² ≥ 1 (mdn1.py:39,66)
        else:
            sigma = z + c["sigmaFloor"]  # paper eq. (6): σ = softplus, a standard deviation
            per_dim = 2 * torch.log(sigma) + sq / sigma.pow(2)
        constant = LOG_2PI if c["log2piOnce"] else d * LOG_2PI  # code: once per patch (mdn1.py:67)
        log_density = -0.5 * (per_dim.sum(2) + constant)  # [B, N, K]
        if c["mixtureNll"] == "weightedComponentNll":
            return (torch.softmax(logits, -1) * -log_density).sum(-1)  # Σ πₖ·(−log 𝒩ₖ), mdn1.py:88-93
        return -torch.logsumexp(torch.log_softmax(logits, -1) + log_density, -1)  # −log Σ πₖ 𝒩ₖ


class VtAdl(nn.Module):
    """VT-ADL: encoder, projection, decoder and MDN, the four parts `model-summary` counts.
    `ssim_separable`: see ssim.py; `conv_transpose`: the ConvTranspose2d class (see convt.py)."""

    def __init__(self, config: dict, ssim_separable: bool = False, conv_transpose: type = nn.ConvTranspose2d):
        super().__init__()
        self.config = config
        self.ssim_separable = ssim_separable
        self.encoder = Encoder(config)
        self.projection = Projection(config)
        self.decoder = Decoder(config, conv_transpose)
        self.mdn = MDN(config)

    def parts(self) -> dict:
        return {
            "encoder": self.encoder,
            "projection": self.projection,
            "decoder": self.decoder,
            "mdn": self.mdn,
        }

    def accumulated_parameters(self) -> list:
        """Parameters whose gradients are never zeroed (train.py:65,93-94: only model.zero_grad())."""
        return list(self.mdn.parameters()) if self.config["mdnGradAccumulate"] else []

    def loss(self, x: torch.Tensor, noise: torch.Tensor = None) -> tuple:
        """Training loss of eq. (9) as train.py:72-77 computes it, and its unweighted terms. `noise`: the
        training noise [B, N, D] to add (default: drawn here from N(0, noiseStd²))."""
        c = self.config
        encoded = self.encoder(x)
        if noise is not None:
            encoded = encoded + noise
        elif c["noiseStd"] > 0:
            encoded = encoded + torch.randn_like(encoded) * c["noiseStd"]
        recon = self.decoder(self.projection(encoded))
        mse = F.mse_loss(recon, x)
        ssim = ssim_mean(x, recon, self.ssim_separable)
        nll = self.mdn(encoded).sum(1).mean()
        ssim_term = -ssim if c["ssimLoss"] == "negative" else 1 - ssim
        loss = c["lossMseWeight"] * mse + c["lossSsimWeight"] * ssim_term + c["lossNllWeight"] * nll
        return loss, {"mse": mse, "ssim": ssim, "nll": nll}

    def score(self, x: torch.Tensor) -> dict:
        """What the harness's scoreImages computes (no noise; call under eval() and no_grad())."""
        encoded = self.encoder(x)
        recon = self.decoder(self.projection(encoded))
        return {
            "errorMap": (recon - x).pow(2).mean(1),
            "ssimMap": ssim_map(x, recon, self.ssim_separable).mean(1),
            "patchNll": self.mdn(encoded),
        }
