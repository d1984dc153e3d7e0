"""Evaluation: reading LLaMA-Factory's predictions, computing metrics, writing reports and plots."""
