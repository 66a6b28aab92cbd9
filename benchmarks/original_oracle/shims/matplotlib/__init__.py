"""Stand-in: utility_fun.py imports matplotlib.pyplot for plotting only; the oracle never plots."""
