"""shelfsense models: synthetic shelves, training, export and the shipped detector.

- `synth`: the synthetic shelf renderer and the simulated store shelf.
- `yolo_dataset`, `tile_dataset`: datasets on disk in Ultralytics' layout.
- `train`, `pretrained`: training from a model yaml or a shipped checkpoint.
- `export`, `dfl_softmax`, `quantize`, `pixel_input`: ONNX export and the int8 twin.
- `evaluate`, `bench`: accuracy with the node's own detector, and speed side by side.
- `cli`: `shelf-model`.

May import anything, including torch, ultralytics and `edge`'s detector. Light on
purpose: importing `models` or `models.synth` never imports torch or ultralytics, and
nothing at run time imports `models` except `models.synth` (the demo and the simulator
camera source; checked by `make lint`).
"""
