"""Benchmarks of tflasso against scikit-learn, skglm, celer and TensorFlow first tries.

Run ``python benchmarks/run.py --help`` from the repository root.
"""
