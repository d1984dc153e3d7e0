"""Turning reader output into LLaMA-Factory training files: cleaning, splitting, writing, dataset_info.json."""
