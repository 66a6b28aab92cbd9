"""Stand-in: any use fails loudly (the oracle never plots)."""


def __getattr__(name):
    raise RuntimeError(f"matplotlib shim: pyplot.{name} is not available in the oracle")
