"""A tiny float CNN for the torch importer's filecheck test (`make()` is the factory).

stem: conv 3x3 + BatchNorm + ReLU6; block: depthwise 3x3 + ReLU, pointwise 1x1 (no bias),
residual add; global average pool; flatten; Linear. Deterministic (seeded initialisation,
BatchNorm with fixed running statistics).
"""

import torch
from torch import nn


class SmallNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU6())
        self.dw = nn.Conv2d(4, 4, 3, padding=1, groups=4)
        self.pw = nn.Conv2d(4, 4, 1, bias=False)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        x = x + self.pw(torch.relu(self.dw(x)))
        return self.fc(torch.flatten(self.pool(x), 1))


def make() -> nn.Module:
    torch.manual_seed(0)
    net = SmallNet()
    bn = net.stem[1]
    with torch.no_grad():
        bn.running_mean.copy_(torch.tensor([0.1, -0.2, 0.0, 0.3]))
        bn.running_var.copy_(torch.tensor([0.5, 1.5, 1.0, 2.0]))
    return net.eval()


def make_with_gelu() -> nn.Module:
    """SmallNet with an nn.GELU after the stem: not supported by the importer."""
    net = make()
    net.stem.append(nn.GELU())
    return net
