#!/usr/bin/env python3
"""Convert pytorch-fid's Inception-v3 weights to the safetensors file that
`mrgan eval --fid-weights` and `mrgan fid --weights` read.

    /usr/bin/python3 scripts/convert_inception_weights.py \
        pt_inception-2015-12-05-6726825d.pth inception-fid.safetensors

The input is the file pytorch-fid downloads (FID_WEIGHTS_URL in
pytorch_fid/inception.py; PyTorch caches it in ~/.cache/torch/hub/checkpoints/).
Its SHA-256 must begin with 6726825d, the hash prefix in its name (PyTorch's
hub convention). Needs PyTorch (Debian: python3-torch). Every BasicConv2d's
conv weight and batch-norm tensors are written as float32 under their
torchvision names; the classifier (fc) is dropped. The output's SHA-256 is
printed; mrgan prints it next to every FID it reports.
"""
import hashlib
import json
import struct
import sys


def write_safetensors(path, tensors, meta):
    """tensors: dict name -> torch tensor (written as little-endian float32)."""
    header = {"__metadata__": dict(meta)}
    blobs, off = [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().to("cpu").float().contiguous()
        raw = t.numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, dst = sys.argv[1], sys.argv[2]
    with open(src, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    if not digest.startswith("6726825d"):
        sys.exit(f"{src}: SHA-256 {digest} does not start with 6726825d: not pytorch-fid's "
                 "pt_inception-2015-12-05-6726825d.pth")
    import torch
    sd = torch.load(src, map_location="cpu")
    keep = {k: v for k, v in sd.items()
            if (k.endswith(".conv.weight") or ".bn." in k) and not k.endswith("num_batches_tracked")
            and not k.startswith("AuxLogits")}
    if len(keep) != 94 * 5:
        sys.exit(f"{src}: {len(keep)} conv/bn tensors, expected 470 (94 BasicConv2d layers)")
    write_safetensors(dst, keep, {"format": "mrgan-fid-inception-v3",
                                  "source": "pt_inception-2015-12-05-6726825d.pth",
                                  "source_sha256": digest})
    with open(dst, "rb") as f:
        print(f"{dst}: SHA-256 {hashlib.sha256(f.read()).hexdigest()}")


if __name__ == "__main__":
    main()
