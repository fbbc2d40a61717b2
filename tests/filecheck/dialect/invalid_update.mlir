// RUN: tt-opt %s --split-input-file --verify-diagnostics | filecheck %s

// Verifier errors of tt.sgd_update and tt.scale_grad, one per chunk.

// tt.sgd_update: unknown rounding mode
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%g: tensor<4x3x3x2xf32>, %lr: f32) {
    // CHECK: {{.*}}invalid_update.mlir:[[# @LINE + 1]]:5: error: 'tt.sgd_update' op rounding must be one of stochastic, nearest, truncate, got 'round'
    tt.sgd_update @w, %g, %lr {grad_scale = 1.000000e+00 : f32, rounding = "round"} : tensor<4x3x3x2xf32>
    func.return
  }
}

// -----

// tt.sgd_update: rounding mode is case sensitive
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%g: tensor<4x3x3x2xf32>, %lr: f32) {
    // CHECK: {{.*}}invalid_update.mlir:[[# @LINE + 1]]:5: error: 'tt.sgd_update' op rounding must be one of stochastic, nearest, truncate, got 'Nearest'
    tt.sgd_update @w, %g, %lr {grad_scale = 1.000000e+00 : f32, rounding = "Nearest"} : tensor<4x3x3x2xf32>
    func.return
  }
}

// -----

// tt.sgd_update: integer grad
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%g: tensor<4x3x3x2xi8>, %lr: f32) {
    // CHECK: {{.*}}invalid_update.mlir:[[# @LINE + 1]]:5: error: 'tt.sgd_update' op grad must be a tensor of f32, got tensor<4x3x3x2xi8>
    tt.sgd_update @w, %g, %lr {grad_scale = 1.000000e+00 : f32, rounding = "nearest"} : tensor<4x3x3x2xi8>
    func.return
  }
}

// -----

// tt.sgd_update: param symbol does not exist
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%g: tensor<4x3x3x2xf32>, %lr: f32) {
    // CHECK: {{.*}}invalid_update.mlir:[[# @LINE + 1]]:5: error: 'tt.sgd_update' op @nope does not name a tt.param in the enclosing module
    tt.sgd_update @nope, %g, %lr {grad_scale = 1.000000e+00 : f32, rounding = "nearest"} : tensor<4x3x3x2xf32>
    func.return
  }
}

// -----

// tt.sgd_update: param symbol names a function
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%g: tensor<4x3x3x2xf32>, %lr: f32) {
    // CHECK: {{.*}}invalid_update.mlir:[[# @LINE + 1]]:5: error: 'tt.sgd_update' op @f does not name a tt.param in the enclosing module
    tt.sgd_update @f, %g, %lr {grad_scale = 1.000000e+00 : f32, rounding = "nearest"} : tensor<4x3x3x2xf32>
    func.return
  }
}

// -----

// tt.sgd_update: channels without channel_axis
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%g: tensor<4x3x3x1xf32>, %lr: f32) {
    // CHECK: {{.*}}invalid_update.mlir:[[# @LINE + 1]]:5: error: 'tt.sgd_update' op channels and channel_axis must be given together
    tt.sgd_update @w, %g, %lr {grad_scale = 1.000000e+00 : f32, rounding = "nearest", channels = array<i64: 1>} : tensor<4x3x3x1xf32>
    func.return
  }
}

// -----

// tt.sgd_update: channel_axis without channels
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%g: tensor<4x3x3x2xf32>, %lr: f32) {
    // CHECK: {{.*}}invalid_update.mlir:[[# @LINE + 1]]:5: error: 'tt.sgd_update' op channels and channel_axis must be given together
    tt.sgd_update @w, %g, %lr {grad_scale = 1.000000e+00 : f32, rounding = "nearest", channel_axis = 3 : i64} : tensor<4x3x3x2xf32>
    func.return
  }
}

// -----

// tt.sgd_update: channel_axis past the rank
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%g: tensor<4x3x3x2xf32>, %lr: f32) {
    // CHECK: {{.*}}invalid_update.mlir:[[# @LINE + 1]]:5: error: 'tt.sgd_update' op channel_axis 4 out of range for tensor<4x3x3x2xi8>
    tt.sgd_update @w, %g, %lr {grad_scale = 1.000000e+00 : f32, rounding = "nearest", channels = array<i64: 0>, channel_axis = 4 : i64} : tensor<4x3x3x2xf32>
    func.return
  }
}

// -----

// tt.sgd_update: negative channel_axis
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%g: tensor<4x3x3x2xf32>, %lr: f32) {
    // CHECK: {{.*}}invalid_update.mlir:[[# @LINE + 1]]:5: error: 'tt.sgd_update' op channel_axis -1 out of range for tensor<4x3x3x2xi8>
    tt.sgd_update @w, %g, %lr {grad_scale = 1.000000e+00 : f32, rounding = "nearest", channels = array<i64: 0>, channel_axis = -1 : i64} : tensor<4x3x3x2xf32>
    func.return
  }
}

