#!/usr/bin/env python3
"""Golden fixtures for vidi's diffusion core (tests/golden/diffusion/core.json).

Two independent oracles:
  * improved-diffusion's formulas (Nichol & Dhariwal, gaussian_diffusion.py and
    respace.py), transcribed below in float64 numpy, term by term;
  * HF diffusers' schedulers, run as they are (float32 torch):
      DDPMScheduler(beta_schedule="squaredcos_cap_v2", variance_type="learned_range")
      DDIMScheduler(beta_schedule="squaredcos_cap_v2", use_clipped_model_output=True)
      DPMSolverMultistepScheduler(beta_schedule="squaredcos_cap_v2",
                                  algorithm_type="dpmsolver++", solver_order=2)

Denoiser fixtures (tests/golden/diffusion/<case>/): a tiny random-weight
tools/diffusion_reference.py model in the vidi single-file format
(model.safetensors) and its per-layer activations (golden.safetensors):
  den_inpaint  learned sigma, in-painting inputs, 4 blocks (2 long skips)
  den_plain    fixed sigma, generation only, 1 channel, 2 blocks, no classes
  den_velocity learned sigma, in-painting inputs, 2 blocks, the network
               predicting the velocity: its eps (golden "eps") is
               sqrt(abar) u + sqrt(1 - abar) x_t with abar from the
               improved-diffusion tables below

Usage: python3 tools/oracle/gen_diffusion_golden.py [--out tests/golden/diffusion] [--only den_velocity ...]
(--only: just those denoiser fixtures, without diffusers or core.json)
Deterministic: fixed seeds, CPU, so two runs give identical files.
"""
import argparse
import json
import math
import os

import sys

import numpy as np
import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from diffusion_reference import Denoiser, eps_from_velocity, save_vidi  # noqa: E402

N = 48  # elements per test vector


# ---- improved-diffusion, float64 ----

def named_betas(name, T):
    if name == "linear":
        scale = 1000 / T
        return np.linspace(scale * 0.0001, scale * 0.02, T, dtype=np.float64)
    if name == "cosine":
        f = lambda t: math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2
        return np.array([min(1 - f((i + 1) / T) / f(i / T), 0.999) for i in range(T)], dtype=np.float64)
    raise ValueError(name)


def tables(betas):
    betas = np.asarray(betas, dtype=np.float64)
    alphas = 1.0 - betas
    ac = np.cumprod(alphas, axis=0)
    acp = np.append(1.0, ac[:-1])
    pv = betas * (1.0 - acp) / (1.0 - ac)
    return {
        "betas": betas,
        "alphas_cumprod": ac,
        "alphas_cumprod_prev": acp,
        "sqrt_alphas_cumprod": np.sqrt(ac),
        "sqrt_one_minus_alphas_cumprod": np.sqrt(1.0 - ac),
        "log_one_minus_alphas_cumprod": np.log(1.0 - ac),
        "sqrt_recip_alphas_cumprod": np.sqrt(1.0 / ac),
        "sqrt_recipm1_alphas_cumprod": np.sqrt(1.0 / ac - 1),
        "posterior_variance": pv,
        "posterior_log_variance_clipped": np.log(np.append(pv[1], pv[1:])),
        "posterior_mean_coef1": betas * np.sqrt(acp) / (1.0 - ac),
        "posterior_mean_coef2": (1.0 - acp) * np.sqrt(alphas) / (1.0 - ac),
    }


def space_timesteps(num_timesteps, section_counts):
    # respace.py, verbatim logic
    if isinstance(section_counts, str):
        if section_counts.startswith("ddim"):
            desired_count = int(section_counts[len("ddim"):])
            for i in range(1, num_timesteps):
                if len(range(0, num_timesteps, i)) == desired_count:
                    return set(range(0, num_timesteps, i))
            raise ValueError(f"cannot create exactly {num_timesteps} steps with an integer stride")
        section_counts = [int(x) for x in section_counts.split(",")]
    size_per = num_timesteps // len(section_counts)
    extra = num_timesteps % len(section_counts)
    start_idx = 0
    all_steps = []
    for i, section_count in enumerate(section_counts):
        size = size_per + (1 if i < extra else 0)
        if size < section_count:
            raise ValueError(f"cannot divide section of {size} steps into {section_count}")
        frac_stride = 1 if section_count <= 1 else (size - 1) / (section_count - 1)
        cur_idx = 0.0
        taken_steps = []
        for _ in range(section_count):
            taken_steps.append(start_idx + round(cur_idx))
            cur_idx += frac_stride
        all_steps += taken_steps
        start_idx += size
    return set(all_steps)


