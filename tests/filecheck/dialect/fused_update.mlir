// RUN: tt-opt %s | tt-opt | filecheck %s
// RUN: tt-opt %s --print-op-generic | tt-opt | filecheck %s

// Round trip of the fused update ops.
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"w">
  tt.param @dw : tensor<4x3x3x1xi8> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"dw">
  tt.param @fc : tensor<3x4xi8> scales dense<[1.0, 2.0, 3.0]> : tensor<3xf32> = #tt.external<"fc">
  tt.param @b : tensor<4xi32> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"b">
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>, %g: tensor<1x4x4x4xf32>, %x4: !tt.qtensor<1x4x4x4, 0.5:1>, %v: !tt.qtensor<1x4, 0.25:0>, %gv: tensor<1x3xf32>, %lr: f32) {
    // CHECK:      tt.conv2d_weight_update @w, %x, %g, %lr {power = -1 : i64, grad_scale = 1.000000e+00 : f32, rounding = "stochastic", kernel = array<i64: 3, 3>, stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64} : !tt.qtensor<1x4x4x2, 0.5:-3>, tensor<1x4x4x4xf32>
    tt.conv2d_weight_update @w, %x, %g, %lr {power = -1 : i64, grad_scale = 1.0 : f32, rounding = "stochastic", kernel = array<i64: 3, 3>, stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64} : !tt.qtensor<1x4x4x2, 0.5:-3>, tensor<1x4x4x4xf32>
    // CHECK-NEXT: tt.conv2d_weight_update @w, %x, %g, %lr {power = 1 : i64, grad_scale = 2.000000e+00 : f32, rounding = "nearest", channels = array<i64: 1>, kernel = array<i64: 3, 3>, stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64}
    tt.conv2d_weight_update @w, %x, %g, %lr {power = 1 : i64, grad_scale = 2.0 : f32, rounding = "nearest", channels = array<i64: 1>, kernel = array<i64: 3, 3>, stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64} : !tt.qtensor<1x4x4x2, 0.5:-3>, tensor<1x4x4x4xf32>
    // CHECK-NEXT: tt.conv2d_weight_update @dw, %x4, %g, %lr {power = 0 : i64, grad_scale = 1.000000e+00 : f32, rounding = "truncate", channels = array<i64: 0, 2>, kernel = array<i64: 3, 3>, stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 4 : i64}
    tt.conv2d_weight_update @dw, %x4, %g, %lr {power = 0 : i64, grad_scale = 1.0 : f32, rounding = "truncate", channels = array<i64: 0, 2>, kernel = array<i64: 3, 3>, stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 4 : i64} : !tt.qtensor<1x4x4x4, 0.5:1>, tensor<1x4x4x4xf32>
    // CHECK-NEXT: tt.linear_weight_update @fc, %v, %gv, %lr {power = -1 : i64, grad_scale = 1.000000e+00 : f32, rounding = "stochastic", channels = array<i64: 0, 3>} : !tt.qtensor<1x4, 0.25:0>, tensor<1x3xf32>
    tt.linear_weight_update @fc, %v, %gv, %lr {power = -1 : i64, grad_scale = 1.0 : f32, rounding = "stochastic", channels = array<i64: 0, 3>} : !tt.qtensor<1x4, 0.25:0>, tensor<1x3xf32>
    // CHECK-NEXT: tt.bias_update @b, %g, %lr {power = -1 : i64, grad_scale = 1.000000e+00 : f32, rounding = "stochastic"} : tensor<1x4x4x4xf32>
    tt.bias_update @b, %g, %lr {power = -1 : i64, grad_scale = 1.0 : f32, rounding = "stochastic"} : tensor<1x4x4x4xf32>
    func.return
  }
}
