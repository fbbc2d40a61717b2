#!/usr/bin/env python3
"""Make fully int8 TFLite test models from Keras definitions (random weights, random calibration).

Each model is built in Keras with seeded random weights (BatchNormalization statistics randomised
too, so that the folded convs are not all alike), then converted by TensorFlow's TFLite converter
with full-integer post-training quantization: per-channel int8 weights, int8 activations, int32
biases, int8 input and output (`--float-io` models keep float32 edges: a QUANTIZE first and a
DEQUANTIZE last). Calibration: seeded random images, uniform in [-1, 1].

- `mobilenet_v2`: keras.applications.MobileNetV2, alpha 0.35, 96x96x3, a 10-class head;
- `mobilenet_v3_small`: MobileNetV3-Small-like blocks at 96x96x3 (hard-swish stem and blocks,
  squeeze-and-excitation with sigmoid gates, residual adds, 3x3 / 5x5 depthwise convs);
- `resnet8`: the MLPerf Tiny image-classification ResNet-8 (32x32x3, three residual stacks of 16,
  32 and 64 channels, a strided 1x1 projection, 8x8 average pooling, flatten, dense);
- `ds_cnn`: the MLPerf Tiny keyword-spotting DS-CNN (49x10x1 MFCCs, a 10x4 stride-2 conv, four
  depthwise-separable blocks, 25x5 average pooling, flatten, dense);
- `layers`: a small net with the other supported ops (explicit symmetric and asymmetric zero
  padding, max pooling, concatenation, sigmoid gate multiply, flatten of a spatial map into a
  dense layer), with float32 input and output (QUANTIZE / DEQUANTIZE edges);
- `tiny` (not made by default): a 3 KB net of most ops, the seed the fuzzer mutates
  (tests/data/tiny.tflite, made with `--out tests/data tiny`).

The classifiers end in softmax, as deployed models do (tt drops it on import).
TensorFlow is only needed here and in the tests (`pip install tensorflow-cpu==2.21.0`).

Usage: python scripts/make_tflite_models.py [--out DIR] [NAME ...]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

MODEL_NAMES = ("mobilenet_v2", "mobilenet_v3_small", "resnet8", "ds_cnn", "layers")
FLOAT_IO = ("layers",)
CALIBRATION_SAMPLES = 16
SEED = 0


def _quiet_tensorflow() -> Any:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    return tf


# --------------------------------------------------------------------------- Keras definitions


def _mobilenet_v2(keras: Any) -> Any:
    return keras.applications.MobileNetV2(
        input_shape=(96, 96, 3), alpha=0.35, weights=None, classes=10, classifier_activation="softmax"
    )


def _conv_bn(keras: Any, x: Any, filters: int, kernel: Any, stride: int = 1, act: str | None = "relu") -> Any:
    layers = keras.layers
    x = layers.Conv2D(filters, kernel, strides=stride, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.Activation(act)(x) if act else x


def _depthwise_bn(keras: Any, x: Any, kernel: int, stride: int, act: str) -> Any:
    layers = keras.layers
    x = layers.DepthwiseConv2D(kernel, strides=stride, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.Activation(act)(x)


def _squeeze_excite(keras: Any, x: Any, squeezed: int) -> Any:
    layers = keras.layers
    channels = x.shape[-1]
    s = layers.GlobalAveragePooling2D(keepdims=True)(x)
    s = layers.Conv2D(squeezed, 1, activation="relu")(s)
    s = layers.Conv2D(channels, 1, activation="sigmoid")(s)
    return layers.Multiply()([x, s])


def _mobilenet_v3_small(keras: Any) -> Any:
    """MobileNetV3-Small's first blocks (Howard et al. 2019, table 2) at width 0.5, SE gates sigmoid."""
    layers = keras.layers
    image = keras.Input((96, 96, 3))
    x = _conv_bn(keras, image, 8, 3, 2, "hard_swish")
    # (expansion, out, kernel, stride, se, activation)
    blocks = [
        (8, 8, 3, 2, True, "relu"),
        (36, 12, 3, 2, False, "relu"),
        (44, 12, 3, 1, False, "relu"),
        (48, 20, 5, 2, True, "hard_swish"),
        (120, 20, 5, 1, True, "hard_swish"),
    ]
    for expansion, out, kernel, stride, se, act in blocks:
        inputs = x
        if expansion != x.shape[-1]:
            x = _conv_bn(keras, x, expansion, 1, 1, act)
        x = _depthwise_bn(keras, x, kernel, stride, act)
        if se:
            x = _squeeze_excite(keras, x, max(8, expansion // 4))
        x = _conv_bn(keras, x, out, 1, 1, None)
        if stride == 1 and inputs.shape[-1] == out:
            x = layers.Add()([inputs, x])
    x = _conv_bn(keras, x, 96, 1, 1, "hard_swish")
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(64, activation="hard_swish")(x)
    x = layers.Dense(10, activation="softmax")(x)
    return keras.Model(image, x)


def _resnet8(keras: Any) -> Any:
    """MLPerf Tiny's ResNet-8 for CIFAR-10 (eembc/energyrunner, training/image_classification)."""
    layers = keras.layers
    image = keras.Input((32, 32, 3))
    x = _conv_bn(keras, image, 16, 3)
    for filters, stride in ((16, 1), (32, 2), (64, 2)):
        y = _conv_bn(keras, x, filters, 3, stride)
        y = _conv_bn(keras, y, filters, 3, 1, None)
        if stride != 1:
            x = layers.Conv2D(filters, 1, strides=stride, padding="same")(x)
        x = layers.Activation("relu")(layers.Add()([x, y]))
    x = layers.AveragePooling2D(pool_size=x.shape[1:3])(x)
    x = layers.Flatten()(x)
    x = layers.Dense(10, activation="softmax")(x)
    return keras.Model(image, x)


def _ds_cnn(keras: Any) -> Any:
    """MLPerf Tiny's DS-CNN for keyword spotting (49 frames x 10 MFCCs, 12 classes)."""
    layers = keras.layers
    mfcc = keras.Input((49, 10, 1))
    x = _conv_bn(keras, mfcc, 64, (10, 4), 2)
    for _ in range(4):
        x = _depthwise_bn(keras, x, 3, 1, "relu")
        x = _conv_bn(keras, x, 64, 1)
    x = layers.AveragePooling2D(pool_size=x.shape[1:3])(x)
    x = layers.Flatten()(x)
    x = layers.Dense(12, activation="softmax")(x)
    return keras.Model(mfcc, x)


def _layers(keras: Any) -> Any:
    """The remaining ops: explicit padding, max pooling, concatenation, a sigmoid gate, flatten."""
    layers = keras.layers
    image = keras.Input((20, 20, 4))
    x = layers.ZeroPadding2D(1)(image)
    x = layers.Conv2D(16, 3, activation="relu6")(x)
    x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
    a = layers.Conv2D(8, 1, activation="relu")(x)
    b = layers.ZeroPadding2D(((2, 1), (2, 1)))(x)  # not SAME: stays a PAD op
    b = layers.DepthwiseConv2D(4, activation="relu")(b)
    b = layers.Conv2D(8, 1, activation="relu")(b)
    x = layers.Concatenate()([a, b])
    gate = layers.Conv2D(16, 1, activation="sigmoid")(x)
    x = layers.Multiply()([x, gate])
    x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(6, activation="softmax")(x)
    return keras.Model(image, x)


def _tiny(keras: Any) -> Any:
    """A few kilobytes of most ops: the fuzzer's seed."""
    layers = keras.layers
    image = keras.Input((8, 8, 3))
    x = layers.Conv2D(4, 3, strides=2, padding="same", activation="relu")(image)
    x = layers.ZeroPadding2D(((2, 1), (2, 1)))(x)
    x = layers.DepthwiseConv2D(4, activation="hard_swish")(x)
    gate = layers.GlobalAveragePooling2D(keepdims=True)(x)
    gate = layers.Conv2D(4, 1, activation="sigmoid")(gate)
    x = layers.Multiply()([x, gate])
    x = layers.Add()([x, layers.Conv2D(4, 1)(x)])
    x = layers.Concatenate()([x, x])
    x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(3, activation="softmax")(x)
    return keras.Model(image, x)


BUILDERS: dict[str, Callable[[Any], Any]] = {
    "mobilenet_v2": _mobilenet_v2,
    "mobilenet_v3_small": _mobilenet_v3_small,
    "resnet8": _resnet8,
    "ds_cnn": _ds_cnn,
    "layers": _layers,
    "tiny": _tiny,
}


def _randomize_batchnorm(keras: Any, model: Any, rng: np.random.Generator) -> None:
    """Random BatchNormalization statistics (a trained network's are not 0 and 1)."""
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            channels = layer.gamma.shape[0]
            layer.gamma.assign(rng.uniform(0.5, 1.5, channels).astype(np.float32))
            layer.beta.assign(rng.normal(0.0, 0.2, channels).astype(np.float32))
            layer.moving_mean.assign(rng.normal(0.0, 0.2, channels).astype(np.float32))
            layer.moving_variance.assign(rng.uniform(0.5, 2.0, channels).astype(np.float32))


def calibration_images(shape: tuple[int, ...], count: int, seed: int) -> np.ndarray:
    """Seeded random images uniform in [-1, 1], float32 NHWC."""
    rng = np.random.default_rng(seed)
    return rng.uniform(-1.0, 1.0, size=(count, *shape)).astype(np.float32)


def build_model(name: str, seed: int = SEED) -> Any:
    """The Keras model `name` with seeded random weights."""
    _quiet_tensorflow()
    import keras

    keras.utils.set_random_seed(seed)
    model = BUILDERS[name](keras)
    _randomize_batchnorm(keras, model, np.random.default_rng(seed))
    return model


def convert(model: Any, float_io: bool = False, seed: int = SEED) -> bytes:
    """Full-integer post-training quantization of a Keras model (int8 in/out unless float_io)."""
    tf = _quiet_tensorflow()
    shape = tuple(int(d) for d in model.input_shape[1:])
    images = calibration_images(shape, CALIBRATION_SAMPLES, seed + 1)

    def representative() -> Iterator[list[np.ndarray]]:
        for image in images:
            yield [image[None]]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    if not float_io:
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "statistics for quantized inputs were expected"
        return bytes(converter.convert())


def _silenced(action: Callable[[], bytes]) -> bytes:
    """Run `action` with file descriptors 1 and 2 pointed at /dev/null (the converter prints)."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        os.dup2(null, 2)
        return action()
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, null):
            os.close(fd)


def make_model(name: str, folder: Path, seed: int = SEED, quiet: bool = True) -> Path:
    """Write `folder/NAME.tflite` and return its path."""
    if name not in BUILDERS:
        raise ValueError(f"unknown model '{name}' (known: {', '.join(MODEL_NAMES)})")
    model = build_model(name, seed)

    def action() -> bytes:
        return convert(model, name in FLOAT_IO, seed)

    data = _silenced(action) if quiet else action()
    path = folder / f"{name}.tflite"
    path.write_bytes(data)
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "names", nargs="*", choices=[[], *BUILDERS], help=f"models (default: {', '.join(MODEL_NAMES)})"
    )
    parser.add_argument("--out", default=".", help="output folder (default: the current one)")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    folder = Path(args.out)
    folder.mkdir(parents=True, exist_ok=True)
    for name in args.names or MODEL_NAMES:
        start = time.perf_counter()
        path = make_model(name, folder, args.seed)
        size = path.stat().st_size
        print(f"{path}: {size / 1024:.0f} KB in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
