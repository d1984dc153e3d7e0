"""Speed and memory benchmarks (training and prediction): random-weight models of the real shapes, run through LLaMA-Factory.

``architectures`` knows the published shapes and builds random-weight models offline; ``flops`` counts the
FLOPs of a LoRA/QLoRA training step; ``meter`` is the Trainer callback that times steps and counts real tokens;
``synthetic`` writes the length-controlled data; ``suite`` runs configs side by side and writes the report.
Prediction: ``predict_suite`` runs do_predict, model.generate and the engine side by side, ``predict_worker`` is the
project's side in one process, ``predict_model`` writes the stop-calibrated adapters.
"""
