"""SSIM as the original's `pytorch_ssim` module computes it (docs: vtadl-original-code.md §5).

An 11×11 normalised Gaussian window (σ = 1.5) applied per channel by a grouped conv2d with zero padding 5
("same", borders included), C1 = 0.01², C2 = 0.03² (data range 1), and the plain mean of the map
(`size_average=True`).

`separable=True` runs the same window as a row pass then a column pass (11× fewer multiplies), as the
harness's src/models/ssim.ts does; equal to the 2-D window up to float32 rounding.
"""

import math

import torch
import torch.nn.functional as F

C1 = 0.01**2
C2 = 0.03**2


def gaussian_1d(size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    """exp(−(i − ⌊n/2⌋)²/(2σ²)) for i = 0..n−1, divided by its sum: [n]."""
    g = torch.tensor(
        [math.exp(-((i - size // 2) ** 2) / (2 * sigma * sigma)) for i in range(size)],
        dtype=torch.float64,
    )
    return (g / g.sum()).float()


def _blur_2d(x: torch.Tensor, window: torch.Tensor) -> torch.Tensor:
    """Depthwise 2-D blur of [B, C, H, W] with a [k, k] window, zero padding k//2."""
    c, k = x.shape[1], window.shape[0]
    return F.conv2d(x, window.expand(c, 1, k, k), padding=k // 2, groups=c)


def _blur_separable(x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """The same blur as a 1×k row pass then a k×1 column pass (zero padding per pass)."""
    c, k = x.shape[1], g.shape[0]
    rows = F.conv2d(x, g.view(1, 1, 1, k).expand(c, 1, 1, k), padding=(0, k // 2), groups=c)
    return F.conv2d(rows, g.view(1, 1, k, 1).expand(c, 1, k, 1), padding=(k // 2, 0), groups=c)


def ssim_map(x: torch.Tensor, y: torch.Tensor, separable: bool = False) -> torch.Tensor:
    """Per-pixel, per-channel SSIM of two [B, C, H, W] batches: [B, C, H, W]."""
    g = gaussian_1d().to(x.device)
    if separable:
        # As the harness: the five maps stacked on the batch axis share one blur call per pass.
        blurred = _blur_separable(torch.cat([x, y, x * x, y * y, x * y], 0), g)
        mu_x, mu_y, xx, yy, xy = blurred.chunk(5, 0)
    else:
        window = torch.outer(g, g)
        mu_x, mu_y = _blur_2d(x, window), _blur_2d(y, window)
        xx, yy, xy = _blur_2d(x * x, window), _blur_2d(y * y, window), _blur_2d(x * y, window)
    mu_x2, mu_y2, mu_xy = mu_x.pow(2), mu_y.pow(2), mu_x * mu_y
    sigma_x2, sigma_y2, sigma_xy = xx - mu_x2, yy - mu_y2, xy - mu_xy
    numerator = (2 * mu_xy + C1) * (2 * sigma_xy + C2)
    denominator = (mu_x2 + mu_y2 + C1) * (sigma_x2 + sigma_y2 + C2)
    return numerator / denominator


def ssim_mean(x: torch.Tensor, y: torch.Tensor, separable: bool = False) -> torch.Tensor:
    """Mean SSIM over batch, channels and pixels (pytorch_ssim's `size_average=True`)."""
    return ssim_map(x, y, separable).mean()
