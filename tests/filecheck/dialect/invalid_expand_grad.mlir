// RUN: tt-opt %s --split-input-file --verify-diagnostics | filecheck %s

// Verifier errors of tt.expand_depthwise_grad_input, one per chunk.

// an integer output gradient
builtin.module {
  tt.param @dw : tensor<4x3x3x1xi8> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"dw">
  tt.param @ew : tensor<4x1x1x2xi8> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"ew">
  tt.param @eb : tensor<4xi32> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"eb">
  tt.param @w3 : tensor<4x3x3x2xi8> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"w3">
  tt.param @b6 : tensor<6xi32> scales dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]> : tensor<6xf32> = #tt.external<"b6">
  tt.param @plain : tensor<4xi32> = #tt.external<"plain">
  func.func @f(%g: tensor<1x2x2x4xi32>, %m: tensor<1x4x4x4xi1>, %lr: f32) {
    // CHECK: {{.*}}invalid_expand_grad.mlir:[[# @LINE + 1]]:5: error: 'tt.expand_depthwise_grad_input' op grad_output must be a tensor of f32, got tensor<1x2x2x4xi32>
    %r = tt.expand_depthwise_grad_input %g, %m depthwise @dw expand @ew {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : tensor<1x2x2x4xi32>, tensor<1x4x4x4xi1> -> tensor<1x4x4x2xf32>
    func.return
  }
}

// -----

// a float mask
builtin.module {
  tt.param @dw : tensor<4x3x3x1xi8> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"dw">
  tt.param @ew : tensor<4x1x1x2xi8> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"ew">
  tt.param @eb : tensor<4xi32> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"eb">
  tt.param @w3 : tensor<4x3x3x2xi8> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"w3">
  tt.param @b6 : tensor<6xi32> scales dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]> : tensor<6xf32> = #tt.external<"b6">
  tt.param @plain : tensor<4xi32> = #tt.external<"plain">
  func.func @f(%g: tensor<1x2x2x4xf32>, %m: tensor<1x4x4x4xf32>, %lr: f32) {
    // CHECK: {{.*}}invalid_expand_grad.mlir:[[# @LINE + 1]]:5: error: 'tt.expand_depthwise_grad_input' op mask must be a tensor of i1, got tensor<1x4x4x4xf32>
    %r = tt.expand_depthwise_grad_input %g, %m depthwise @dw expand @ew {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : tensor<1x2x2x4xf32>, tensor<1x4x4x4xf32> -> tensor<1x4x4x2xf32>
    func.return
  }
}

// -----

// a mask of another channel count
builtin.module {
  tt.param @dw : tensor<4x3x3x1xi8> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"dw">
  tt.param @ew : tensor<4x1x1x2xi8> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"ew">
  tt.param @eb : tensor<4xi32> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"eb">
  tt.param @w3 : tensor<4x3x3x2xi8> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"w3">
  tt.param @b6 : tensor<6xi32> scales dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]> : tensor<6xf32> = #tt.external<"b6">
  tt.param @plain : tensor<4xi32> = #tt.external<"plain">
  func.func @f(%g: tensor<1x2x2x4xf32>, %m: tensor<1x4x4x6xi1>, %lr: f32) {
    // CHECK: {{.*}}invalid_expand_grad.mlir:[[# @LINE + 1]]:5: error: 'tt.expand_depthwise_grad_input' op mask shape (1, 4, 4, 6) must be [1, H, W, 4] (the expanded tensor)
    %r = tt.expand_depthwise_grad_input %g, %m depthwise @dw expand @ew {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : tensor<1x2x2x4xf32>, tensor<1x4x4x6xi1> -> tensor<1x4x4x2xf32>
    func.return
  }
}

// -----

