"""Shared building blocks: propagation, coding rate, triplet graph convolution, diffusion schedules."""