// -----

// tt.sgd_update: empty channel subset
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%g: tensor<4x3x3x2xf32>, %lr: f32) {
    // CHECK: {{.*}}invalid_update.mlir:[[# @LINE + 1]]:5: error: 'tt.sgd_update' op update channel subset must not be empty
    tt.sgd_update @w, %g, %lr {grad_scale = 1.000000e+00 : f32, rounding = "nearest", channels = array<i64>, channel_axis = 3 : i64} : tensor<4x3x3x2xf32>
    func.return
  }
}

// -----

// tt.sgd_update: unsorted channel subset
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%g: tensor<2x3x3x2xf32>, %lr: f32) {
    // CHECK: {{.*}}invalid_update.mlir:[[# @LINE + 1]]:5: error: 'tt.sgd_update' op update channel subset must be sorted and unique, got [3, 1]
    tt.sgd_update @w, %g, %lr {grad_scale = 1.000000e+00 : f32, rounding = "nearest", channels = array<i64: 3, 1>, channel_axis = 0 : i64} : tensor<2x3x3x2xf32>
    func.return
  }
}

// -----

// tt.sgd_update: channel past the end of the axis
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%g: tensor<4x3x3x1xf32>, %lr: f32) {
    // CHECK: {{.*}}invalid_update.mlir:[[# @LINE + 1]]:5: error: 'tt.sgd_update' op update channel subset must lie in [0, 2), got [2]
    tt.sgd_update @w, %g, %lr {grad_scale = 1.000000e+00 : f32, rounding = "nearest", channels = array<i64: 2>, channel_axis = 3 : i64} : tensor<4x3x3x1xf32>
    func.return
  }
}

// -----

// tt.sgd_update: bias channel past the end
builtin.module {
  tt.param @b : tensor<4xi32> scales dense<5.000000e-02> : tensor<4xf32> = #tt.external<"b">
  func.func @f(%g: tensor<1xf32>, %lr: f32) {
    // CHECK: {{.*}}invalid_update.mlir:[[# @LINE + 1]]:5: error: 'tt.sgd_update' op update channel subset must lie in [0, 4), got [4]
    tt.sgd_update @b, %g, %lr {grad_scale = 1.000000e+00 : f32, rounding = "nearest", channels = array<i64: 4>, channel_axis = 0 : i64} : tensor<1xf32>
    func.return
  }
}

// -----

// tt.sgd_update: grad shape differs from the parameter
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%g: tensor<4x3x3x1xf32>, %lr: f32) {
    // CHECK: {{.*}}invalid_update.mlir:[[# @LINE + 1]]:5: error: 'tt.sgd_update' op grad shape (4, 3, 3, 1) does not match the updated slice (4, 3, 3, 2)
    tt.sgd_update @w, %g, %lr {grad_scale = 1.000000e+00 : f32, rounding = "nearest"} : tensor<4x3x3x1xf32>
    func.return
  }
}

// -----

// tt.sgd_update: bias grad shape differs
builtin.module {
  tt.param @b : tensor<4xi32> scales dense<5.000000e-02> : tensor<4xf32> = #tt.external<"b">
  func.func @f(%g: tensor<3xf32>, %lr: f32) {
    // CHECK: {{.*}}invalid_update.mlir:[[# @LINE + 1]]:5: error: 'tt.sgd_update' op grad shape (3,) does not match the updated slice (4,)
    tt.sgd_update @b, %g, %lr {grad_scale = 1.000000e+00 : f32, rounding = "truncate"} : tensor<3xf32>
    func.return
  }
}

// -----

// tt.sgd_update: grad covers the whole axis, not the subset
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%g: tensor<4x3x3x2xf32>, %lr: f32) {
    // CHECK: {{.*}}invalid_update.mlir:[[# @LINE + 1]]:5: error: 'tt.sgd_update' op grad shape (4, 3, 3, 2) does not match the updated slice (2, 3, 3, 2)
    tt.sgd_update @w, %g, %lr {grad_scale = 1.000000e+00 : f32, rounding = "stochastic", channels = array<i64: 0, 2>, channel_axis = 0 : i64} : tensor<4x3x3x2xf32>
    func.return
  }
}

// -----

// tt.scale_grad: integer grad
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%g: tensor<4x3x3x2xi32>) {
    // CHECK: {{.*}}invalid_update.mlir:[[# @LINE + 1]]:5: error: 'tt.scale_grad' op grad must be a tensor of f32, got tensor<4x3x3x2xi32>
    %y = tt.scale_grad %g, @w {power = 1 : i64} : tensor<4x3x3x2xi32>
    func.return
  }
}

// -----