// a zero stride
builtin.module {
  tt.param @dw : tensor<4x3x3x1xi8> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"dw">
  tt.param @ew : tensor<4x1x1x2xi8> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"ew">
  tt.param @eb : tensor<4xi32> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"eb">
  tt.param @w3 : tensor<4x3x3x2xi8> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"w3">
  tt.param @b6 : tensor<6xi32> scales dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]> : tensor<6xf32> = #tt.external<"b6">
  tt.param @plain : tensor<4xi32> = #tt.external<"plain">
  func.func @f(%g: tensor<1x2x2x4xf32>, %m: tensor<1x4x4x4xi1>, %lr: f32) {
    // CHECK: {{.*}}invalid_expand_grad.mlir:[[# @LINE + 1]]:5: error: 'tt.expand_depthwise_grad_input' op stride must be two integers >= 1, got [0, 2]
    %r = tt.expand_depthwise_grad_input %g, %m depthwise @dw expand @ew {stride = array<i64: 0, 2>, padding = array<i64: 1, 1>} : tensor<1x2x2x4xf32>, tensor<1x4x4x4xi1> -> tensor<1x4x4x2xf32>
    func.return
  }
}

// -----

// a depthwise weight that is not depthwise
builtin.module {
  tt.param @dw : tensor<4x3x3x1xi8> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"dw">
  tt.param @ew : tensor<4x1x1x2xi8> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"ew">
  tt.param @eb : tensor<4xi32> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"eb">
  tt.param @w3 : tensor<4x3x3x2xi8> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"w3">
  tt.param @b6 : tensor<6xi32> scales dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]> : tensor<6xf32> = #tt.external<"b6">
  tt.param @plain : tensor<4xi32> = #tt.external<"plain">
  func.func @f(%g: tensor<1x2x2x4xf32>, %m: tensor<1x4x4x4xi1>, %lr: f32) {
    // CHECK: {{.*}}invalid_expand_grad.mlir:[[# @LINE + 1]]:5: error: 'tt.expand_depthwise_grad_input' op depthwise weight @w3 must have shape (4, 3, 3, 1), got (4, 3, 3, 2)
    %r = tt.expand_depthwise_grad_input %g, %m depthwise @w3 expand @ew {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : tensor<1x2x2x4xf32>, tensor<1x4x4x4xi1> -> tensor<1x4x4x2xf32>
    func.return
  }
}

// -----

// an output gradient the depthwise conv cannot produce (stride 1 gives 4x4)
builtin.module {
  tt.param @dw : tensor<4x3x3x1xi8> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"dw">
  tt.param @ew : tensor<4x1x1x2xi8> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"ew">
  tt.param @eb : tensor<4xi32> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"eb">
  tt.param @w3 : tensor<4x3x3x2xi8> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"w3">
  tt.param @b6 : tensor<6xi32> scales dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]> : tensor<6xf32> = #tt.external<"b6">
  tt.param @plain : tensor<4xi32> = #tt.external<"plain">
  func.func @f(%g: tensor<1x2x2x4xf32>, %m: tensor<1x4x4x4xi1>, %lr: f32) {
    // CHECK: {{.*}}invalid_expand_grad.mlir:[[# @LINE + 1]]:5: error: 'tt.expand_depthwise_grad_input' op grad_output shape (1, 2, 2, 4) is not the depthwise conv output of the expanded shape (1, 4, 4, 4): expected (1, 4, 4, 4)
    %r = tt.expand_depthwise_grad_input %g, %m depthwise @dw expand @ew {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>} : tensor<1x2x2x4xf32>, tensor<1x4x4x4xi1> -> tensor<1x4x4x2xf32>
    func.return
  }
}

// -----

