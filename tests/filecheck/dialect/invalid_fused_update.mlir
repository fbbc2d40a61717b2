// RUN: tt-opt %s --split-input-file --verify-diagnostics | filecheck %s

// Verifier errors of the fused update ops, one per chunk.

builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>, %g: tensor<1x4x4x4xf32>, %lr: f32) {
    // CHECK: {{.*}}invalid_fused_update.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d_weight_update' op rounding must be one of stochastic, nearest, truncate, got 'up'
    tt.conv2d_weight_update @w, %x, %g, %lr {power = -1 : i64, grad_scale = 1.0 : f32, rounding = "up", kernel = array<i64: 3, 3>, stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64} : !tt.qtensor<1x4x4x2, 0.5:-3>, tensor<1x4x4x4xf32>
    func.return
  }
}

// -----

// the kernel does not match the parameter
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>, %g: tensor<1x4x4x4xf32>, %lr: f32) {
    // CHECK: {{.*}}invalid_fused_update.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d_weight_update' op grad shape (4, 1, 1, 2) does not match the updated slice (4, 3, 3, 2)
    tt.conv2d_weight_update @w, %x, %g, %lr {power = -1 : i64, grad_scale = 1.0 : f32, rounding = "stochastic", kernel = array<i64: 1, 1>, stride = array<i64: 1, 1>, padding = array<i64: 0, 0>, groups = 1 : i64} : !tt.qtensor<1x4x4x2, 0.5:-3>, tensor<1x4x4x4xf32>
    func.return
  }
}

// -----

// an input channel out of range
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>, %g: tensor<1x4x4x4xf32>, %lr: f32) {
    // CHECK: {{.*}}invalid_fused_update.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d_weight_update' op input channel subset must lie in [0, 2), got [2]
    tt.conv2d_weight_update @w, %x, %g, %lr {power = -1 : i64, grad_scale = 1.0 : f32, rounding = "stochastic", channels = array<i64: 2>, kernel = array<i64: 3, 3>, stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64} : !tt.qtensor<1x4x4x2, 0.5:-3>, tensor<1x4x4x4xf32>
    func.return
  }
}

// -----

// a linear update whose gradient rows do not match the parameter
builtin.module {
  tt.param @fc : tensor<3x4xi8> scales dense<[1.0, 2.0, 3.0]> : tensor<3xf32> = #tt.external<"fc">
  func.func @f(%v: !tt.qtensor<1x4, 0.25:0>, %gv: tensor<1x5xf32>, %lr: f32) {
    // CHECK: {{.*}}invalid_fused_update.mlir:[[# @LINE + 1]]:5: error: 'tt.linear_weight_update' op grad shape (5, 4) does not match the updated slice (3, 4)
    tt.linear_weight_update @fc, %v, %gv, %lr {power = -1 : i64, grad_scale = 1.0 : f32, rounding = "stochastic"} : !tt.qtensor<1x4, 0.25:0>, tensor<1x5xf32>
    func.return
  }
}

// -----

// a bias update on a parameter with a different channel count
builtin.module {
  tt.param @b : tensor<4xi32> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"b">
  func.func @f(%g: tensor<1x2x2x8xf32>, %lr: f32) {
    // CHECK: {{.*}}invalid_fused_update.mlir:[[# @LINE + 1]]:5: error: 'tt.bias_update' op grad shape (8,) does not match the updated slice (4,)
    tt.bias_update @b, %g, %lr {power = -1 : i64, grad_scale = 1.0 : f32, rounding = "stochastic"} : tensor<1x2x2x8xf32>
    func.return
  }
}

// -----

// an unknown parameter
builtin.module {
  func.func @f(%g: tensor<1x2x2x8xf32>, %lr: f32) {
    // CHECK: {{.*}}invalid_fused_update.mlir:[[# @LINE + 1]]:5: error: 'tt.bias_update' op @missing does not name a tt.param in the enclosing module
    tt.bias_update @missing, %g, %lr {power = -1 : i64, grad_scale = 1.0 : f32, rounding = "stochastic"} : tensor<1x2x2x8xf32>
    func.return
  }
}
