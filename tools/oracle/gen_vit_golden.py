#!/usr/bin/env python3
"""Generate vidi's ViT golden fixtures from the reference implementations.

    python3 tools/oracle/gen_vit_golden.py

Rewrites everything under tests/golden/ for the ViT cases (hf_vit_gelu,
hf_vit_tanh, timm_vit, tv_vit, preprocess).  Deterministic: fixed seeds, CPU,
float32, torch.use_deterministic_algorithms(True), 1 thread.  See
tools/oracle/README.md for what each case covers and the tensor names.
"""
import io
import json
import os
import shutil
import sys

import numpy as np
import torch
from PIL import Image
from safetensors.torch import load_file, save_file

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GOLDEN = os.path.join(ROOT, "tests", "golden")

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
SHAPE_LABELS = ["circle", "square", "triangle", "star", "cross", "ring", "heart"]


# --------------------------------------------------------------------------
# helpers

def fresh_dir(case):
    d = os.path.join(GOLDEN, case)
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    return d


def is_norm(name, model):
    """True if parameter `name` belongs to a LayerNorm module."""
    mod_name = name.rsplit(".", 1)[0]
    mod = dict(model.named_modules()).get(mod_name)
    return isinstance(mod, torch.nn.LayerNorm)


@torch.no_grad()
def perturb(model, cls_pos_names, seed):
    """Make every parameter matter: matrix/conv weights are redrawn with std
    1/sqrt(fan_in), LayerNorm weights become 1 + N(0, 0.2), LayerNorm biases
    N(0, 0.1), all other biases get N(0, 0.05) added, and the cls/position
    embeddings are redrawn with std 0.5."""
    g = torch.Generator().manual_seed(seed)
    for name, p in model.named_parameters():
        noise = torch.randn(p.shape, generator=g)
        if name in cls_pos_names:
            p.copy_(noise * 0.5)
        elif is_norm(name, model):
            if name.endswith("weight"):
                p.copy_(1.0 + 0.2 * noise)
            else:
                p.copy_(0.1 * noise)
        elif name.endswith("bias"):
            p.add_(0.05 * noise)
        elif p.ndim >= 2:
            # Linear / conv weights: the libraries init with std 0.02 (HF, timm), which
            # leaves every block a near-identity on the residual stream, so an
            # attention or MLP bug in vidi could hide below tolerance.  Redraw with
            # std 1/sqrt(fan_in) so each sub-layer contributes O(1).  This also
            # replaces torchvision's zero-initialised classifier head.
            fan_in = p[0].numel()
            p.copy_(noise / fan_in ** 0.5)


