"""graphdiff.nn.diffusion: closed forms of the schedule, oracle recovery under DDPM and DDIM, timesteps."""

import math

import pytest
import torch

from graphdiff.nn.diffusion import DDPMSchedule


def test_linear_and_scaled_linear_betas():
    s = DDPMSchedule(1000, 1e-4, 0.02, "linear")
    assert s.betas[0].item() == pytest.approx(1e-4) and s.betas[-1].item() == pytest.approx(0.02)
    acp = torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64), 0)
    torch.testing.assert_close(s.alphas_cumprod, acp.float())
    ldm = DDPMSchedule(1000, 0.00085, 0.012, "scaled_linear")
    assert ldm.betas[500].item() == pytest.approx(
        (math.sqrt(0.00085) + 500 / 999 * (math.sqrt(0.012) - math.sqrt(0.00085))) ** 2, rel=1e-5
    )


def test_add_noise_closed_form_and_per_row_timesteps():
    s = DDPMSchedule(100, 1e-4, 0.02)
    x0, noise = torch.randn(4, 3), torch.randn(4, 3)
    t = torch.tensor([0, 10, 50, 99])
    xt = s.add_noise(x0, noise, t)
    acp = s.alphas_cumprod[t][:, None]
    torch.testing.assert_close(xt, acp.sqrt() * x0 + (1 - acp).sqrt() * noise)
    # scalar timestep broadcasts
    torch.testing.assert_close(s.add_noise(x0, noise, 10), s.add_noise(x0, noise, torch.full((4,), 10)))


def test_posterior_closed_form():
    s = DDPMSchedule(50, 1e-3, 0.05)
    t = 20
    b, a, acp, acp_prev = s.betas[t], s.alphas[t], s.alphas_cumprod[t], s.alphas_cumprod[t - 1]
    assert s.posterior_variance[t].item() == pytest.approx(((1 - acp_prev) / (1 - acp) * b).item(), rel=1e-5)
    assert s.posterior_coef_x0[t].item() == pytest.approx((acp_prev.sqrt() * b / (1 - acp)).item(), rel=1e-5)
    assert s.posterior_coef_xt[t].item() == pytest.approx((a.sqrt() * (1 - acp_prev) / (1 - acp)).item(), rel=1e-5)


def test_oracle_eps_recovers_x0_with_ddim():
    s = DDPMSchedule(1000)
    g = torch.Generator().manual_seed(0)
    x0 = torch.randn(5, 8, generator=g)
    noise = torch.randn(5, 8, generator=g)
    ts = s.timesteps(50)
    assert ts[0] == 980 and ts[-1] == 0 and len(ts) == 50
    x = s.add_noise(x0, noise, ts[0])
    for i, t in enumerate(ts):
        prev = ts[i + 1] if i + 1 < len(ts) else -1
        # the oracle: the noise that maps x0 to the current x_t
        acp = s.alphas_cumprod[t]
        eps = (x - acp.sqrt() * x0) / (1 - acp).sqrt()
        x = s.ddim_step(eps, t, prev, x)
    torch.testing.assert_close(x, x0, atol=1e-4, rtol=1e-4)


def test_oracle_eps_recovers_x0_with_ddpm():
    s = DDPMSchedule(200)
    g = torch.Generator().manual_seed(1)
    x0 = torch.randn(300, 2, generator=g)
    x = torch.randn(300, 2, generator=g)
    for t in reversed(range(200)):
        acp = s.alphas_cumprod[t]
        eps = (x - acp.sqrt() * x0) / (1 - acp).sqrt()
        x = s.step(eps, t, x, generator=g)
    # the last step adds no noise and the posterior mean with the oracle x0 lands on x0
    torch.testing.assert_close(x, x0, atol=1e-4, rtol=1e-4)


def test_ddpm_step_is_posterior_mean_plus_noise():
    s = DDPMSchedule(100)
    x, eps = torch.randn(2000, 1), torch.randn(2000, 1)
    t = 40
    outs = torch.stack([s.step(eps, t, x, generator=torch.Generator().manual_seed(k)) for k in range(20)])
    x0 = s.predict_x0(eps, t, x)
    mean = s.posterior_coef_x0[t] * x0 + s.posterior_coef_xt[t] * x
    resid = outs - mean
    assert resid.std().item() == pytest.approx(s.posterior_variance[t].sqrt().item(), rel=0.05)


def test_bad_arguments():
    with pytest.raises(ValueError, match="beta_schedule"):
        DDPMSchedule(beta_schedule="cosine")
    with pytest.raises(ValueError, match="beta_start"):
        DDPMSchedule(beta_start=0.1, beta_end=0.01)
    s = DDPMSchedule(100)
    x = torch.zeros(3, 2)
    with pytest.raises(ValueError, match="timesteps"):
        s.add_noise(x, x, 100)
    with pytest.raises(ValueError, match="one timestep per row"):
        s.add_noise(x, x, torch.tensor([1, 2]))
    with pytest.raises(ValueError, match="noise"):
        s.add_noise(x, torch.zeros(3, 3), 1)
    with pytest.raises(ValueError, match="num_inference_steps"):
        s.timesteps(0)
    with pytest.raises(ValueError, match="prev_timestep"):
        s.ddim_step(x, 10, 20, x)


# ---------------------------------------------------------------------------------------- diffusers equivalence
@pytest.mark.parametrize("betas", [(1e-4, 0.02, "linear"), (0.00085, 0.012, "scaled_linear")])
@pytest.mark.parametrize("clip", [None, 1.0])
def test_own_ddim_matches_diffusers_ddim_scheduler(betas, clip):
    """Same alphas, same timesteps and the same step output as ``diffusers.DDIMScheduler`` (eta 0, "leading"
    spacing, the last step to alpha_bar = 1; clipping: ``clip_sample`` with ``use_clipped_model_output``)."""
    diffusers = pytest.importorskip("diffusers")
    from graphdiff.nn.diffusion import DDIMSampler

    ours = DDPMSchedule(1000, *betas)
    ref = diffusers.DDIMScheduler(
        num_train_timesteps=1000,
        beta_start=betas[0],
        beta_end=betas[1],
        beta_schedule=betas[2],
        clip_sample=clip is not None,
        clip_sample_range=clip or 1.0,
        set_alpha_to_one=True,
        steps_offset=0,
        timestep_spacing="leading",
        prediction_type="epsilon",
    )
    torch.testing.assert_close(ours.alphas_cumprod, ref.alphas_cumprod, rtol=1e-5, atol=1e-6)
    sampler = DDIMSampler(ours, clip_sample=clip)
    sampler.set_timesteps(20)
    ref.set_timesteps(20)
    assert sampler.timesteps == [int(t) for t in ref.timesteps]
    g = torch.Generator().manual_seed(0)
    x = torch.randn(6, 8, 1, generator=g) * 2
    x_ref = x.clone()
    for t in sampler.timesteps:
        eps = torch.sin(3 * x) + 0.3 * x  # any fixed "denoiser"
        eps_ref = torch.sin(3 * x_ref) + 0.3 * x_ref
        x = sampler.step(eps, t, x)
        x_ref = ref.step(eps_ref, t, x_ref, eta=0.0, use_clipped_model_output=clip is not None).prev_sample
        torch.testing.assert_close(x, x_ref, rtol=1e-4, atol=1e-4)
    if clip is not None:
        assert float(x.abs().max()) <= clip + 1e-6
