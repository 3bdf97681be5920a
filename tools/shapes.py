#!/usr/bin/env python3
"""Synthetic shape renderer shared by the demo-model trainer and tests.

Renders one filled shape per image with PIL: random colour, size, position,
rotation, a random background (solid, linear gradient or noise) and mild pixel
noise.  Everything is deterministic from the seed passed in.

    from shapes import CLASSES, render, render_set
    img = render(random.Random(0), "star", size=64)          # PIL RGB image
    imgs, labels = render_set(seed=1, n=100, size=64)         # balanced set

Command line (writes a contact sheet for eyeballing):
    python3 tools/shapes.py --out /tmp/sheet.png --seed 0
"""
import argparse
import math
import random

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

CLASSES = ["circle", "square", "triangle", "star", "cross", "ring"]

SS = 4  # supersampling factor for anti-aliased edges


def _rand_colour(rng):
    return tuple(rng.randint(0, 255) for _ in range(3))


def _luma(c):
    return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]


def _contrasting(rng, bg_mean, min_diff=70):
    """Random colour whose luma differs from the background mean by >= min_diff."""
    for _ in range(100):
        c = _rand_colour(rng)
        if abs(_luma(c) - bg_mean) >= min_diff:
            return c
    return (255, 255, 255) if bg_mean < 128 else (0, 0, 0)


def _background(rng, size):
    """Return (HxWx3 float array, mean luma) for a random background."""
    kind = rng.choice(["solid", "gradient", "noise"])
    # Backgrounds are kept either darkish or lightish so a shape colour with
    # clear contrast always exists.
    dark = rng.random() < 0.5
    lo, hi = (0, 110) if dark else (145, 255)
    if kind == "solid":
        c = np.array([rng.randint(lo, hi) for _ in range(3)], np.float32)
        bg = np.broadcast_to(c, (size, size, 3)).copy()
    elif kind == "gradient":
        c0 = np.array([rng.randint(lo, hi) for _ in range(3)], np.float32)
        c1 = np.array([rng.randint(lo, hi) for _ in range(3)], np.float32)
        ang = rng.uniform(0, 2 * math.pi)
        yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / (size - 1)
        t = (xx - 0.5) * math.cos(ang) + (yy - 0.5) * math.sin(ang)
        t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
        bg = c0[None, None, :] * (1 - t[..., None]) + c1[None, None, :] * t[..., None]
    else:
        base = np.array([rng.randint(lo + 20, hi - 20) for _ in range(3)], np.float32)
        nrng = np.random.default_rng(rng.getrandbits(32))
        amp = rng.uniform(10, 25)
        coarse = nrng.normal(0, amp, (size // 8, size // 8, 3)).astype(np.float32)
        coarse = np.array(
            Image.fromarray(np.clip(coarse + 128, 0, 255).astype(np.uint8)).resize(
                (size, size), Image.BILINEAR), np.float32) - 128
        fine = nrng.normal(0, amp * 0.4, (size, size, 3)).astype(np.float32)
        bg = base[None, None, :] + coarse + fine
    bg = np.clip(bg, 0, 255)
    return bg, float(_luma(bg.reshape(-1, 3).mean(0)))


def _rot(points, cx, cy, ang):
    ca, sa = math.cos(ang), math.sin(ang)
    return [(cx + x * ca - y * sa, cy + x * sa + y * ca) for x, y in points]


def _shape_mask(rng, cls, size):
    """Draw the shape as an anti-aliased alpha mask (float HxW in [0,1])."""
    S = size * SS
    m = Image.new("L", (S, S), 0)
    d = ImageDraw.Draw(m)
    r = rng.uniform(0.22, 0.40) * size  # outer "radius" in output pixels
    margin = r + 2
    cx = rng.uniform(margin, size - margin) * SS
    cy = rng.uniform(margin, size - margin) * SS
    R = r * SS
    ang = rng.uniform(0, 2 * math.pi)
    if cls == "circle":
        d.ellipse([cx - R, cy - R, cx + R, cy + R], fill=255)
    elif cls == "ring":
        inner = R * rng.uniform(0.45, 0.65)
        d.ellipse([cx - R, cy - R, cx + R, cy + R], fill=255)
        d.ellipse([cx - inner, cy - inner, cx + inner, cy + inner], fill=0)
    elif cls == "square":
        h = R / math.sqrt(2) * 1.1
        d.polygon(_rot([(-h, -h), (h, -h), (h, h), (-h, h)], cx, cy, ang), fill=255)
    elif cls == "triangle":
        pts = [(R * math.cos(a), R * math.sin(a))
               for a in (-math.pi / 2, math.pi / 6, 5 * math.pi / 6)]
        d.polygon(_rot(pts, cx, cy, ang), fill=255)
    elif cls == "star":
        inner = R * rng.uniform(0.38, 0.48)
        pts = []
        for k in range(10):
            a = -math.pi / 2 + k * math.pi / 5
            rr = R if k % 2 == 0 else inner
            pts.append((rr * math.cos(a), rr * math.sin(a)))
        d.polygon(_rot(pts, cx, cy, ang), fill=255)
    elif cls == "cross":
        w = R * rng.uniform(0.28, 0.38)
        pts = [(-w, -R), (w, -R), (w, -w), (R, -w), (R, w), (w, w), (w, R),
               (-w, R), (-w, w), (-R, w), (-R, -w), (-w, -w)]
        d.polygon(_rot(pts, cx, cy, ang), fill=255)
    else:
        raise ValueError(cls)
    m = m.resize((size, size), Image.BOX)
    return np.asarray(m, np.float32) / 255.0


def render(rng, cls, size=64):
    """Render one image of class `cls` using random.Random `rng`. Returns PIL RGB."""
    bg, bg_luma = _background(rng, size)
    col = np.array(_contrasting(rng, bg_luma), np.float32)
    a = _shape_mask(rng, cls, size)[..., None]
    img = bg * (1 - a) + col[None, None, :] * a
    nrng = np.random.default_rng(rng.getrandbits(32))
    img = img + nrng.normal(0, rng.uniform(0, 6), img.shape)
    out = Image.fromarray(np.clip(np.rint(img), 0, 255).astype(np.uint8), "RGB")
    if rng.random() < 0.2:
        out = out.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 0.8)))
    return out


def render_set(seed, n, size=64):
    """Balanced set: image i has class i % len(CLASSES). Returns (list[PIL], list[int])."""
    rng = random.Random(seed)
    imgs, labels = [], []
    for i in range(n):
        c = i % len(CLASSES)
        imgs.append(render(rng, CLASSES[c], size))
        labels.append(c)
    return imgs, labels


def render_array(seed, n, size=64):
    """Like render_set but returns a uint8 array [n, size, size, 3] and int64 labels."""
    imgs, labels = render_set(seed, n, size)
    arr = np.stack([np.asarray(im, np.uint8) for im in imgs])
    return arr, np.array(labels, np.int64)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="/tmp/shapes_sheet.png")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--per-class", type=int, default=8)
    ap.add_argument("--size", type=int, default=64)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    sheet = Image.new("RGB", (a.size * a.per_class, a.size * len(CLASSES)))
    for ci, cls in enumerate(CLASSES):
        for j in range(a.per_class):
            sheet.paste(render(rng, cls, a.size), (j * a.size, ci * a.size))
    sheet.save(a.out)
    print("wrote", a.out)


if __name__ == "__main__":
    main()
