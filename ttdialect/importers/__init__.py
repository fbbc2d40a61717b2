"""Importers: published tiny-training int8 model files, the model zoo, and PyTorch modules."""