def respaced_betas(base_betas, use):
    ac = tables(base_betas)["alphas_cumprod"]
    last, new = 1.0, []
    for i, a in enumerate(ac):
        if i in use:
            new.append(1 - a / last)
            last = a
    return np.array(new)


def p_mean_variance(tb, t, xt, eps, v, clip):
    x0 = tb["sqrt_recip_alphas_cumprod"][t] * xt - tb["sqrt_recipm1_alphas_cumprod"][t] * eps
    if clip:
        x0 = np.clip(x0, -1, 1)
    mean = tb["posterior_mean_coef1"][t] * x0 + tb["posterior_mean_coef2"][t] * xt
    min_log = tb["posterior_log_variance_clipped"][t]
    max_log = np.log(tb["betas"][t])
    frac = (v + 1) / 2
    return mean, frac * max_log + (1 - frac) * min_log, x0


def ddim_step(tb, t, xt, eps, eta, noise, clip):
    x0 = tb["sqrt_recip_alphas_cumprod"][t] * xt - tb["sqrt_recipm1_alphas_cumprod"][t] * eps
    if clip:
        x0 = np.clip(x0, -1, 1)
    e = (tb["sqrt_recip_alphas_cumprod"][t] * xt - x0) / tb["sqrt_recipm1_alphas_cumprod"][t]
    ab, abp = tb["alphas_cumprod"][t], tb["alphas_cumprod_prev"][t]
    sigma = eta * np.sqrt((1 - abp) / (1 - ab)) * np.sqrt(1 - ab / abp)
    mean = x0 * np.sqrt(abp) + np.sqrt(1 - abp - sigma ** 2) * e
    return mean + (sigma * noise if t > 0 else 0)


# ---- helpers ----

def f32(a):
    return np.asarray(a, dtype=np.float32)


def lst(a):
    return [float(x) for x in np.asarray(a, dtype=np.float64).ravel()]


def rand(gen, lo, hi):
    return f32(gen.uniform(lo, hi, N))


DENOISER_CASES = {
    "den_inpaint": dict(frames=4, image_size=8, channels=3, patch=2, hidden=32, heads=4, depth=4, mlp_dim=64,
                        freq_dim=16, num_classes=5, learn_sigma=True, inpaint=True,
                        labels=["a", "b", "c", "d", "e"]),
    "den_plain": dict(frames=3, image_size=6, channels=1, patch=3, hidden=24, heads=2, depth=2, mlp_dim=40,
                      freq_dim=8, num_classes=0, learn_sigma=False, inpaint=False, noise_schedule="linear",
                      diffusion_steps=200),
    "den_velocity": dict(frames=4, image_size=8, channels=3, patch=4, hidden=16, heads=2, depth=2, mlp_dim=32,
                         freq_dim=8, num_classes=3, learn_sigma=True, inpaint=True, prediction="velocity",
                         labels=["a", "b", "c"]),
}


