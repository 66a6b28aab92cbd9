"""Stand-in: utility_fun.py imports skimage.measure.label for selectMaxConnect only; unused here."""
