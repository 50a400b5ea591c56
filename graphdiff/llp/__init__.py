"""Learning from label proportions by belief propagation (Havaldar et al., ICLR 2024, arXiv:2310.08056)."""
