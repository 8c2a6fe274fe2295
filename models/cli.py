"""`shelf-model`: make synthetic data, train, validate and export the shelf detector."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

EPILOG = """\
Typical use (no GPU needed; everything runs offline):
  shelf-model render --count 1000 --out data/synth
  shelf-model train --data data/synth/data.yaml --epochs 30 --imgsz 320 --out runs/shelf
  shelf-model export --weights runs/shelf/train/weights/best.pt --imgsz 320 --out my-shelf.onnx
Retraining on a store's own photos: label them in YOLO format with the classes
0 gap, 1 messy, write a data.yaml, train with --weights models/<checkpoint>.pt to
fine-tune, export, and set `detector.model` in the node's config to the new file.
"""


def _render(args: argparse.Namespace) -> int:
    from models.synth import render_dataset

    data = render_dataset(args.out, args.count, seed=args.seed, size=(args.width, args.height))
    print(data)
    return 0


def _train(args: argparse.Namespace) -> int:
    from models.train import TrainRecipe, train

    data = args.data
    if data is None:
        if not args.synthetic:
            print("shelf-model train: give --data DATA_YAML or --synthetic N", file=sys.stderr)
            return 2
        from models.synth import render_dataset

        root = Path(args.synthetic_dir or tempfile.mkdtemp(prefix="shelfsense-synth-"))
        data = render_dataset(root, args.synthetic, seed=args.seed)
    recipe = TrainRecipe(
        data=Path(data),
        epochs=args.epochs,
        imgsz=args.imgsz,
        batch=args.batch,
        seed=args.seed,
        workers=args.workers,
        weights=args.weights,
        **({"model": args.model} if args.model else {}),
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shelf-model",
        description="Train and export the shelfsense shelf detector (gap and messy boxes).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("render", help="write a synthetic YOLO dataset from the shelf renderer")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--count", type=int, default=1000, help="images (default 1000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--width", type=int, default=640)
    p.add_argument("--height", type=int, default=480)
    p.set_defaults(handler=_render)

    p = sub.add_parser("train", help="train from the model yaml (no pretrained weights)")
    p.add_argument("--data", type=Path, help="YOLO data.yaml (classes 0 gap, 1 messy)")
    p.add_argument("--synthetic", type=int, default=0, help="render N synthetic images to train on")
    p.add_argument("--synthetic-dir", type=Path, help="where to render them (default: temp)")
    p.add_argument(
        "--model", type=Path, help="model yaml (default: models/shelfsense-yolov8n.yaml)"
    )
    p.add_argument("--weights", type=Path, help="start from this checkpoint (fine-tuning)")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--imgsz", type=int, default=320)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path("runs/shelf"), help="runs folder")
    p.add_argument("--name", default="train", help="run name inside --out")
    p.add_argument("--export", type=Path, metavar="ONNX", help="also export the best weights here")
    p.set_defaults(handler=_train)

    p = sub.add_parser("export", help="export a checkpoint to ONNX for the node")
    p.add_argument("--weights", type=Path, required=True)
    p.add_argument("--imgsz", type=int, default=320)
    p.add_argument("--out", type=Path, required=True)
    p.set_defaults(handler=_export)

    p = sub.add_parser("val", help="Ultralytics' own validation of a checkpoint (AP50 per class)")
    p.add_argument("--weights", type=Path, required=True)
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--imgsz", type=int, default=320)
    p.add_argument("--split", default="val")
    p.set_defaults(handler=_val)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
