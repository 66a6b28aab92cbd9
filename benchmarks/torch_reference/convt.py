"""Transposed convolution for the yardstick: PyTorch's own ConvTranspose2d, or the same operator computed as
the adjoint of a convolution, for torch builds whose CPU ConvTranspose2d falls back to the generic
im2col kernel (`aten::slow_conv_transpose2d`; Debian's torch 1.13 does).

A transposed convolution is the input gradient of a convolution: y = ConvT(x, W) = ∂/∂u ⟨conv2d(u, W), x⟩.
So its forward pass is conv2d's input-gradient kernel, its input gradient is conv2d, and its weight
gradient is conv2d's weight-gradient kernel, all three oneDNN primitives. Same parameters, same initialiser,
same output, same multiply-adds as nn.ConvTranspose2d; only the kernels differ.
"""

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.grad import conv2d_input, conv2d_weight


class _ConvTransposeAsAdjoint(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, stride: int, padding: int):
        b, _, h, w = x.shape
        kh, kw = weight.shape[-2:]
        out = (b, weight.shape[1], (h - 1) * stride - 2 * padding + kh, (w - 1) * stride - 2 * padding + kw)
        ctx.save_for_backward(x, weight)
        ctx.stride, ctx.padding = stride, padding
        y = conv2d_input(out, weight, x, stride=stride, padding=padding)
        return y.add_(bias.view(1, -1, 1, 1)) if bias is not None else y

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        s, p = ctx.stride, ctx.padding
        grad_x = F.conv2d(grad, weight, stride=s, padding=p) if ctx.needs_input_grad[0] else None
        grad_w = None
        if ctx.needs_input_grad[1]:
            grad_w = conv2d_weight(grad, weight.shape, x, stride=s, padding=p)
        grad_b = grad.sum((0, 2, 3)) if ctx.needs_input_grad[2] else None
        return grad_x, grad_w, grad_b, None, None


class AdjointConvTranspose2d(nn.ConvTranspose2d):
    """nn.ConvTranspose2d (same parameters and init) computed as the adjoint of a convolution.
    Square kernels, equal strides and paddings, no output_padding, groups or dilation (all the models use)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _ConvTransposeAsAdjoint.apply(x, self.weight, self.bias, self.stride[0], self.padding[0])


def native_is_generic() -> bool:
    """True when this torch runs a float32 CPU ConvTranspose2d through `aten::slow_conv_transpose2d`."""
    x, w = torch.randn(1, 4, 6, 6), torch.randn(4, 4, 3, 3)
    with torch.autograd.profiler.profile() as prof:
        F.conv_transpose2d(x, w, stride=2)
    return any("slow_conv_transpose" in event.name for event in prof.function_events)


def conv_transpose_class(mode: str) -> type:
    """`native`: nn.ConvTranspose2d; `adjoint`: AdjointConvTranspose2d; `auto`: adjoint where native is the
    generic kernel."""
    if mode == "auto":
        mode = "adjoint" if native_is_generic() else "native"
    return AdjointConvTranspose2d if mode == "adjoint" else nn.ConvTranspose2d
