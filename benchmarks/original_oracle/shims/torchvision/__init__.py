"""Empty stand-in: model_res18.py imports torchvision.models but never uses it."""
from . import models  # noqa: F401
