// RUN: tt-opt %s | tt-opt | filecheck %s
// RUN: tt-opt %s --print-op-generic | tt-opt | filecheck %s

// Round trip of tt.expand_depthwise_grad_input (tt-fuse-expand-grad): without and with the
// fused bias update of the expand conv.
builtin.module {
  tt.param @dw : tensor<4x3x3x1xi8> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"dw">
  tt.param @ew : tensor<4x1x1x2xi8> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"ew">
  tt.param @eb : tensor<4xi32> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"eb">
  // CHECK-LABEL: func.func @f(
  func.func @f(%g: tensor<1x2x2x4xf32>, %m: tensor<1x4x4x4xi1>, %g1: tensor<2x4x4x4xf32>, %m1: tensor<2x4x4x4xi1>, %lr: f32) -> (tensor<1x4x4x2xf32>, tensor<2x4x4x2xf32>) {
    // CHECK-NEXT: %a = tt.expand_depthwise_grad_input %g, %m depthwise @dw expand @ew {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : tensor<1x2x2x4xf32>, tensor<1x4x4x4xi1> -> tensor<1x4x4x2xf32>
    %a = tt.expand_depthwise_grad_input %g, %m depthwise @dw expand @ew {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : tensor<1x2x2x4xf32>, tensor<1x4x4x4xi1> -> tensor<1x4x4x2xf32>
    // CHECK-NEXT: %b = tt.expand_depthwise_grad_input %g1, %m1 depthwise @dw expand @ew bias_update @eb, %lr {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, power = -1 : i64, grad_scale = 1.000000e+00 : f32, rounding = "stochastic"} : tensor<2x4x4x4xf32>, tensor<2x4x4x4xi1> -> tensor<2x4x4x2xf32>
    %b = tt.expand_depthwise_grad_input %g1, %m1 depthwise @dw expand @ew bias_update @eb, %lr {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, power = -1 : i64, grad_scale = 1.0 : f32, rounding = "stochastic"} : tensor<2x4x4x4xf32>, tensor<2x4x4x4xi1> -> tensor<2x4x4x2xf32>
    // CHECK-NEXT: func.return %a, %b
    func.return %a, %b : tensor<1x4x4x2xf32>, tensor<2x4x4x2xf32>
  }
}
