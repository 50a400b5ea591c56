"""DDPM noise schedule with ancestral (DDPM) and deterministic (DDIM) reverse steps, independent of any denoiser.

Ho et al., "Denoising Diffusion Probabilistic Models" (NeurIPS 2020, https://arxiv.org/abs/2006.11239), Sec. 2 and
3.2, and Song et al., "Denoising Diffusion Implicit Models" (ICLR 2021, https://arxiv.org/abs/2010.02502), Sec. 4.1;
EchoScene (https://arxiv.org/abs/2405.00915, Sec. 3.1) trains both of its branches with this eps-prediction
objective (linear betas 1e-4 -> 0.02 for the layout branch, the LDM "scaled linear" schedule for shapes).

With :math:`\\alpha_t = 1 - \\beta_t` and :math:`\\bar\\alpha_t = \\prod_{s \\le t} \\alpha_s`:

* forward process (``add_noise``):
  :math:`x_t = \\sqrt{\\bar\\alpha_t}\\, x_0 + \\sqrt{1 - \\bar\\alpha_t}\\, \\epsilon`;
* prediction of the clean sample:
  :math:`\\hat x_0 = (x_t - \\sqrt{1-\\bar\\alpha_t}\\,\\hat\\epsilon) / \\sqrt{\\bar\\alpha_t}`;
* DDPM step (``step``, "fixed small" variance):
  :math:`x_{t-1} = \\tilde\\mu_t(x_t, \\hat x_0) + \\sqrt{\\tilde\\beta_t}\\, z`
  with :math:`\\tilde\\mu_t = \\frac{\\sqrt{\\bar\\alpha_{t-1}}\\beta_t}{1-\\bar\\alpha_t} \\hat x_0 +
  \\frac{\\sqrt{\\alpha_t}(1-\\bar\\alpha_{t-1})}{1-\\bar\\alpha_t} x_t` and
  :math:`\\tilde\\beta_t = \\frac{1-\\bar\\alpha_{t-1}}{1-\\bar\\alpha_t}\\beta_t`;
* DDIM step (``ddim_step``) from :math:`t` to :math:`t' < t`:
  :math:`x_{t'} = \\sqrt{\\bar\\alpha_{t'}}\\,\\hat x_0
  + \\sqrt{1-\\bar\\alpha_{t'}-\\sigma^2}\\,\\hat\\epsilon + \\sigma z`,
  :math:`\\sigma = \\eta \\sqrt{(1-\\bar\\alpha_{t'})/(1-\\bar\\alpha_t)}\\sqrt{1-\\bar\\alpha_t/\\bar\\alpha_{t'}}`.

Timesteps are 0-based (``0 .. num_train_timesteps - 1``); :math:`\\bar\\alpha_{-1} = 1`. Every method accepts a
scalar timestep or one timestep per row of the sample (for example one per node, or one per scene broadcast to its
nodes), so that several independent diffusion processes advance in one batched call.
"""

from __future__ import annotations

import torch

from graphdiff.data.validation import check_choice, check_float, check_int

__all__ = ["DDPMSchedule", "DDIMSampler"]

_SCHEDULES = ("linear", "scaled_linear")