// tt.scale_grad: param symbol does not exist
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%g: tensor<4x3x3x2xf32>) {
    // CHECK: {{.*}}invalid_update.mlir:[[# @LINE + 1]]:5: error: 'tt.scale_grad' op @nope does not name a tt.param in the enclosing module
    %y = tt.scale_grad %g, @nope {power = 1 : i64} : tensor<4x3x3x2xf32>
    func.return
  }
}

// -----

// tt.scale_grad: parameter without scales
builtin.module {
  tt.param @b : tensor<4xi32> = #tt.external<"b">
  func.func @f(%g: tensor<4xf32>) {
    // CHECK: {{.*}}invalid_update.mlir:[[# @LINE + 1]]:5: error: 'tt.scale_grad' op scaled parameter @b must carry per-channel scales
    %y = tt.scale_grad %g, @b {power = 1 : i64} : tensor<4xf32>
    func.return
  }
}

// -----

// tt.scale_grad: parameter with external scales is fine, but the grad has too few channels
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales #tt.external<"w.scales"> = #tt.external<"w">
  func.func @f(%g: tensor<3x3x3x2xf32>) {
    // CHECK: {{.*}}invalid_update.mlir:[[# @LINE + 1]]:5: error: 'tt.scale_grad' op grad shape (3, 3, 3, 2) must have 4 output channels on axis 0
    %y = tt.scale_grad %g, @w {power = 1 : i64} : tensor<3x3x3x2xf32>
    func.return
  }
}

// -----

// tt.scale_grad: empty channel subset
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%g: tensor<4x3x3x2xf32>) {
    // CHECK: {{.*}}invalid_update.mlir:[[# @LINE + 1]]:5: error: 'tt.scale_grad' op scale_grad channel subset must not be empty
    %y = tt.scale_grad %g, @w {power = 1 : i64, channels = array<i64>} : tensor<4x3x3x2xf32>
    func.return
  }
}

// -----

// tt.scale_grad: unsorted channel subset
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%g: tensor<2x3x3x2xf32>) {
    // CHECK: {{.*}}invalid_update.mlir:[[# @LINE + 1]]:5: error: 'tt.scale_grad' op scale_grad channel subset must be sorted and unique, got [2, 0]
    %y = tt.scale_grad %g, @w {power = 1 : i64, channels = array<i64: 2, 0>} : tensor<2x3x3x2xf32>
    func.return
  }
}

// -----

// tt.scale_grad: channel past the output channels
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%g: tensor<1x3x3x2xf32>) {
    // CHECK: {{.*}}invalid_update.mlir:[[# @LINE + 1]]:5: error: 'tt.scale_grad' op scale_grad channel subset must lie in [0, 4), got [4]
    %y = tt.scale_grad %g, @w {power = 1 : i64, channels = array<i64: 4>} : tensor<1x3x3x2xf32>
    func.return
  }
}

// -----

// tt.scale_grad: grad covers all channels, not the subset
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%g: tensor<4x3x3x2xf32>) {
    // CHECK: {{.*}}invalid_update.mlir:[[# @LINE + 1]]:5: error: 'tt.scale_grad' op grad shape (4, 3, 3, 2) must have 2 output channels on axis 0
    %y = tt.scale_grad %g, @w {power = -2 : i64, channels = array<i64: 0, 2>} : tensor<4x3x3x2xf32>
    func.return
  }
}

// -----

// tt.scale_grad: bias grad of the wrong length
builtin.module {
  tt.param @b : tensor<4xi32> scales dense<5.000000e-02> : tensor<4xf32> = #tt.external<"b">
  func.func @f(%g: tensor<3xf32>) {
    // CHECK: {{.*}}invalid_update.mlir:[[# @LINE + 1]]:5: error: 'tt.scale_grad' op grad shape (3,) must have 4 output channels on axis 0
    %y = tt.scale_grad %g, @b {power = 1 : i64} : tensor<3xf32>
    func.return
  }
}

// -----

// tt.scale_grad: rank-0 grad
builtin.module {
  tt.param @b : tensor<4xi32> scales dense<5.000000e-02> : tensor<4xf32> = #tt.external<"b">
  func.func @f(%g: tensor<f32>) {
    // CHECK: {{.*}}invalid_update.mlir:[[# @LINE + 1]]:5: error: 'tt.scale_grad' op grad shape () must have 4 output channels on axis 0
    %y = tt.scale_grad %g, @b {power = 1 : i64} : tensor<f32>
    func.return
  }
}

// -----

// tt.scale_grad: result type differs from the grad (generic form; rejected by the shared type constraint)
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%g: tensor<4x3x3x2xf32>) {
    // CHECK: {{.*}}invalid_update.mlir:[[# @LINE + 1]]:5: error: 'tt.scale_grad' op result 'result' at position 0 does not verify
    %y = "tt.scale_grad"(%g) <{param = @w, power = 1 : i64}> : (tensor<4x3x3x2xf32>) -> tensor<4x3x3x1xf32>
    func.return
  }
}