def smooth_image(seed, w, h, mode="RGB"):
    """Deterministic natural-ish test image: smooth colour field + edges + noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    chans = []
    for c in range(3):
        fx, fy, ph = rng.uniform(0.05, 0.4), rng.uniform(0.05, 0.4), rng.uniform(0, 6.28)
        v = 127 + 90 * np.sin(fx * xx + ph) * np.cos(fy * yy - ph)
        chans.append(v)
    img = np.stack(chans, -1)
    # a hard-edged rectangle and disc so resampling filters are exercised
    x0, y0 = int(w * 0.2), int(h * 0.3)
    img[y0:y0 + h // 3, x0:x0 + w // 4] = rng.uniform(0, 255, 3)
    cx, cy, r = w * 0.65, h * 0.6, min(w, h) * 0.22
    img[(xx - cx) ** 2 + (yy - cy) ** 2 < r * r] = rng.uniform(0, 255, 3)
    img = img + rng.normal(0, 6, img.shape)
    img = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    return Image.fromarray(img, "RGB")


def manual_normalise(img, mean, std):
    x = torch.from_numpy(np.asarray(img.convert("RGB"), np.float32) / 255.0).permute(2, 0, 1)
    return (x - torch.tensor(mean)[:, None, None]) / torch.tensor(std)[:, None, None]


def write_golden(d, tensors, desc):
    tensors = {k: v.detach().to(torch.float32).contiguous() for k, v in tensors.items()}
    save_file(tensors, os.path.join(d, "golden.safetensors"), metadata={"case": desc})
    return tensors


def check_roundtrip(d, state_dict, filename="model.safetensors"):
    on_disk = load_file(os.path.join(d, filename))
    for k, v in state_dict.items():
        assert torch.equal(on_disk[k], v.detach().cpu()), k


REPORT = {}  # case -> {"weights": [(name, shape, dtype)], "golden": [(name, shape)]}


def record(case, weights_path, golden):
    w = load_file(weights_path)
    REPORT[case] = {
        "weights": [(k, list(v.shape), str(v.dtype).replace("torch.", "")) for k, v in w.items()],
        "golden": [(k, list(v.shape)) for k, v in golden.items()],
    }


# --------------------------------------------------------------------------
# Hugging Face transformers ViT

def hf_case(case, desc, seed, cfg_kwargs, proc_kwargs, img_wh):
    from transformers import ViTConfig, ViTForImageClassification, ViTImageProcessor

    torch.manual_seed(seed)
    d = fresh_dir(case)
    cfg = ViTConfig(**cfg_kwargs)
    model = ViTForImageClassification(cfg).eval()
    perturb(model, {"vit.embeddings.cls_token", "vit.embeddings.position_embeddings"}, seed + 1)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    # transformers 5: safetensors is the only format; modules are renamed in memory
    # (vit.layers.N.attention.q_proj ...) but save_original_format=True (default)
    # writes the classic hub names (vit.encoder.layer.N.attention.attention.query ...).
    model.save_pretrained(d)
    proc = ViTImageProcessor(**proc_kwargs)
    proc.save_pretrained(d)

    # Reload from disk so the golden outputs come from exactly what vidi will load.
    model = ViTForImageClassification.from_pretrained(d, attn_implementation="eager").eval()
    proc = ViTImageProcessor.from_pretrained(d)
    img = smooth_image(seed + 2, *img_wh)
    pv = proc(images=img, return_tensors="pt")["pixel_values"]  # [1,3,H,W]

    caught = {}
    hooks = [model.vit.embeddings.register_forward_hook(
        lambda m, i, o: caught.__setitem__("embeddings", o))]
    for li, layer in enumerate(model.vit.layers):
        hooks.append(layer.register_forward_hook(
            lambda m, i, o, li=li: caught.__setitem__(f"layer.{li}", o[0] if isinstance(o, tuple) else o)))
    hooks.append(model.vit.layernorm.register_forward_hook(
        lambda m, i, o: caught.__setitem__("final_norm", o)))
    with torch.no_grad():
        out = model(pixel_values=pv, output_hidden_states=True)
    for h in hooks:
        h.remove()

    hs = out.hidden_states
    nl = cfg.num_hidden_layers
    assert len(hs) == nl + 1, len(hs)
    # hidden_states[0] = embeddings output, hidden_states[i+1] = block i output (pre final norm)
    assert torch.equal(hs[0], caught["embeddings"])
    for i in range(nl):
        assert torch.equal(hs[i + 1], caught[f"layer.{i}"]), i
    g = {"input": pv[0], "embeddings": hs[0][0]}
    for i in range(nl):
        g[f"layer.{i}"] = hs[i + 1][0]
    g["final_norm"] = caught["final_norm"][0]
    g["logits"] = out.logits[0]
    # sanity: the classifier reads the CLS token after the final norm
    assert torch.allclose(model.classifier(g["final_norm"][0]), g["logits"], atol=1e-6)
    g = write_golden(d, g, desc)
    after = model.state_dict()
    assert before.keys() == after.keys()
    for k in before:
        assert torch.equal(before[k], after[k]), k
    record(case, os.path.join(d, "model.safetensors"), g)
    return proc


# --------------------------------------------------------------------------
# timm

def timm_case(seed=300):
    import timm
    from timm.models._hub import save_for_hf

    case = "timm_vit"
    d = fresh_dir(case)
    torch.manual_seed(seed)
    # vit_tiny_patch16_224 is just a registered name for timm's VisionTransformer;
    # every architecture argument is overridden, and timm records them as model_args.
    args = dict(img_size=32, patch_size=8, embed_dim=64, depth=2, num_heads=2, mlp_ratio=3.0,
                num_classes=7, qkv_bias=True, global_pool="token", class_token=True)
    model = timm.create_model("vit_tiny_patch16_224", pretrained=False, **args).eval()
    from timm.models.vision_transformer import VisionTransformer
    assert type(model) is VisionTransformer
    perturb(model, {"cls_token", "pos_embed"}, seed + 1)
    data_cfg = {"input_size": (3, 32, 32), "mean": tuple(IMAGENET_MEAN), "std": tuple(IMAGENET_STD),
                "interpolation": "bicubic", "crop_pct": 1.0, "crop_mode": "center"}
    save_for_hf(model, d, model_config={"label_names": SHAPE_LABELS[:7]},
                safe_serialization=True, data_config=data_cfg)
    with open(os.path.join(d, "config.json")) as f:
        hub_cfg = json.load(f)

    # Reload through timm's own path (config.json model_args + state dict).
    model2 = timm.create_model(hub_cfg["architecture"], pretrained=False,
                               **hub_cfg["model_args"]).eval()
    model2.load_state_dict(load_file(os.path.join(d, "model.safetensors")))
    model = model2

    img = smooth_image(seed + 2, 32, 32)
    x = manual_normalise(img, IMAGENET_MEAN, IMAGENET_STD)
    caught = {}
    hooks = [model.blocks[0].register_forward_pre_hook(
        lambda m, a: caught.__setitem__("embeddings", a[0]))]
    for li, blk in enumerate(model.blocks):
        hooks.append(blk.register_forward_hook(
            lambda m, i, o, li=li: caught.__setitem__(f"layer.{li}", o)))
    hooks.append(model.norm.register_forward_hook(lambda m, i, o: caught.__setitem__("final_norm", o)))
    with torch.no_grad():
        logits = model(x[None])
    for h in hooks:
        h.remove()
    g = {"input": x, "embeddings": caught["embeddings"][0]}
    for i in range(len(model.blocks)):
        g[f"layer.{i}"] = caught[f"layer.{i}"][0]
    g["final_norm"] = caught["final_norm"][0]
    g["logits"] = logits[0]
    with torch.no_grad():
        assert torch.allclose(model.head(g["final_norm"][0]), g["logits"], atol=1e-6)
    desc = ("timm VisionTransformer img 32 patch 8 dim 64 depth 2 heads 2 (head_dim 32) mlp_ratio 3, "
            "qkv_bias, exact GELU, LayerNorm eps 1e-6, token pool, 7 classes, ImageNet mean/std")
    g = write_golden(d, g, desc)
    check_roundtrip(d, model.state_dict())
    record("timm_vit", os.path.join(d, "model.safetensors"), g)
    return hub_cfg


# --------------------------------------------------------------------------
# torchvision

def tv_case(seed=400):
    from torchvision.models.vision_transformer import VisionTransformer

    case = "tv_vit"
    d = fresh_dir(case)
    torch.manual_seed(seed)
    model = VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2,
                              hidden_dim=64, mlp_dim=128, num_classes=6).eval()
    perturb(model, {"class_token", "encoder.pos_embedding"}, seed + 1)
    sd = {k: v.contiguous() for k, v in model.state_dict().items()}
    save_file(sd, os.path.join(d, "model.safetensors"))
    cfg = {"format": "torchvision", "architecture": "VisionTransformer",
           "image_size": 32, "patch_size": 8, "num_layers": 2, "num_heads": 2,
           "hidden_dim": 64, "mlp_dim": 128, "num_classes": 6,
           "layer_norm_eps": 1e-6, "hidden_act": "gelu",
           "mean": IMAGENET_MEAN, "std": IMAGENET_STD,
           "label_names": SHAPE_LABELS[:6]}
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")

    model2 = VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2,
                               hidden_dim=64, mlp_dim=128, num_classes=6).eval()
    model2.load_state_dict(load_file(os.path.join(d, "model.safetensors")))
    model = model2

    img = smooth_image(seed + 2, 32, 32)
    x = manual_normalise(img, IMAGENET_MEAN, IMAGENET_STD)
    layers = list(model.encoder.layers)
    caught = {}
    hooks = [layers[0].register_forward_pre_hook(lambda m, a: caught.__setitem__("embeddings", a[0]))]
    for li, blk in enumerate(layers):
        hooks.append(blk.register_forward_hook(
            lambda m, i, o, li=li: caught.__setitem__(f"layer.{li}", o)))
    hooks.append(model.encoder.ln.register_forward_hook(
        lambda m, i, o: caught.__setitem__("final_norm", o)))
    with torch.no_grad():
        logits = model(x[None])
    for h in hooks:
        h.remove()
    g = {"input": x, "embeddings": caught["embeddings"][0]}
    for i in range(len(layers)):
        g[f"layer.{i}"] = caught[f"layer.{i}"][0]
    g["final_norm"] = caught["final_norm"][0]
    g["logits"] = logits[0]
    with torch.no_grad():
        assert torch.allclose(model.heads(g["final_norm"][0:1])[0], g["logits"], atol=1e-6)
    desc = ("torchvision VisionTransformer img 32 patch 8 hidden 64 layers 2 heads 2 (head_dim 32) "
            "mlp 128, exact GELU, LayerNorm eps 1e-6, fused in_proj qkv, 6 classes, ImageNet mean/std")
    g = write_golden(d, g, desc)
    check_roundtrip(d, model.state_dict())
    record("tv_vit", os.path.join(d, "model.safetensors"), g)


# --------------------------------------------------------------------------
# preprocessing

def preprocess_case(proc_dir):
    from transformers import ViTImageProcessor

    d = fresh_dir("preprocess")
    proc = ViTImageProcessor.from_pretrained(proc_dir)
    shutil.copy(os.path.join(proc_dir, "preprocessor_config.json"), d)

    files = {}
    img = smooth_image(501, 37, 29)
    img.save(os.path.join(d, "img_37x29.png"))
    files["img_37x29.png"] = "37x29 RGB PNG (upscale, non-square)"

    img = smooth_image(502, 64, 48)
    img.save(os.path.join(d, "img_64x48.jpg"), quality=90)
    files["img_64x48.jpg"] = "64x48 RGB JPEG quality 90 (downscale by 2 and 1.5)"

    rgb = smooth_image(503, 30, 30)
    yy, xx = np.mgrid[0:30, 0:30]
    alpha = np.clip(255 - 6 * np.hypot(xx - 15, yy - 15), 0, 255).astype(np.uint8)
    rgba = Image.fromarray(np.dstack([np.asarray(rgb), alpha]), "RGBA")
    rgba.save(os.path.join(d, "img_30x30_rgba.png"))
    files["img_30x30_rgba.png"] = ("30x30 RGBA PNG; alpha is DROPPED (Image.convert('RGB'), "
                                   "no compositing) before the processor")

    gray = smooth_image(504, 30, 30).convert("L")
    gray.save(os.path.join(d, "img_30x30_gray.png"))
    files["img_30x30_gray.png"] = "30x30 8-bit grayscale PNG, replicated to 3 channels"

    g = {}
    for name in files:
        im = Image.open(os.path.join(d, name))
        im.load()
        pv = proc(images=im.convert("RGB"), return_tensors="pt")["pixel_values"][0]
        assert pv.shape == (3, 32, 32), pv.shape
        g[name] = pv
        # also the PIL backend, to show how much two "bilinear" resizers differ
        try:
            from transformers import ViTImageProcessorPil
            pil = ViTImageProcessorPil.from_pretrained(proc_dir)
            g[name + ":pil"] = torch.as_tensor(
                np.asarray(pil(images=im.convert("RGB"), return_tensors="np")["pixel_values"][0]))
        except ImportError:
            pass
    desc = ("HF ViTImageProcessor (hf_vit_gelu settings: 32x32, bilinear, rescale 1/255, mean=std=0.5) "
            "pixel_values per image, [3,32,32]; '<file>:pil' = ViTImageProcessorPil for comparison. "
            + "; ".join(f"{k}: {v}" for k, v in files.items()))
    write_golden(d, g, desc)
    diffs = {n: float((g[n] - g[n + ":pil"]).abs().max()) for n in files if n + ":pil" in g}
    REPORT["preprocess"] = {"files": files, "golden": [(k, list(v.shape)) for k, v in g.items()],
                            "torchvision_vs_pil_maxabs": diffs}


# --------------------------------------------------------------------------

def main():
    labels5 = SHAPE_LABELS[:5]
    hf_case(
        "hf_vit_gelu",
        "HF ViTForImageClassification img 32 patch 8 hidden 96 layers 2 heads 3 (head_dim 32) "
        "inter 192, exact GELU, LayerNorm eps 1e-12, qkv_bias, 5 labels, mean=std=0.5, bilinear",
        100,
        dict(image_size=32, patch_size=8, num_channels=3, hidden_size=96, num_hidden_layers=2,
             num_attention_heads=3, intermediate_size=192, hidden_act="gelu", layer_norm_eps=1e-12,
             qkv_bias=True, num_labels=5, id2label={i: l for i, l in enumerate(labels5)},
             label2id={l: i for i, l in enumerate(labels5)}),
        dict(do_resize=True, size={"height": 32, "width": 32}, resample=2, do_rescale=True,
             rescale_factor=1 / 255, do_normalize=True,
             image_mean=[0.5, 0.5, 0.5], image_std=[0.5, 0.5, 0.5]),
        (41, 35),  # not 32x32, so the bilinear resize is exercised
    )
    hf_case(
        "hf_vit_tanh",
        "HF ViTForImageClassification img 48 patch 16 hidden 80 layers 3 heads 1 (head_dim 80) "
        "inter 192, tanh GELU (gelu_new), LayerNorm eps 1e-6, no qkv bias, 5 labels, "
        "ImageNet mean/std, bicubic",
        200,
        dict(image_size=48, patch_size=16, num_channels=3, hidden_size=80, num_hidden_layers=3,
             num_attention_heads=1, intermediate_size=192, hidden_act="gelu_new", layer_norm_eps=1e-6,
             qkv_bias=False, num_labels=5, id2label={i: l for i, l in enumerate(labels5)},
             label2id={l: i for i, l in enumerate(labels5)}),
        dict(do_resize=True, size={"height": 48, "width": 48}, resample=3, do_rescale=True,
             rescale_factor=1 / 255, do_normalize=True,
             image_mean=IMAGENET_MEAN, image_std=IMAGENET_STD),
        (53, 45),  # not 48x48, so the bicubic resize is exercised
    )
    timm_case()
    tv_case()
    preprocess_case(os.path.join(GOLDEN, "hf_vit_gelu"))

    import timm, torchvision, transformers, safetensors
    REPORT["_versions"] = {"python": sys.version.split()[0], "torch": torch.__version__,
                           "transformers": transformers.__version__, "timm": timm.__version__,
                           "torchvision": torchvision.__version__,
                           "safetensors": safetensors.__version__, "numpy": np.__version__,
                           "pillow": Image.__version__}
    if "--report" in sys.argv:
        print(json.dumps(REPORT, indent=1))
    else:
        for case in sorted(os.listdir(GOLDEN)):
            p = os.path.join(GOLDEN, case)
            if os.path.isdir(p) and case in REPORT:
                size = sum(os.path.getsize(os.path.join(p, f)) for f in os.listdir(p))
                print(f"tests/golden/{case}: {sorted(os.listdir(p))} {size // 1024} KiB")
        print(json.dumps(REPORT["_versions"]))
        if "preprocess" in REPORT:
            print("torchvision-vs-PIL resize max|diff|:", REPORT["preprocess"]["torchvision_vs_pil_maxabs"])


if __name__ == "__main__":
    main()
