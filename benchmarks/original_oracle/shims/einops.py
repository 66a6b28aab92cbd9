"""Stand-in for the two einops functions the VT-ADL code calls, written from einops' documented semantics
(https://einops.rocks: `rearrange` reorders, splits and merges axes named in a pattern; `repeat` also adds
new axes of a given size; `()` is an axis of length 1). Used only when the real einops is not installed.
Only what VT-ADL needs is supported: named axes, parenthesised groups, `()`; no ellipsis, no anonymous
axes other than `()`."""
import torch


def _parse(side):
    groups, current, i = [], None, 0
    for token in side.replace("(", " ( ").replace(")", " ) ").split():
        if token == "(":
            current = []
        elif token == ")":
            groups.append(current)
            current = None
        elif current is not None:
            current.append(token)
        else:
            groups.append([token])
    return groups


def _sizes(groups, shape, axes):
    if len(groups) != len(shape):
        raise ValueError(f"einops shim: pattern has {len(groups)} axes, tensor has {len(shape)}")
    sizes = dict(axes)
    for group, length in zip(groups, shape):
        unknown = [a for a in group if a not in sizes]
        known = 1
        for a in group:
            if a in sizes:
                known *= sizes[a]
        if len(unknown) > 1:
            raise ValueError(f"einops shim: cannot infer {unknown}")
        if unknown:
            sizes[unknown[0]] = length // known
        elif known != length:
            raise ValueError(f"einops shim: group {group} has length {length}, not {known}")
    return sizes


def _apply(tensor, pattern, axes, allow_new):
    left, right = (_parse(s) for s in pattern.split("->"))
    sizes = _sizes(left, tensor.shape, axes)
    elementary = [a for g in left for a in g]
    x = tensor.reshape([sizes[a] for a in elementary]) if elementary else tensor.reshape([])
    target = [a for g in right for a in g]
    new = [a for a in target if a not in elementary]
    if new and not allow_new:
        raise ValueError(f"einops shim: rearrange cannot create axes {new}")
    kept = [a for a in target if a in elementary]
    x = x.permute([elementary.index(a) for a in kept])
    if new:
        # repeat: insert the new axes (length 1), then expand to their sizes
        shape_with_new = [sizes[a] if a in elementary else 1 for a in target]
        x = x.reshape(shape_with_new).expand([sizes[a] for a in target])
    out_shape = []
    for g in right:
        n = 1
        for a in g:
            n *= sizes[a]
        out_shape.append(n)
    return x.reshape(out_shape)


def rearrange(tensor, pattern, **axes):
    return _apply(tensor, pattern, axes, allow_new=False)


def repeat(tensor, pattern, **axes):
    return _apply(tensor, pattern, axes, allow_new=True)