// an expand weight that is not 1x1
builtin.module {
  tt.param @dw : tensor<4x3x3x1xi8> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"dw">
  tt.param @ew : tensor<4x1x1x2xi8> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"ew">
  tt.param @eb : tensor<4xi32> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"eb">
  tt.param @w3 : tensor<4x3x3x2xi8> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"w3">
  tt.param @b6 : tensor<6xi32> scales dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]> : tensor<6xf32> = #tt.external<"b6">
  tt.param @plain : tensor<4xi32> = #tt.external<"plain">
  func.func @f(%g: tensor<1x2x2x4xf32>, %m: tensor<1x4x4x4xi1>, %lr: f32) {
    // CHECK: {{.*}}invalid_expand_grad.mlir:[[# @LINE + 1]]:5: error: 'tt.expand_depthwise_grad_input' op expand weight @w3 must have shape (4, 1, 1, 2), got (4, 3, 3, 2)
    %r = tt.expand_depthwise_grad_input %g, %m depthwise @dw expand @w3 {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : tensor<1x2x2x4xf32>, tensor<1x4x4x4xi1> -> tensor<1x4x4x2xf32>
    func.return
  }
}

// -----

// an input gradient of another spatial size
builtin.module {
  tt.param @dw : tensor<4x3x3x1xi8> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"dw">
  tt.param @ew : tensor<4x1x1x2xi8> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"ew">
  tt.param @eb : tensor<4xi32> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"eb">
  tt.param @w3 : tensor<4x3x3x2xi8> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"w3">
  tt.param @b6 : tensor<6xi32> scales dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]> : tensor<6xf32> = #tt.external<"b6">
  tt.param @plain : tensor<4xi32> = #tt.external<"plain">
  func.func @f(%g: tensor<1x2x2x4xf32>, %m: tensor<1x4x4x4xi1>, %lr: f32) {
    // CHECK: {{.*}}invalid_expand_grad.mlir:[[# @LINE + 1]]:5: error: 'tt.expand_depthwise_grad_input' op grad_input shape (1, 2, 2, 2) must be (1, 4, 4, 2)
    %r = tt.expand_depthwise_grad_input %g, %m depthwise @dw expand @ew {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : tensor<1x2x2x4xf32>, tensor<1x4x4x4xi1> -> tensor<1x2x2x2xf32>
    func.return
  }
}

// -----

// a bias update without its rounding
builtin.module {
  tt.param @dw : tensor<4x3x3x1xi8> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"dw">
  tt.param @ew : tensor<4x1x1x2xi8> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"ew">
  tt.param @eb : tensor<4xi32> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"eb">
  tt.param @w3 : tensor<4x3x3x2xi8> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"w3">
  tt.param @b6 : tensor<6xi32> scales dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]> : tensor<6xf32> = #tt.external<"b6">
  tt.param @plain : tensor<4xi32> = #tt.external<"plain">
  func.func @f(%g: tensor<1x2x2x4xf32>, %m: tensor<1x4x4x4xi1>, %lr: f32) {
    // CHECK: {{.*}}invalid_expand_grad.mlir:[[# @LINE + 1]]:5: error: 'tt.expand_depthwise_grad_input' op a bias update needs rounding besides param, lr, power, grad_scale
    %r = tt.expand_depthwise_grad_input %g, %m depthwise @dw expand @ew bias_update @eb, %lr {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, power = -1 : i64, grad_scale = 1.0 : f32} : tensor<1x2x2x4xf32>, tensor<1x4x4x4xi1> -> tensor<1x4x4x2xf32>
    func.return
  }
}

// -----

// update attributes without a bias update
builtin.module {
  tt.param @dw : tensor<4x3x3x1xi8> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"dw">
  tt.param @ew : tensor<4x1x1x2xi8> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"ew">
  tt.param @eb : tensor<4xi32> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"eb">
  tt.param @w3 : tensor<4x3x3x2xi8> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"w3">
  tt.param @b6 : tensor<6xi32> scales dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]> : tensor<6xf32> = #tt.external<"b6">
  tt.param @plain : tensor<4xi32> = #tt.external<"plain">
  func.func @f(%g: tensor<1x2x2x4xf32>, %m: tensor<1x4x4x4xi1>, %lr: f32) {
    // CHECK: {{.*}}invalid_expand_grad.mlir:[[# @LINE + 1]]:5: error: 'tt.expand_depthwise_grad_input' op a bias update needs param, lr, grad_scale, rounding besides power
    %r = tt.expand_depthwise_grad_input %g, %m depthwise @dw expand @ew {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, power = -1 : i64} : tensor<1x2x2x4xf32>, tensor<1x4x4x4xi1> -> tensor<1x4x4x2xf32>
    func.return
  }
}