class DDPMSchedule:
    """Noise schedule and reverse steps (diffusers-style ``add_noise`` / ``step``), shared by all denoisers.

    Parameters
    ----------
    num_train_timesteps : int
        ``T`` (at least 2).
    beta_start, beta_end : float
        End points of the beta schedule, ``0 < beta_start < beta_end < 1``.
    beta_schedule : {"linear", "scaled_linear"}
        ``"linear"``: ``linspace(beta_start, beta_end, T)``; ``"scaled_linear"``:
        ``linspace(sqrt(beta_start), sqrt(beta_end), T) ** 2`` (the latent-diffusion schedule).
    device : str or torch.device
        Where the schedule tensors live.

    Attributes
    ----------
    betas, alphas, alphas_cumprod, alphas_cumprod_prev : torch.Tensor of shape (T,)
        Computed in float64, stored as float32.

    Examples
    --------
    >>> sched = DDPMSchedule(1000, 1e-4, 0.02, "linear")
    >>> x0, noise = torch.zeros(2, 8), torch.randn(2, 8)
    >>> x_t = sched.add_noise(x0, noise, torch.tensor([500, 500]))
    >>> x0_hat = sched.ddim_step(noise, 500, -1, x_t)  # the exact noise recovers x0 in one DDIM step
    >>> bool(x0_hat.abs().max() < 1e-4), sched.timesteps(4)
    (True, [750, 500, 250, 0])
    """

    def __init__(
        self,
        num_train_timesteps: int = 1000,
        beta_start: float = 1e-4,
        beta_end: float = 0.02,
        beta_schedule: str = "linear",
        device: str | torch.device = "cpu",
    ):
        num_train_timesteps = check_int(num_train_timesteps, "num_train_timesteps", minimum=2)
        beta_start = check_float(beta_start, "beta_start", minimum=0.0, maximum=1.0, low_open=True, high_open=True)
        beta_end = check_float(beta_end, "beta_end", minimum=0.0, maximum=1.0, low_open=True, high_open=True)
        if not beta_start < beta_end:
            raise ValueError(f"need 0 < `beta_start` < `beta_end` < 1, got {beta_start} and {beta_end}")
        check_choice(beta_schedule, "beta_schedule", _SCHEDULES)
        self.num_train_timesteps = num_train_timesteps
        self.beta_start, self.beta_end, self.beta_schedule = beta_start, beta_end, beta_schedule
        if beta_schedule == "linear":
            betas = torch.linspace(beta_start, beta_end, num_train_timesteps, dtype=torch.float64)
        else:
            betas = torch.linspace(beta_start**0.5, beta_end**0.5, num_train_timesteps, dtype=torch.float64) ** 2
        self._set(betas, torch.device(device))

    def _set(self, betas, device):
        self.device = device
        alphas = 1.0 - betas
        acp = torch.cumprod(alphas, dim=0)
        acp_prev = torch.cat([torch.ones(1, dtype=acp.dtype), acp[:-1]])
        self.betas = betas.float().to(device)
        self.alphas = alphas.float().to(device)
        self.alphas_cumprod = acp.float().to(device)
        self.alphas_cumprod_prev = acp_prev.float().to(device)
        self.posterior_variance = (betas * (1.0 - acp_prev) / (1.0 - acp)).float().to(device)
        self.posterior_coef_x0 = (betas * acp_prev.sqrt() / (1.0 - acp)).float().to(device)
        self.posterior_coef_xt = ((1.0 - acp_prev) * alphas.sqrt() / (1.0 - acp)).float().to(device)

    def to(self, device):
        """Move the schedule tensors to ``device``.

        Parameters
        ----------
        device : str or torch.device
            The target device.

        Returns
        -------
        DDPMSchedule
            ``self``.
        """
        device = torch.device(device)
        for name in (
            "betas",
            "alphas",
            "alphas_cumprod",
            "alphas_cumprod_prev",
            "posterior_variance",
            "posterior_coef_x0",
            "posterior_coef_xt",
        ):
            setattr(self, name, getattr(self, name).to(device))
        self.device = device
        return self

    # ------------------------------------------------------------------ helpers
    def _timesteps(self, t, sample: torch.Tensor, name: str = "timesteps") -> torch.Tensor:
        t = torch.as_tensor(t, device=sample.device)
        if t.is_floating_point():
            raise ValueError(f"`{name}` must be integer timesteps, got dtype {t.dtype}")
        t = t.long()
        if t.dim() == 0:
            t = t.expand(sample.size(0))
        if t.dim() != 1 or t.size(0) != sample.size(0):
            raise ValueError(
                f"`{name}` must be a scalar or hold one timestep per row ({sample.size(0)}), got shape {tuple(t.shape)}"
            )
        low = -1 if name == "prev_timestep" else 0  # -1: the clean sample (alpha_bar = 1), a target only
        if t.numel() and (int(t.min()) < low or int(t.max()) >= self.num_train_timesteps):
            raise ValueError(
                f"`{name}` must lie in [{low}, {self.num_train_timesteps}), got [{int(t.min())}, {int(t.max())}]"
            )
        return t

    @staticmethod
    def _bcast(values: torch.Tensor, sample: torch.Tensor) -> torch.Tensor:
        return values.view(-1, *([1] * (sample.dim() - 1))).to(sample.dtype)

    def _acp(self, t):
        acp = self.alphas_cumprod.to(t.device)
        return torch.where(t >= 0, acp[t.clamp(min=0)], torch.ones_like(acp[0:1]).expand(t.shape))

    # ------------------------------------------------------------------ forward process
    def add_noise(self, x0: torch.Tensor, noise: torch.Tensor, timesteps) -> torch.Tensor:
        """Sample :math:`q(x_t | x_0)`: ``sqrt(acp_t) * x0 + sqrt(1 - acp_t) * noise``.

        Parameters
        ----------
        x0 : torch.Tensor, shape (B, ...)
            Clean samples.
        noise : torch.Tensor, shape (B, ...)
            Standard normal noise of the shape of ``x0``.
        timesteps : int or torch.Tensor of int, shape (B,)
            One timestep in ``[0, T)`` for all rows, or one per row.

        Returns
        -------
        torch.Tensor, shape (B, ...)
            The noisy samples ``x_t``.
        """
        if noise.shape != x0.shape:
            raise ValueError(f"`noise` must have the shape of `x0` {tuple(x0.shape)}, got {tuple(noise.shape)}")
        t = self._timesteps(timesteps, x0)
        acp = self._bcast(self._acp(t), x0)
        return acp.sqrt() * x0 + (1.0 - acp).sqrt() * noise

    def predict_x0(self, model_output: torch.Tensor, timesteps, sample: torch.Tensor) -> torch.Tensor:
        """The clean sample implied by an eps prediction.

        Parameters
        ----------
        model_output : torch.Tensor, shape (B, ...)
            The predicted noise.
        timesteps : int or torch.Tensor of int, shape (B,)
            The timestep of ``sample``, one for all rows or one per row.
        sample : torch.Tensor, shape (B, ...)
            The noisy samples ``x_t``.

        Returns
        -------
        torch.Tensor, shape (B, ...)
            ``(x_t - sqrt(1 - acp_t) * eps) / sqrt(acp_t)``.
        """
        t = self._timesteps(timesteps, sample)
        acp = self._bcast(self._acp(t), sample)
        return (sample - (1.0 - acp).sqrt() * model_output) / acp.sqrt()

    # ------------------------------------------------------------------ reverse steps
    def step(
        self,
        model_output: torch.Tensor,
        timestep,
        sample: torch.Tensor,
        generator: torch.Generator | None = None,
        clip_sample: float | None = None,
    ) -> torch.Tensor:
        """One ancestral DDPM step ``x_t -> x_{t-1}`` with the "fixed small" posterior variance (no noise at t=0).

        Parameters
        ----------
        model_output : torch.Tensor, shape (B, ...)
            The predicted noise.
        timestep : int or torch.Tensor of int, shape (B,)
            The current timestep ``t``, one for all rows or one per row.
        sample : torch.Tensor, shape (B, ...)
            The current samples ``x_t``.
        generator : torch.Generator, optional
            Source of the step's noise.
        clip_sample : float, optional
            Clip the predicted clean sample to ``[-clip_sample, clip_sample]``.

        Returns
        -------
        torch.Tensor, shape (B, ...)
            ``x_{t-1}``.
        """
        t = self._timesteps(timestep, sample)
        x0 = self.predict_x0(model_output, t, sample)
        if clip_sample is not None:
            x0 = x0.clamp(-clip_sample, clip_sample)
        mean = (
            self._bcast(self.posterior_coef_x0[t], sample) * x0
            + self._bcast(self.posterior_coef_xt[t], sample) * sample
        )
        noise = torch.randn(sample.shape, generator=generator, device=sample.device, dtype=sample.dtype)
        var = self._bcast(self.posterior_variance[t], sample)
        nonzero = self._bcast((t > 0).float(), sample)
        return mean + nonzero * var.sqrt() * noise

    def ddim_step(
        self,
        model_output: torch.Tensor,
        timestep,
        prev_timestep,
        sample: torch.Tensor,
        eta: float = 0.0,
        generator: torch.Generator | None = None,
        clip_sample: float | None = None,
    ) -> torch.Tensor:
        """One DDIM step ``x_t -> x_{t'}`` (``prev_timestep = -1`` returns the predicted clean sample).

        Parameters
        ----------
        model_output : torch.Tensor, shape (B, ...)
            The predicted noise.
        timestep : int or torch.Tensor of int, shape (B,)
            The current timestep ``t``, one for all rows or one per row.
        prev_timestep : int or torch.Tensor of int, shape (B,)
            The target timestep ``t' < t``, in ``[-1, T)``.
        sample : torch.Tensor, shape (B, ...)
            The current samples ``x_t``.
        eta : float, default 0.0
            DDIM's stochasticity (0: deterministic).
        generator : torch.Generator, optional
            Source of the step's noise (used when ``eta > 0``).
        clip_sample : float, optional
            Clip the predicted clean sample to ``[-clip_sample, clip_sample]`` and recompute the noise from it.

        Returns
        -------
        torch.Tensor, shape (B, ...)
            ``x_{t'}``.
        """
        eta = check_float(eta, "eta", minimum=0.0)
        t = self._timesteps(timestep, sample)
        t_prev = self._timesteps(prev_timestep, sample, name="prev_timestep")
        if bool((t_prev >= t).any()):
            raise ValueError("`prev_timestep` must be smaller than `timestep`")
        acp_t = self._bcast(self._acp(t), sample)
        acp_prev = self._bcast(self._acp(t_prev), sample)
        x0 = (sample - (1.0 - acp_t).sqrt() * model_output) / acp_t.sqrt()
        eps = model_output
        if clip_sample is not None:
            x0 = x0.clamp(-clip_sample, clip_sample)
            eps = (sample - acp_t.sqrt() * x0) / (1.0 - acp_t).sqrt()
        sigma = eta * ((1 - acp_prev) / (1 - acp_t)).sqrt() * (1 - acp_t / acp_prev).clamp(min=0).sqrt()
        direction = (1.0 - acp_prev - sigma**2).clamp(min=0).sqrt() * eps
        out = acp_prev.sqrt() * x0 + direction
        if eta > 0:
            out = out + sigma * torch.randn(sample.shape, generator=generator, device=sample.device, dtype=sample.dtype)
        return out

    def timesteps(self, num_inference_steps: int) -> list[int]:
        """Evenly spaced timesteps for ``num_inference_steps`` DDIM steps, in descending order (last one 0).

        Parameters
        ----------
        num_inference_steps : int
            Number of steps, in ``[1, T]``.

        Returns
        -------
        list of int
        """
        num_inference_steps = check_int(
            num_inference_steps, "num_inference_steps", minimum=1, maximum=self.num_train_timesteps
        )
        ratio = self.num_train_timesteps // num_inference_steps
        return [int(i * ratio) for i in range(num_inference_steps)][::-1]

    def sample_timesteps(self, n: int, generator: torch.Generator | None = None, device=None) -> torch.Tensor:
        """``n`` training timesteps drawn uniformly from ``[0, T)``.

        Parameters
        ----------
        n : int
            Number of timesteps.
        generator : torch.Generator, optional
            Source of the draw.
        device : str or torch.device, optional
            Where the result lives (default: CPU).

        Returns
        -------
        torch.Tensor of int64, shape (n,)
        """
        return torch.randint(0, self.num_train_timesteps, (n,), generator=generator, device=device or "cpu")

    def __repr__(self):
        return (
            f"DDPMSchedule(T={self.num_train_timesteps}, {self.beta_schedule} {self.beta_start:g}->{self.beta_end:g})"
        )


