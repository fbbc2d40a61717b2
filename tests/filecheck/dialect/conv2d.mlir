// RUN: tt-opt %s | tt-opt | filecheck %s
// RUN: tt-opt %s --print-op-generic | tt-opt | filecheck %s

builtin.module {
  tt.param @"c.weight" : tensor<4x3x3x2xi8> scales dense<[0.1, 0.2, 0.3, 0.4]> : tensor<4xf32> = #tt.external<"c.weight">
  tt.param @"c.bias" : tensor<4xi32> scales dense<1.0e-03> : tensor<4xf32> = dense<[1, 2, 3, 4]> : tensor<4xi32>
  func.func @forward(%x: !tt.qtensor<1x8x8x2, 0.5:-3>) -> !tt.qtensor<1x4x4x4, 0.25:-128> {
    %y = tt.conv2d %x, @"c.weight", @"c.bias" {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, groups = 1 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x8x8x2, 0.5:-3> -> !tt.qtensor<1x4x4x4, 0.25:-128>
    func.return %y : !tt.qtensor<1x4x4x4, 0.25:-128>
  }
}

// CHECK:      tt.param @c.weight : tensor<4x3x3x2xi8> scales dense<[1.000000e-01, 2.000000e-01, 3.000000e-01, 4.000000e-01]> : tensor<4xf32> = #tt.external<"c.weight">
// CHECK-NEXT: tt.param @c.bias : tensor<4xi32> scales dense<1.000000e-03> : tensor<4xf32> = dense<[1, 2, 3, 4]> : tensor<4xi32>
// CHECK:      %y = tt.conv2d %x, @c.weight, @c.bias {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, groups = 1 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x8x8x2, 0.5:-3> -> !tt.qtensor<1x4x4x4, 0.25:-128>