// -----

// a bias of another channel count
builtin.module {
  tt.param @dw : tensor<4x3x3x1xi8> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"dw">
  tt.param @ew : tensor<4x1x1x2xi8> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"ew">
  tt.param @eb : tensor<4xi32> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"eb">
  tt.param @w3 : tensor<4x3x3x2xi8> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"w3">
  tt.param @b6 : tensor<6xi32> scales dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]> : tensor<6xf32> = #tt.external<"b6">
  tt.param @plain : tensor<4xi32> = #tt.external<"plain">
  func.func @f(%g: tensor<1x2x2x4xf32>, %m: tensor<1x4x4x4xi1>, %lr: f32) {
    // CHECK: {{.*}}invalid_expand_grad.mlir:[[# @LINE + 1]]:5: error: 'tt.expand_depthwise_grad_input' op grad shape (4,) does not match the updated slice (6,)
    %r = tt.expand_depthwise_grad_input %g, %m depthwise @dw expand @ew bias_update @b6, %lr {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, power = -1 : i64, grad_scale = 1.0 : f32, rounding = "stochastic"} : tensor<1x2x2x4xf32>, tensor<1x4x4x4xi1> -> tensor<1x4x4x2xf32>
    func.return
  }
}

// -----

// an unknown rounding
builtin.module {
  tt.param @dw : tensor<4x3x3x1xi8> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"dw">
  tt.param @ew : tensor<4x1x1x2xi8> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"ew">
  tt.param @eb : tensor<4xi32> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"eb">
  tt.param @w3 : tensor<4x3x3x2xi8> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"w3">
  tt.param @b6 : tensor<6xi32> scales dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]> : tensor<6xf32> = #tt.external<"b6">
  tt.param @plain : tensor<4xi32> = #tt.external<"plain">
  func.func @f(%g: tensor<1x2x2x4xf32>, %m: tensor<1x4x4x4xi1>, %lr: f32) {
    // CHECK: {{.*}}invalid_expand_grad.mlir:[[# @LINE + 1]]:5: error: 'tt.expand_depthwise_grad_input' op rounding must be one of stochastic, nearest, truncate, got 'up'
    %r = tt.expand_depthwise_grad_input %g, %m depthwise @dw expand @ew bias_update @eb, %lr {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, power = -1 : i64, grad_scale = 1.0 : f32, rounding = "up"} : tensor<1x2x2x4xf32>, tensor<1x4x4x4xi1> -> tensor<1x4x4x2xf32>
    func.return
  }
}

// -----

// a scaled update of a bias without scales
builtin.module {
  tt.param @dw : tensor<4x3x3x1xi8> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"dw">
  tt.param @ew : tensor<4x1x1x2xi8> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"ew">
  tt.param @eb : tensor<4xi32> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"eb">
  tt.param @w3 : tensor<4x3x3x2xi8> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"w3">
  tt.param @b6 : tensor<6xi32> scales dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]> : tensor<6xf32> = #tt.external<"b6">
  tt.param @plain : tensor<4xi32> = #tt.external<"plain">
  func.func @f(%g: tensor<1x2x2x4xf32>, %m: tensor<1x4x4x4xi1>, %lr: f32) {
    // CHECK: {{.*}}invalid_expand_grad.mlir:[[# @LINE + 1]]:5: error: 'tt.expand_depthwise_grad_input' op scaled parameter @plain must carry per-channel scales
    %r = tt.expand_depthwise_grad_input %g, %m depthwise @dw expand @ew bias_update @plain, %lr {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, power = -1 : i64, grad_scale = 1.0 : f32, rounding = "stochastic"} : tensor<1x2x2x4xf32>, tensor<1x4x4x4xi1> -> tensor<1x4x4x2xf32>
    func.return
  }
}