class DDIMSampler:
    """Deterministic DDIM sampling over a :class:`DDPMSchedule`, with the interface of a diffusers scheduler.

    ``set_timesteps(n)`` fills ``timesteps`` (``n`` evenly spaced, descending, last one 0: the "leading" spacing of
    ``diffusers.DDIMScheduler``); ``step(model_output, timestep, sample)`` goes from ``timestep`` to the next entry
    of ``timesteps`` (to the clean sample after the last one) and returns the new sample. A sampling loop written
    against this interface (``for t in s.timesteps: x = s.step(model(x, t), t, x)``) runs a diffusers scheduler as
    well, reading ``.prev_sample`` from its output.

    Parameters
    ----------
    schedule : DDPMSchedule
    eta : float
        DDIM's stochasticity (0: deterministic).
    clip_sample : float, optional
        Clip the predicted clean sample to ``[-clip_sample, clip_sample]`` and recompute the noise from it (what
        diffusers calls ``clip_sample=True, use_clipped_model_output=True``).

    Examples
    --------
    >>> sampler = DDIMSampler(DDPMSchedule(1000), clip_sample=1.0)
    >>> sampler.set_timesteps(5)
    >>> sampler.timesteps
    [800, 600, 400, 200, 0]
    >>> x = torch.randn(3, 8)
    >>> for t in sampler.timesteps:
    ...     x = sampler.step(torch.zeros_like(x), t, x)  # a "denoiser" that predicts no noise
    >>> bool(x.abs().max() <= 1.0)
    True
    """

    def __init__(self, schedule: DDPMSchedule, eta: float = 0.0, clip_sample: float | None = None):
        if not isinstance(schedule, DDPMSchedule):
            raise ValueError(f"`schedule` must be a DDPMSchedule, got {type(schedule).__name__}")
        self.schedule = schedule
        self.eta = check_float(eta, "eta", minimum=0.0)
        self.clip_sample = check_float(clip_sample, "clip_sample", minimum=0.0, low_open=True, allow_none=True)
        self.timesteps: list[int] = []
        self._next: dict[int, int] = {}

    def set_timesteps(self, num_inference_steps: int) -> None:
        """Choose ``num_inference_steps`` timesteps (see :meth:`DDPMSchedule.timesteps`).

        Parameters
        ----------
        num_inference_steps : int
            Number of sampling steps, in ``[1, T]``.
        """
        self.timesteps = self.schedule.timesteps(num_inference_steps)
        self._next = dict(zip(self.timesteps, self.timesteps[1:] + [-1]))

    def step(self, model_output: torch.Tensor, timestep: int, sample: torch.Tensor, generator=None) -> torch.Tensor:
        """One DDIM step from ``timestep`` to the next entry of ``timesteps``.

        Parameters
        ----------
        model_output : torch.Tensor, shape (B, ...)
            The predicted noise.
        timestep : int
            The current timestep, one of ``timesteps``.
        sample : torch.Tensor, shape (B, ...)
            The current samples.
        generator : torch.Generator, optional
            Source of the step's noise (used when the sampler's ``eta > 0``).

        Returns
        -------
        torch.Tensor, shape (B, ...)
            The samples at the next timestep (the predicted clean samples after the last one).
        """
        if not self._next:
            raise ValueError("call `set_timesteps` before `step`")
        t = int(timestep)
        if t not in self._next:
            raise ValueError(f"`timestep`={timestep!r} is not one of the sampler's timesteps {self.timesteps}")
        return self.schedule.ddim_step(
            model_output, t, self._next[t], sample, eta=self.eta, generator=generator, clip_sample=self.clip_sample
        )

    def __repr__(self):
        return f"DDIMSampler({self.schedule!r}, eta={self.eta}, clip_sample={self.clip_sample})"
