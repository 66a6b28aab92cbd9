"""Stand-in: utility_fun.py imports cv2 for binImage only; the oracle never calls it."""


def __getattr__(name):
    raise RuntimeError(f"cv2 shim: cv2.{name} is not available in the oracle")
