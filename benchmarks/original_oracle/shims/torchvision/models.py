"""Empty stand-in: imported by model_res18.py, unused by VT_AE and test-time scoring."""
