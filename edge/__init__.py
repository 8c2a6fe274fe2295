"""The camera node: everything that runs on the Raspberry Pi.

- Shared with the gateway: `contract` (topics, payloads and their JSON Schemas, the
  compliance score, broker and config-file rules) and `layout` (shelf rows and slots,
  GTIN check digits).
- Each frame: `sources` (camera backends) -> `motion` (the gate: what stands in front)
  -> `detector` (ONNX Runtime, with `postprocess`, `tiling`, `image_decode`) ->
  `analysis` (slot states, smoothing, events) and `appearance` (wrong product, untidy),
  composed by `pipeline`.
- Out: `publisher` (the MQTT client) with its durable `outbox`, `health`, `snapshot`
  (on request, people blurred) and `calibration` (a layout proposed from a photo).
- `settings` (the node's YAML config), `node` (the main loop), `cli` (`shelf-node`),
  `smoke_test` (`shelf-node smoke-test`: the installer's check of camera, model, broker).

May import numpy, OpenCV, onnxruntime and paho-mqtt; never `gateway`, `models`, torch
or ultralytics, except the simulator source's lazy `models.synth` (checked by
`make lint`).
"""
