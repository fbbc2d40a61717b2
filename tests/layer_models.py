"""CNN architectures with the layers of issue 16, written here from their papers (torchvision is not
installable beside the pinned torch), with a width multiplier so that tests stay small:

- `mobilenet_v3_small`: MobileNetV3-Small (Howard et al., "Searching for MobileNetV3", 2019,
  table 2): hard-swish stem, eleven inverted-residual bottlenecks with 3x3 / 5x5 depthwise convs,
  ReLU or hard-swish, squeeze-and-excitation (global pool, 1x1 conv to a quarter of the channels,
  ReLU, 1x1 conv back, hard-sigmoid gate, multiply) where the table says so, a 1x1 conv, global
  pooling and a two-layer hard-swish classifier;
- `resnet18`: ResNet-18 (He et al., "Deep Residual Learning for Image Recognition", 2016): 7x7
  stride-2 stem, 3x3 stride-2 max pooling, four stages of two basic blocks (3x3 - 3x3 + skip; a
  strided 1x1 projection where the shape changes), global pooling, linear classifier;
- `squeezenet1_1`: SqueezeNet 1.1 (Iandola et al., "SqueezeNet", 2016, and the v1.1 layout of
  its repository): 3x3 stride-2 stem, fire modules (1x1 squeeze, then 1x1 and 3x3 expands
  concatenated on channels) between 3x3 stride-2 max pools in ceil mode, a 1x1 conv classifier,
  ReLU and global average pooling;
- `se_cnn`: a plain CNN with squeeze-and-excitation blocks (Hu et al., "Squeeze-and-Excitation
  Networks", 2018: global pool, linear to C/r, ReLU, linear back, sigmoid, channel-wise scale),
  2x2 average pooling between stages and a flatten of the final 4x4 map into a linear layer.
- `every_layer_net`: a tiny network using every new layer at once (the gradient and lowering
  tests' model).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def scaled(channels: int, width: float, divisor: int = 4) -> int:
    """Channels times the width multiplier, rounded to a multiple of `divisor` (at least one)."""
    return max(divisor, int(channels * width + divisor / 2) // divisor * divisor)


def conv_bn(cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1, act: type | None = nn.ReLU):
    layers: list[nn.Module] = [
        nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
    ]
    if act is not None:
        layers.append(act())
    return nn.Sequential(*layers)


# --------------------------------------------------------------------------- MobileNetV3-Small


class SqueezeExcite(nn.Module):
    """Global pool, 1x1 conv to `squeezed` channels, ReLU, 1x1 conv back, gate, channel-wise scale."""

    def __init__(self, channels: int, squeezed: int, gate: type = nn.Hardsigmoid):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, squeezed, 1)
        self.relu = nn.ReLU()
        self.fc2 = nn.Conv2d(squeezed, channels, 1)
        self.gate = gate()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gate(self.fc2(self.relu(self.fc1(self.pool(x)))))


class Bneck(nn.Module):
    """MobileNetV3 bottleneck: [1x1 expand] -> depthwise kxk -> [SE] -> 1x1 project (+ skip)."""

    def __init__(self, cin: int, kernel: int, expand: int, cout: int, se: bool, act: type, stride: int):
        super().__init__()
        layers: list[nn.Module] = []
        if expand != cin:
            layers.append(conv_bn(cin, expand, 1, act=act))
        layers.append(conv_bn(expand, expand, kernel, stride, groups=expand, act=act))
        if se:
            layers.append(SqueezeExcite(expand, scaled(expand / 4, 1.0, 8)))
        layers.append(conv_bn(expand, cout, 1, act=None))
        self.block = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.block(x)
        return x + y if self.residual else y


MBV3_SMALL = [
    # kernel, expansion, output, SE, activation, stride (the paper's table 2)
    (3, 16, 16, True, nn.ReLU, 2),
    (3, 72, 24, False, nn.ReLU, 2),
    (3, 88, 24, False, nn.ReLU, 1),
    (5, 96, 40, True, nn.Hardswish, 2),
    (5, 240, 40, True, nn.Hardswish, 1),
    (5, 240, 40, True, nn.Hardswish, 1),
    (5, 120, 48, True, nn.Hardswish, 1),
    (5, 144, 48, True, nn.Hardswish, 1),
    (5, 288, 96, True, nn.Hardswish, 2),
    (5, 576, 96, True, nn.Hardswish, 1),
    (5, 576, 96, True, nn.Hardswish, 1),
]


class MobileNetV3Small(nn.Module):
    def __init__(self, num_classes: int = 10, width: float = 1.0, last: int = 1024):
        super().__init__()
        stem = scaled(16, width, 8)
        layers: list[nn.Module] = [conv_bn(3, stem, 3, 2, act=nn.Hardswish)]
        cin = stem
        for kernel, expand, cout, se, act, stride in MBV3_SMALL:
            out = scaled(cout, width, 8)
            layers.append(Bneck(cin, kernel, scaled(expand, width, 8), out, se, act, stride))
            cin = out
        head = scaled(576, width, 8)
        layers.append(conv_bn(cin, head, 1, act=nn.Hardswish))
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(
            nn.Linear(head, scaled(last, width, 8)),
            nn.Hardswish(),
            nn.Dropout(0.2),
            nn.Linear(scaled(last, width, 8), num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.pool(self.features(x)), 1))


def mobilenet_v3_small(num_classes: int = 10, width: float = 1.0) -> nn.Module:
    return MobileNetV3Small(num_classes, width)


# --------------------------------------------------------------------------- ResNet-18


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        skip = x if self.downsample is None else self.downsample(x)
        return self.relu(y + skip)


class ResNet18(nn.Module):
    def __init__(self, num_classes: int = 10, width: float = 1.0):
        super().__init__()
        widths = [scaled(c, width) for c in (64, 128, 256, 512)]
        self.conv1 = nn.Conv2d(3, widths[0], 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        stages = []
        cin = widths[0]
        for index, cout in enumerate(widths):
            stride = 1 if index == 0 else 2
            stages.append(nn.Sequential(BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)))
            cin = cout
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def resnet18(num_classes: int = 10, width: float = 1.0) -> nn.Module:
    return ResNet18(num_classes, width)


# --------------------------------------------------------------------------- SqueezeNet 1.1


class Fire(nn.Module):
    def __init__(self, cin: int, squeeze: int, expand1x1: int, expand3x3: int):
        super().__init__()
        self.squeeze = nn.Conv2d(cin, squeeze, 1)
        self.squeeze_activation = nn.ReLU()
        self.expand1x1 = nn.Conv2d(squeeze, expand1x1, 1)
        self.expand1x1_activation = nn.ReLU()
        self.expand3x3 = nn.Conv2d(squeeze, expand3x3, 3, padding=1)
        self.expand3x3_activation = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.squeeze_activation(self.squeeze(x))
        return torch.cat(
            [self.expand1x1_activation(self.expand1x1(x)), self.expand3x3_activation(self.expand3x3(x))], 1
        )


class SqueezeNet11(nn.Module):
    def __init__(self, num_classes: int = 10, width: float = 1.0):
        super().__init__()

        def fire(cin: int, squeeze: int, expand: int) -> Fire:
            return Fire(
                scaled(cin, width), scaled(squeeze, width), scaled(expand, width), scaled(expand, width)
            )

        self.features = nn.Sequential(
            nn.Conv2d(3, scaled(64, width), 3, 2),
            nn.ReLU(),
            nn.MaxPool2d(3, 2, ceil_mode=True),
            fire(64, 16, 64),
            fire(128, 16, 64),
            nn.MaxPool2d(3, 2, ceil_mode=True),
            fire(128, 32, 128),
            fire(256, 32, 128),
            nn.MaxPool2d(3, 2, ceil_mode=True),
            fire(256, 48, 192),
            fire(384, 48, 192),
            fire(384, 64, 256),
            fire(512, 64, 256),
        )
        self.classifier = nn.Sequential(
            nn.Dropout(0.5),
            nn.Conv2d(scaled(512, width), num_classes, 1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d((1, 1)),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.flatten(self.classifier(self.features(x)), 1)


def squeezenet1_1(num_classes: int = 10, width: float = 1.0) -> nn.Module:
    return SqueezeNet11(num_classes, width)


# --------------------------------------------------------------------------- CNN with SE blocks


class SEBlock(nn.Module):
    """Conv-BN-ReLU, then squeeze-and-excitation with linear layers and a sigmoid gate."""

    def __init__(self, cin: int, cout: int, reduction: int = 4):
        super().__init__()
        self.conv = conv_bn(cin, cout, 3)
        self.fc1 = nn.Linear(cout, max(1, cout // reduction))
        self.fc2 = nn.Linear(max(1, cout // reduction), cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        s = F.adaptive_avg_pool2d(x, 1).flatten(1)
        s = torch.sigmoid(self.fc2(F.relu(self.fc1(s))))
        return x * s.view(s.size(0), -1, 1, 1)


class SECNN(nn.Module):
    def __init__(self, num_classes: int = 10, width: float = 1.0, size: int = 32):
        super().__init__()
        a, b, c = scaled(16, width), scaled(32, width), scaled(64, width)
        self.stage1 = SEBlock(3, a)
        self.stage2 = SEBlock(a, b)
        self.stage3 = SEBlock(b, c)
        self.pool = nn.AvgPool2d(2)
        side = size // 8
        self.fc = nn.Linear(c * side * side, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.stage1(x))
        x = self.pool(self.stage2(x))
        x = self.pool(self.stage3(x))
        return self.fc(torch.flatten(x, 1))


def se_cnn(num_classes: int = 10, width: float = 1.0, size: int = 32) -> nn.Module:
    return SECNN(num_classes, width, size)


# --------------------------------------------------------------------------- every layer at once


class EveryLayerNet(nn.Module):
    """Hard-swish stem, max pool, a fire module (concat of differently quantized branches), an
    average pool, an SE gate with hard-sigmoid, a second gate with sigmoid, and a flatten of a
    3x3 map into the classifier."""

    def __init__(self, num_classes: int = 5):
        super().__init__()
        self.stem = conv_bn(3, 8, 3, act=nn.Hardswish)
        self.pool = nn.MaxPool2d(3, 2, 1)
        self.squeeze = nn.Conv2d(8, 4, 1)
        self.left = nn.Conv2d(4, 6, 1)
        self.right = nn.Conv2d(4, 6, 3, padding=1)
        self.avg = nn.AvgPool2d(3, 2, 1, count_include_pad=False)
        self.fc1 = nn.Conv2d(12, 4, 1)
        self.fc2 = nn.Conv2d(4, 12, 1)
        self.classifier = nn.Linear(12 * 3 * 3, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.stem(x))
        s = F.relu(self.squeeze(x))
        x = torch.cat([F.relu(self.left(s)), self.right(s)], 1)
        x = self.avg(x)
        g = self.fc2(F.relu(self.fc1(x.mean((2, 3), keepdim=True))))
        x = x * F.hardsigmoid(g)
        x = x * torch.sigmoid(g)
        return self.classifier(x.flatten(1))


def every_layer_net(num_classes: int = 5) -> nn.Module:
    return EveryLayerNet(num_classes)


# --------------------------------------------------------------------------- helpers


def randomize_batchnorm(model: nn.Module, seed: int = 1) -> nn.Module:
    """Non-trivial eval-mode statistics for every BatchNorm2d; returns the model in eval mode."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                c = module.num_features
                module.running_mean.copy_(0.2 * torch.rand(c, generator=generator) - 0.1)
                module.running_var.copy_(0.5 + torch.rand(c, generator=generator))
                module.weight.copy_(0.7 + 0.6 * torch.rand(c, generator=generator))
                module.bias.copy_(0.4 * torch.rand(c, generator=generator) - 0.1)
    return model.eval()


def smooth_images(count: int, size: int, seed: int, channels: int = 3) -> np.ndarray:
    """Float NCHW images in about [-1, 1]: low-frequency waves plus a little noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    images = np.empty((count, channels, size, size))
    for n in range(count):
        for c in range(channels):
            fx, fy, phase = rng.uniform(0.3, 2.0), rng.uniform(0.3, 2.0), rng.uniform(0, 6.3)
            images[n, c] = np.sin(2 * np.pi * (fx * xx + fy * yy) + phase)
    images += rng.normal(0, 0.1, images.shape)
    return np.clip(images, -1, 1).astype(np.float32)
