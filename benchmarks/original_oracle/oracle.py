"""Oracle: the authors' VT-ADL code computes what `deno task infer` must reproduce.

Usage: python3 oracle.py AUTHORS_CHECKOUT OUT_DIR [--images N] [--seed S]

Builds the authors' VT_AE (train=False) and MDN modules from their checkout with a pinned seed, gives every
BatchNorm non-trivial running statistics and affine parameters (so eval mode is exercised), saves both
state_dicts with torch.save exactly as their train.py does (VT_AE_Mvtech_oracle.pt,
G_estimate_Mvtech_oracle.pt), draws N random images in [0, 1], and runs their test-time computation
(test.py, Patch_Overlap_Score with upsample=1) on each image alone:

    vector, reconstructions = model(i)
    pi, mu, sigma = G_estimate(vector)
    loss1 = F.mse_loss(reconstructions, i); loss2 = -ssim_loss(i, reconstructions)
    loss3 = mdn1.mdn_loss_function(vector, mu, sigma, pi, test=True)      # patch NLL, (1, 64)
    score = loss1 - loss2 + loss3.max()                                     # image score
    score_map = Filter(UpsamplingBilinear2d((512, 512))(loss3.reshape(-1, 1, 8, 8)), type=0)

It writes X.npy (NHWC float32), recon.npy (NHWC float32), patch_nll.npy, anomaly_map.npy (float32) and
image_score.npy (float64) to OUT_DIR. Nothing of the authors' code is copied: it is imported from
AUTHORS_CHECKOUT. Packages their code imports that are not installed are replaced by the stand-ins in
shims/ (einops from its documented semantics; empty torchvision/matplotlib/cv2/skimage that fail if used).
The machine has no GPU, so Tensor.cuda and Module.cuda are made no-ops.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkout", help="the authors' VT-ADL code (a checkout of pankajmishra000/VT-ADL)")
    parser.add_argument("out", help="output folder")
    parser.add_argument("--images", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, os.path.abspath(args.checkout))
    sys.path.append(os.path.join(here, "shims"))  # after site-packages: real packages win
    torch.Tensor.cuda = lambda self, *a, **k: self
    nn.Module.cuda = lambda self, *a, **k: self
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))

    import mdn1  # noqa: E402  (the authors' modules)
    import pytorch_ssim  # noqa: E402
    from utility_fun import Filter  # noqa: E402
    from VT_AE import VT_AE  # noqa: E402

    torch.manual_seed(args.seed)
    model = VT_AE(train=False)
    g_estimate = mdn1.MDN()
    gen = torch.Generator().manual_seed(args.seed + 1)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(torch.rand(m.running_mean.shape, generator=gen) * 0.4 - 0.2)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=gen) * 1.5 + 0.5)
                m.weight.copy_(torch.rand(m.weight.shape, generator=gen) * 0.5 + 0.75)
                m.bias.copy_(torch.rand(m.bias.shape, generator=gen) * 0.2 - 0.1)
                m.num_batches_tracked.fill_(1234)
    os.makedirs(args.out, exist_ok=True)
    vtae_path = os.path.join(args.out, "VT_AE_Mvtech_oracle.pt")
    mdn_path = os.path.join(args.out, "G_estimate_Mvtech_oracle.pt")
    torch.save(model.state_dict(), vtae_path)  # as train.py:108-110
    torch.save(g_estimate.state_dict(), mdn_path)

    # test.py:29-34: load back, eval mode.
    model = VT_AE(train=False)
    g_estimate = mdn1.MDN()
    model.load_state_dict(torch.load(vtae_path))
    g_estimate.load_state_dict(torch.load(mdn_path))
    model.eval()
    g_estimate.eval()
    ssim_loss = pytorch_ssim.SSIM()

    x = torch.rand(args.images, 3, 512, 512, generator=gen)
    recon, nll, maps, scores = [], [], [], []
    with torch.no_grad():
        for b in range(args.images):
            i = x[b : b + 1]
            vector, reconstructions = model(i)
            pi, mu, sigma = g_estimate(vector)
            loss1 = F.mse_loss(reconstructions, i, reduction="mean")
            loss2 = -ssim_loss(i, reconstructions)
            loss3 = mdn1.mdn_loss_function(vector, mu, sigma, pi, test=True)
            loss = loss1 - loss2 + loss3.max()
            m = torch.nn.UpsamplingBilinear2d((512, 512))
            score_map = Filter(m(torch.tensor(loss3.numpy().reshape(-1, 1, 8, 8))), type=0)
            recon.append(reconstructions[0].permute(1, 2, 0).numpy())
            nll.append(loss3[0].numpy())
            maps.append(np.asarray(score_map)[0, 0])
            scores.append(float(loss))
            print(f"image {b + 1}/{args.images}: score {float(loss):.6f}", file=sys.stderr)

    np.save(os.path.join(args.out, "X.npy"), x.permute(0, 2, 3, 1).contiguous().numpy().astype(np.float32))
    np.save(os.path.join(args.out, "recon.npy"), np.stack(recon).astype(np.float32))
    np.save(os.path.join(args.out, "patch_nll.npy"), np.stack(nll).astype(np.float32))
    np.save(os.path.join(args.out, "anomaly_map.npy"), np.stack(maps).astype(np.float32))
    np.save(os.path.join(args.out, "image_score.npy"), np.asarray(scores, dtype=np.float64))
    with open(os.path.join(args.out, "oracle.json"), "w") as f:
        json.dump({"torch": torch.__version__, "numpy": np.__version__, "seed": args.seed,
                   "images": args.images, "checkout": os.path.abspath(args.checkout)}, f, indent=2)


if __name__ == "__main__":
    main()