def denoiser_case(name, cfg, out_dir):
    torch.manual_seed(1234)
    model = Denoiser(cfg).eval()
    # Training starts adaLN-Zero and the output layer at zero; the oracle
    # needs every path live, so those get small random weights too.
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, torch.nn.Linear) and not mod.weight.abs().sum():
                mod.weight.normal_(0, 0.5 / math.sqrt(mod.in_features))
                if mod.bias is not None:
                    mod.bias.normal_(0, 0.1)
        model.y_embed.weight.normal_(0, 0.5)
    c = model.cfg
    T, C, H = c["frames"], c["channels"], c["image_size"]
    g = torch.Generator().manual_seed(99)
    xt = torch.randn(1, T, C, H, H, generator=g)
    known = torch.randn(1, T, C, H, H, generator=g)
    mask = (torch.rand(1, T, 1, H, H, generator=g) > 0.5).float()
    t, label = (537, 2) if c["num_classes"] else (123, 0)
    acts = {}

    def hook(n, x):
        acts[n] = x[0].detach().clone() if x.dim() == 3 else x.detach().clone()

    with torch.no_grad():
        y = torch.tensor([label])
        out = model(xt, torch.tensor([t]), y, known if c["inpaint"] else None, mask if c["inpaint"] else None, hook=hook)
        null = model(xt, torch.tensor([t]), torch.tensor([c["num_classes"]]))
    gold = {"input.xt": xt[0], "input.known": known[0], "input.mask": mask[0, :, 0]}
    for k, v in acts.items():
        gold[k] = v.reshape(-1, v.shape[-1]) if v.dim() > 1 else v[None]
    gold["eps"] = out[0, :, :C]
    gold["eps_null"] = null[0, :, :C]
    if c.get("prediction", "eps") == "velocity":
        gold["velocity"] = gold["eps"]
        abar = tables(named_betas(c["noise_schedule"], c["diffusion_steps"]))["alphas_cumprod"][t]
        gold["eps"] = eps_from_velocity(out[0, :, :C], xt[0], abar)
        gold["eps_null"] = eps_from_velocity(null[0, :, :C], xt[0], abar)
    if c["learn_sigma"]:
        gold["v"] = out[0, :, C:]
        gold["v_null"] = null[0, :, C:]
    gold = {k: gold[k].contiguous().float() for k in sorted(gold)}
    d = os.path.join(out_dir, name)
    os.makedirs(d, exist_ok=True)
    save_vidi(model, os.path.join(d, "model.safetensors"))
    save_file(gold, os.path.join(d, "golden.safetensors"),
              metadata={"t": str(t), "label": str(label), "case": name})
    print(f"wrote {d}/ (model {os.path.getsize(os.path.join(d, 'model.safetensors'))} bytes)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="tests/golden/diffusion")
    ap.add_argument("--only", nargs="+", choices=sorted(DENOISER_CASES), help="just these denoiser fixtures")
    args = ap.parse_args()
    if args.only:
        torch.set_num_threads(1)
        for name in args.only:
            denoiser_case(name, DENOISER_CASES[name], args.out)
        return
    import diffusers
    from diffusers import DDIMScheduler, DDPMScheduler, DPMSolverMultistepScheduler
    torch.manual_seed(0)
    torch.set_num_threads(1)
    gen = np.random.default_rng(7)
    out = {"versions": {"diffusers": diffusers.__version__, "torch": torch.__version__, "numpy": np.__version__}}

    # Schedules and tables (improved-diffusion, float64), sampled at fixed indices.
    out["schedules"] = []
    for name, T in (("cosine", 1000), ("linear", 1000), ("linear", 100), ("cosine", 50)):
        tb = tables(named_betas(name, T))
        idx = sorted(set([0, 1, 2, 3, T // 4, T // 2, T - 2, T - 1] + list(range(0, T, max(1, T // 25)))))
        out["schedules"].append({"schedule": name, "T": T, "index": idx,
                                 "tables": {k: lst(v[idx]) for k, v in tb.items()}})

    # space_timesteps and respaced processes.
    out["spacing"] = []
    for T, spec in ((1000, "ddim50"), (1000, "ddim25"), (100, "ddim10"), (1000, "25"), (300, "10,15,20"),
                    (1000, "50"), (10, "3,3"), (17, "5")):
        out["spacing"].append({"T": T, "spec": spec, "keep": sorted(space_timesteps(T, spec))})
    base = named_betas("cosine", 1000)
    use = space_timesteps(1000, "ddim50")
    rtb = tables(respaced_betas(base, use))
    out["respaced"] = {"schedule": "cosine", "T": 1000, "spec": "ddim50",
                       "tables": {k: lst(v) for k, v in rtb.items()}}

    # q_sample, posterior, p_mean_variance (learned range), DDPM and DDIM steps
    # on the cosine T=1000 process, in float64 from float32 inputs.
    tb = tables(base)
    x0 = rand(gen, -1, 1)
    noise = f32(gen.standard_normal(N))
    xt = f32(gen.standard_normal(N))
    eps = f32(gen.standard_normal(N))
    v = rand(gen, -1, 1)
    step_noise = f32(gen.standard_normal(N))
    vec = {"x0": lst(x0), "noise": lst(noise), "xt": lst(xt), "eps": lst(eps), "v": lst(v),
           "step_noise": lst(step_noise)}
    cases = []
    for t in (0, 1, 10, 500, 999):
        qs = tb["sqrt_alphas_cumprod"][t] * x0.astype(np.float64) + tb["sqrt_one_minus_alphas_cumprod"][t] * noise
        pm = tb["posterior_mean_coef1"][t] * x0.astype(np.float64) + tb["posterior_mean_coef2"][t] * xt
        mean, logv, px0 = p_mean_variance(tb, t, xt.astype(np.float64), eps.astype(np.float64), v.astype(np.float64), True)
        mean_nc, _, px0_nc = p_mean_variance(tb, t, xt.astype(np.float64), eps.astype(np.float64), v.astype(np.float64), False)
        ddpm = mean + (np.exp(0.5 * logv) * step_noise if t > 0 else 0)
        ddim0 = ddim_step(tb, t, xt.astype(np.float64), eps.astype(np.float64), 0.0, step_noise, True)
        ddim5 = ddim_step(tb, t, xt.astype(np.float64), eps.astype(np.float64), 0.5, step_noise, True)
        cases.append({"t": t, "q_sample": lst(qs), "posterior_mean": lst(pm),
                      "posterior_variance": float(tb["posterior_variance"][t]),
                      "posterior_log_variance_clipped": float(tb["posterior_log_variance_clipped"][t]),
                      "p_mean": lst(mean), "p_log_variance": lst(logv), "pred_x0": lst(px0),
                      "p_mean_noclip": lst(mean_nc), "pred_x0_noclip": lst(px0_nc),
                      "ddpm": lst(ddpm), "ddim_eta0": lst(ddim0), "ddim_eta05": lst(ddim5)})
    out["vectors"] = vec
    out["cosine1000_cases"] = cases

    # diffusers, float32: the same inputs through the real schedulers.
    shape = (1, 1, 1, N)
    tx = lambda a: torch.from_numpy(f32(a)).reshape(shape)
    dif = {}
    ddpm = DDPMScheduler(num_train_timesteps=1000, beta_schedule="squaredcos_cap_v2",
                         variance_type="learned_range", clip_sample=True)
    dif["alphas_cumprod"] = lst(ddpm.alphas_cumprod.numpy()[out["schedules"][0]["index"]])
    dif["ddpm_full"] = []
    for t in (10, 500, 999):
        g = torch.Generator().manual_seed(100 + t)
        model_out = torch.cat([tx(eps), tx(v)], dim=1)
        g_noise = torch.randn(shape, generator=torch.Generator().manual_seed(100 + t))
        r = ddpm.step(model_out, t, tx(xt), generator=g).prev_sample
        dif["ddpm_full"].append({"t": t, "noise": lst(g_noise.numpy()), "prev": lst(r.numpy()),
                                 "x0": lst(ddpm.step(model_out, t, tx(xt), generator=torch.Generator().manual_seed(1)).pred_original_sample.numpy())})
    ddpm.set_timesteps(50)
    dif["ddpm50_timesteps"] = [int(t) for t in ddpm.timesteps]
    t = 480
    g_noise = torch.randn(shape, generator=torch.Generator().manual_seed(7))
    r = ddpm.step(torch.cat([tx(eps), tx(v)], dim=1), t, tx(xt), generator=torch.Generator().manual_seed(7)).prev_sample
    dif["ddpm50_step"] = {"t": t, "noise": lst(g_noise.numpy()), "prev": lst(r.numpy())}

    ddim = DDIMScheduler(num_train_timesteps=1000, beta_schedule="squaredcos_cap_v2", clip_sample=True,
                         set_alpha_to_one=True)
    ddim.set_timesteps(50)
    dif["ddim50_timesteps"] = [int(t) for t in ddim.timesteps]
    dif["ddim50_step"] = []
    for t, eta in ((480, 0.0), (480, 0.5), (20, 0.0), (0, 0.0)):
        r = ddim.step(tx(eps), t, tx(xt), eta=eta, use_clipped_model_output=True,
                      variance_noise=tx(step_noise)).prev_sample
        dif["ddim50_step"].append({"t": t, "eta": eta, "prev": lst(r.numpy())})

    dpm = DPMSolverMultistepScheduler(num_train_timesteps=1000, beta_schedule="squaredcos_cap_v2",
                                      algorithm_type="dpmsolver++", solver_order=2)
    dpm.set_timesteps(20)
    ts = [int(t) for t in dpm.timesteps]
    sig = [float(s) for s in dpm.sigmas]
    eps2 = f32(gen.standard_normal(N))
    s0 = dpm.step(tx(eps), ts[0], tx(xt)).prev_sample
    s1 = dpm.step(tx(eps2), ts[1], s0).prev_sample
    dif["dpmpp"] = {"timesteps": ts, "sigmas": sig, "eps2": lst(eps2), "after_step0": lst(s0.numpy()),
                    "after_step1": lst(s1.numpy())}
    out["diffusers"] = dif

    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "core.json")
    with open(path, "w") as fh:
        json.dump(out, fh, separators=(",", ":"))
        fh.write("\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")
    for name, cfg in DENOISER_CASES.items():
        denoiser_case(name, cfg, args.out)


if __name__ == "__main__":
    main()
