// RUN: tt-opt %s --split-input-file --verify-diagnostics | filecheck %s

// Verifier errors of the backward ops (tt.conv2d_grad_input, tt.conv2d_grad_weight,
// tt.linear_grad_input, tt.linear_grad_weight, tt.bias_grad, tt.clamp_grad, tt.clamp_mask, tt.mask_grad,
// tt.global_avg_pool_grad, tt.grad_accumulate), one per chunk.

// tt.conv2d_grad_input: integer grad_output
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%g: tensor<1x4x4x4xi32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d_grad_input' op grad_output must be a tensor of f32, got tensor<1x4x4x4xi32>
    %y = tt.conv2d_grad_input %g, @w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64} : tensor<1x4x4x4xi32> -> tensor<1x4x4x2xf32>
    func.return
  }
}

// -----

// tt.conv2d_grad_input: grad_output of rank 2
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%g: tensor<16x4xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d_grad_input' op grad_output must have rank 4, got shape (16, 4)
    %y = tt.conv2d_grad_input %g, @w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64} : tensor<16x4xf32> -> tensor<1x4x4x2xf32>
    func.return
  }
}

// -----

// tt.conv2d_grad_input: grad_input of rank 3
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%g: tensor<1x4x4x4xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d_grad_input' op grad_input must have rank 4, got shape (4, 4, 2)
    %y = tt.conv2d_grad_input %g, @w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64} : tensor<1x4x4x4xf32> -> tensor<4x4x2xf32>
    func.return
  }
}

// -----

// tt.conv2d_grad_input: f16 grad_input
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%g: tensor<1x4x4x4xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d_grad_input' op grad_input must be a tensor of f32, got tensor<1x4x4x2xf16>
    %y = tt.conv2d_grad_input %g, @w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64} : tensor<1x4x4x4xf32> -> tensor<1x4x4x2xf16>
    func.return
  }
}

// -----

// tt.conv2d_grad_input: weight symbol does not exist
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%g: tensor<1x4x4x4xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d_grad_input' op @nope does not name a tt.param in the enclosing module
    %y = tt.conv2d_grad_input %g, @nope {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64} : tensor<1x4x4x4xf32> -> tensor<1x4x4x2xf32>
    func.return
  }
}

// -----

// tt.conv2d_grad_input: weight without scales
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> = #tt.external<"w">
  func.func @f(%g: tensor<1x4x4x4xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d_grad_input' op weight @w must carry per-output-channel scales
    %y = tt.conv2d_grad_input %g, @w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64} : tensor<1x4x4x4xf32> -> tensor<1x4x4x2xf32>
    func.return
  }
}

// -----

// tt.conv2d_grad_input: rank-2 weight
builtin.module {
  tt.param @fc : tensor<3x2xi8> scales dense<1.250000e-01> : tensor<3xf32> = #tt.external<"fc">
  func.func @f(%g: tensor<1x4x4x4xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d_grad_input' op weight @fc must be a rank-4 i8 tt.param, got tensor<3x2xi8>
    %y = tt.conv2d_grad_input %g, @fc {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64} : tensor<1x4x4x4xf32> -> tensor<1x4x4x2xf32>
    func.return
  }
}

// -----

// tt.conv2d_grad_input: zero stride
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%g: tensor<1x4x4x4xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d_grad_input' op stride must be two integers >= 1, got [1, 0]
    %y = tt.conv2d_grad_input %g, @w {stride = array<i64: 1, 0>, padding = array<i64: 1, 1>, groups = 1 : i64} : tensor<1x4x4x4xf32> -> tensor<1x4x4x2xf32>
    func.return
  }
}

// -----

// tt.conv2d_grad_input: negative padding
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%g: tensor<1x4x4x4xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d_grad_input' op padding must be 2 or 4 integers >= 0, got [-1, 1]
    %y = tt.conv2d_grad_input %g, @w {stride = array<i64: 1, 1>, padding = array<i64: -1, 1>, groups = 1 : i64} : tensor<1x4x4x4xf32> -> tensor<1x4x4x2xf32>
    func.return
  }
}

// -----

// tt.conv2d_grad_input: zero groups
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%g: tensor<1x4x4x4xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d_grad_input' op groups must be >= 1, got 0
    %y = tt.conv2d_grad_input %g, @w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 0 : i64} : tensor<1x4x4x4xf32> -> tensor<1x4x4x2xf32>
    func.return
  }
}

// -----

// tt.conv2d_grad_input: groups does not divide the channels
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%g: tensor<1x4x4x4xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d_grad_input' op groups=4 must divide input channels (2) and output channels (4)
    %y = tt.conv2d_grad_input %g, @w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 4 : i64} : tensor<1x4x4x4xf32> -> tensor<1x4x4x2xf32>
    func.return
  }
}

// -----

// tt.conv2d_grad_input: grad_input channels do not match the weight
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%g: tensor<1x4x4x4xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d_grad_input' op weight expects 2 input channels per group, input has 3 channels in 1 group(s)
    %y = tt.conv2d_grad_input %g, @w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64} : tensor<1x4x4x4xf32> -> tensor<1x4x4x3xf32>
    func.return
  }
}

// -----

// tt.conv2d_grad_input: grad_output spatial size does not match
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%g: tensor<1x4x4x4xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d_grad_input' op output shape (1, 4, 4, 4) does not match conv of input (1, 8, 8, 2) with weight (4, 3, 3, 2): expected (1, 8, 8, 4)
    %y = tt.conv2d_grad_input %g, @w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64} : tensor<1x4x4x4xf32> -> tensor<1x8x8x2xf32>
    func.return
  }
}

// -----

// tt.conv2d_grad_weight: input of rank 3
builtin.module {
  func.func @f(%x: !tt.qtensor<4x4x2, 0.5:0>, %g: tensor<1x4x4x4xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d_grad_weight' op input must have rank 4, got shape (4, 4, 2)
    %y = tt.conv2d_grad_weight %x, %g {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64, kernel = array<i64: 3, 3>} : !tt.qtensor<4x4x2, 0.5:0>, tensor<1x4x4x4xf32> -> tensor<4x3x3x2xf32>
    func.return
  }
}

// -----

// tt.conv2d_grad_weight: integer grad_output
builtin.module {
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>, %g: tensor<1x4x4x4xi8>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d_grad_weight' op grad_output must be a tensor of f32, got tensor<1x4x4x4xi8>
    %y = tt.conv2d_grad_weight %x, %g {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64, kernel = array<i64: 3, 3>} : !tt.qtensor<1x4x4x2, 0.5:-3>, tensor<1x4x4x4xi8> -> tensor<4x3x3x2xf32>
    func.return
  }
}

// -----

// tt.conv2d_grad_weight: grad_output of rank 3
builtin.module {
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>, %g: tensor<4x4x4xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d_grad_weight' op grad_output must have rank 4, got shape (4, 4, 4)
    %y = tt.conv2d_grad_weight %x, %g {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64, kernel = array<i64: 3, 3>} : !tt.qtensor<1x4x4x2, 0.5:-3>, tensor<4x4x4xf32> -> tensor<4x3x3x2xf32>
    func.return
  }
}

// -----

// tt.conv2d_grad_weight: grad_weight of rank 2
builtin.module {
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>, %g: tensor<1x4x4x4xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d_grad_weight' op grad_weight must have rank 4, got shape (4, 18)
    %y = tt.conv2d_grad_weight %x, %g {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64, kernel = array<i64: 3, 3>} : !tt.qtensor<1x4x4x2, 0.5:-3>, tensor<1x4x4x4xf32> -> tensor<4x18xf32>
    func.return
  }
}

// -----

// tt.conv2d_grad_weight: f64 grad_weight
builtin.module {
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>, %g: tensor<1x4x4x4xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d_grad_weight' op grad_weight must be a tensor of f32, got tensor<4x3x3x2xf64>
    %y = tt.conv2d_grad_weight %x, %g {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64, kernel = array<i64: 3, 3>} : !tt.qtensor<1x4x4x2, 0.5:-3>, tensor<1x4x4x4xf32> -> tensor<4x3x3x2xf64>
    func.return
  }
}

// -----

// tt.conv2d_grad_weight: kernel with one value
builtin.module {
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>, %g: tensor<1x4x4x4xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d_grad_weight' op kernel must be two integers >= 1, got [3]
    %y = tt.conv2d_grad_weight %x, %g {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64, kernel = array<i64: 3>} : !tt.qtensor<1x4x4x2, 0.5:-3>, tensor<1x4x4x4xf32> -> tensor<4x3x3x2xf32>
    func.return
  }
}

// -----

// tt.conv2d_grad_weight: zero kernel
builtin.module {
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>, %g: tensor<1x4x4x4xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d_grad_weight' op kernel must be two integers >= 1, got [0, 3]
    %y = tt.conv2d_grad_weight %x, %g {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64, kernel = array<i64: 0, 3>} : !tt.qtensor<1x4x4x2, 0.5:-3>, tensor<1x4x4x4xf32> -> tensor<4x3x3x2xf32>
    func.return
  }
}

// -----

// tt.conv2d_grad_weight: zero stride
builtin.module {
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>, %g: tensor<1x4x4x4xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d_grad_weight' op stride must be two integers >= 1, got [0, 0]
    %y = tt.conv2d_grad_weight %x, %g {stride = array<i64: 0, 0>, padding = array<i64: 1, 1>, groups = 1 : i64, kernel = array<i64: 3, 3>} : !tt.qtensor<1x4x4x2, 0.5:-3>, tensor<1x4x4x4xf32> -> tensor<4x3x3x2xf32>
    func.return
  }
}

// -----

// tt.conv2d_grad_weight: zero groups
builtin.module {
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>, %g: tensor<1x4x4x4xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d_grad_weight' op groups must be >= 1, got 0
    %y = tt.conv2d_grad_weight %x, %g {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 0 : i64, kernel = array<i64: 3, 3>} : !tt.qtensor<1x4x4x2, 0.5:-3>, tensor<1x4x4x4xf32> -> tensor<4x3x3x2xf32>
    func.return
  }
}

// -----

// tt.conv2d_grad_weight: groups does not divide the channels
builtin.module {
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>, %g: tensor<1x4x4x4xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d_grad_weight' op groups=3 must divide input channels (2) and output channels (4)
    %y = tt.conv2d_grad_weight %x, %g {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 3 : i64, kernel = array<i64: 3, 3>} : !tt.qtensor<1x4x4x2, 0.5:-3>, tensor<1x4x4x4xf32> -> tensor<4x3x3x2xf32>
    func.return
  }
}

// -----

// tt.conv2d_grad_weight: grad_output spatial size does not match the conv
builtin.module {
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>, %g: tensor<1x4x4x4xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d_grad_weight' op output shape (1, 4, 4, 4) does not match conv of input (1, 4, 4, 2) with weight (4, 3, 3, 2): expected (1, 2, 2, 4)
    %y = tt.conv2d_grad_weight %x, %g {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, groups = 1 : i64, kernel = array<i64: 3, 3>} : !tt.qtensor<1x4x4x2, 0.5:-3>, tensor<1x4x4x4xf32> -> tensor<4x3x3x2xf32>
    func.return
  }
}

// -----

// tt.conv2d_grad_weight: grad_weight shape
builtin.module {
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>, %g: tensor<1x4x4x4xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d_grad_weight' op grad_weight shape (4, 3, 3, 1) must be (4, 3, 3, 2)
    %y = tt.conv2d_grad_weight %x, %g {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64, kernel = array<i64: 3, 3>} : !tt.qtensor<1x4x4x2, 0.5:-3>, tensor<1x4x4x4xf32> -> tensor<4x3x3x1xf32>
    func.return
  }
}

// -----

// tt.conv2d_grad_weight: depthwise grad_weight shape
builtin.module {
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>, %g: tensor<1x4x4x2xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d_grad_weight' op grad_weight shape (2, 3, 3, 2) must be (2, 3, 3, 1)
    %y = tt.conv2d_grad_weight %x, %g {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 2 : i64, kernel = array<i64: 3, 3>} : !tt.qtensor<1x4x4x2, 0.5:-3>, tensor<1x4x4x2xf32> -> tensor<2x3x3x2xf32>
    func.return
  }
}

// -----

// tt.conv2d_grad_weight: empty channel subset
builtin.module {
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>, %g: tensor<1x4x4x4xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d_grad_weight' op input channel subset must not be empty
    %y = tt.conv2d_grad_weight %x, %g {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64, kernel = array<i64: 3, 3>, channels = array<i64>} : !tt.qtensor<1x4x4x2, 0.5:-3>, tensor<1x4x4x4xf32> -> tensor<4x3x3x1xf32>
    func.return
  }
}

// -----

// tt.conv2d_grad_weight: unsorted channel subset
builtin.module {
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>, %g: tensor<1x4x4x4xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d_grad_weight' op input channel subset must be sorted and unique, got [1, 0]
    %y = tt.conv2d_grad_weight %x, %g {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64, kernel = array<i64: 3, 3>, channels = array<i64: 1, 0>} : !tt.qtensor<1x4x4x2, 0.5:-3>, tensor<1x4x4x4xf32> -> tensor<4x3x3x2xf32>
    func.return
  }
}

// -----

// tt.conv2d_grad_weight: repeated channel
builtin.module {
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>, %g: tensor<1x4x4x4xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d_grad_weight' op input channel subset must be sorted and unique, got [1, 1]
    %y = tt.conv2d_grad_weight %x, %g {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64, kernel = array<i64: 3, 3>, channels = array<i64: 1, 1>} : !tt.qtensor<1x4x4x2, 0.5:-3>, tensor<1x4x4x4xf32> -> tensor<4x3x3x2xf32>
    func.return
  }
}

// -----

// tt.conv2d_grad_weight: channel past the end
builtin.module {
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>, %g: tensor<1x4x4x4xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d_grad_weight' op input channel subset must lie in [0, 2), got [2]
    %y = tt.conv2d_grad_weight %x, %g {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64, kernel = array<i64: 3, 3>, channels = array<i64: 2>} : !tt.qtensor<1x4x4x2, 0.5:-3>, tensor<1x4x4x4xf32> -> tensor<4x3x3x1xf32>
    func.return
  }
}

// -----

// tt.conv2d_grad_weight: negative channel
builtin.module {
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>, %g: tensor<1x4x4x4xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d_grad_weight' op input channel subset must lie in [0, 2), got [-1, 0]
    %y = tt.conv2d_grad_weight %x, %g {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64, kernel = array<i64: 3, 3>, channels = array<i64: -1, 0>} : !tt.qtensor<1x4x4x2, 0.5:-3>, tensor<1x4x4x4xf32> -> tensor<4x3x3x2xf32>
    func.return
  }
}

// -----

// tt.conv2d_grad_weight: grad_weight shape with a channel subset
builtin.module {
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>, %g: tensor<1x4x4x4xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d_grad_weight' op grad_weight shape (4, 3, 3, 2) must be (4, 3, 3, 1)
    %y = tt.conv2d_grad_weight %x, %g {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64, kernel = array<i64: 3, 3>, channels = array<i64: 0>} : !tt.qtensor<1x4x4x2, 0.5:-3>, tensor<1x4x4x4xf32> -> tensor<4x3x3x2xf32>
    func.return
  }
}

// -----

// tt.conv2d_grad_weight: depthwise channel past the end
builtin.module {
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>, %g: tensor<1x4x4x2xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d_grad_weight' op depthwise channel subset must lie in [0, 2), got [2]
    %y = tt.conv2d_grad_weight %x, %g {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 2 : i64, kernel = array<i64: 3, 3>, channels = array<i64: 2>} : !tt.qtensor<1x4x4x2, 0.5:-3>, tensor<1x4x4x2xf32> -> tensor<1x3x3x1xf32>
    func.return
  }
}

// -----

// tt.conv2d_grad_weight: depthwise empty channel subset
builtin.module {
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>, %g: tensor<1x4x4x2xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d_grad_weight' op depthwise channel subset must not be empty
    %y = tt.conv2d_grad_weight %x, %g {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 2 : i64, kernel = array<i64: 3, 3>, channels = array<i64>} : !tt.qtensor<1x4x4x2, 0.5:-3>, tensor<1x4x4x2xf32> -> tensor<1x3x3x1xf32>
    func.return
  }
}

// -----

// tt.conv2d_grad_weight: depthwise grad_weight shape with a channel subset
builtin.module {
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>, %g: tensor<1x4x4x2xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d_grad_weight' op grad_weight shape (2, 3, 3, 1) must be (1, 3, 3, 1)
    %y = tt.conv2d_grad_weight %x, %g {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 2 : i64, kernel = array<i64: 3, 3>, channels = array<i64: 1>} : !tt.qtensor<1x4x4x2, 0.5:-3>, tensor<1x4x4x2xf32> -> tensor<2x3x3x1xf32>
    func.return
  }
}

// -----

// tt.conv2d_grad_weight: channel subset of a grouped (not depthwise) conv
builtin.module {
  func.func @f(%x: !tt.qtensor<1x4x4x4, 0.5:0>, %g: tensor<1x4x4x4xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d_grad_weight' op a channel subset needs a regular (groups=1) or depthwise conv
    %y = tt.conv2d_grad_weight %x, %g {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 2 : i64, kernel = array<i64: 3, 3>, channels = array<i64: 0>} : !tt.qtensor<1x4x4x4, 0.5:0>, tensor<1x4x4x4xf32> -> tensor<4x3x3x1xf32>
    func.return
  }
}

// -----

// tt.conv2d_grad_weight: channel subset of a depthwise conv with channel multiplier 2
builtin.module {
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>, %g: tensor<1x4x4x4xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d_grad_weight' op a channel subset needs a regular (groups=1) or depthwise conv
    %y = tt.conv2d_grad_weight %x, %g {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 2 : i64, kernel = array<i64: 3, 3>, channels = array<i64: 0>} : !tt.qtensor<1x4x4x2, 0.5:-3>, tensor<1x4x4x4xf32> -> tensor<1x3x3x1xf32>
    func.return
  }
}

// -----

// tt.linear_grad_input: integer grad_output
builtin.module {
  tt.param @fc : tensor<3x2xi8> scales dense<1.250000e-01> : tensor<3xf32> = #tt.external<"fc">
  func.func @f(%g: tensor<2x3xi32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.linear_grad_input' op grad_output must be a tensor of f32, got tensor<2x3xi32>
    %y = tt.linear_grad_input %g, @fc : tensor<2x3xi32> -> tensor<2x2xf32>
    func.return
  }
}

// -----

// tt.linear_grad_input: grad_output of rank 4
builtin.module {
  tt.param @fc : tensor<3x2xi8> scales dense<1.250000e-01> : tensor<3xf32> = #tt.external<"fc">
  func.func @f(%g: tensor<2x1x1x3xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.linear_grad_input' op grad_output must have rank 2, got shape (2, 1, 1, 3)
    %y = tt.linear_grad_input %g, @fc : tensor<2x1x1x3xf32> -> tensor<2x2xf32>
    func.return
  }
}

// -----

// tt.linear_grad_input: grad_input of rank 1
builtin.module {
  tt.param @fc : tensor<3x2xi8> scales dense<1.250000e-01> : tensor<3xf32> = #tt.external<"fc">
  func.func @f(%g: tensor<2x3xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.linear_grad_input' op grad_input must have rank 2, got shape (4,)
    %y = tt.linear_grad_input %g, @fc : tensor<2x3xf32> -> tensor<4xf32>
    func.return
  }
}

// -----

// tt.linear_grad_input: weight symbol does not exist
builtin.module {
  tt.param @fc : tensor<3x2xi8> scales dense<1.250000e-01> : tensor<3xf32> = #tt.external<"fc">
  func.func @f(%g: tensor<2x3xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.linear_grad_input' op @nope does not name a tt.param in the enclosing module
    %y = tt.linear_grad_input %g, @nope : tensor<2x3xf32> -> tensor<2x2xf32>
    func.return
  }
}

// -----

// tt.linear_grad_input: i32 weight
builtin.module {
  tt.param @fc : tensor<3x2xi32> scales dense<1.250000e-01> : tensor<3xf32> = #tt.external<"fc">
  func.func @f(%g: tensor<2x3xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.linear_grad_input' op weight @fc must be a rank-2 i8 tt.param, got tensor<3x2xi32>
    %y = tt.linear_grad_input %g, @fc : tensor<2x3xf32> -> tensor<2x2xf32>
    func.return
  }
}

// -----

// tt.linear_grad_input: grad_output features do not match the weight
builtin.module {
  tt.param @fc : tensor<3x2xi8> scales dense<1.250000e-01> : tensor<3xf32> = #tt.external<"fc">
  func.func @f(%g: tensor<2x4xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.linear_grad_input' op shapes (2, 4) -> (2, 2) do not match weight [3, 2]
    %y = tt.linear_grad_input %g, @fc : tensor<2x4xf32> -> tensor<2x2xf32>
    func.return
  }
}

// -----

// tt.linear_grad_input: grad_input features do not match the weight
builtin.module {
  tt.param @fc : tensor<3x2xi8> scales dense<1.250000e-01> : tensor<3xf32> = #tt.external<"fc">
  func.func @f(%g: tensor<2x3xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.linear_grad_input' op shapes (2, 3) -> (2, 3) do not match weight [3, 2]
    %y = tt.linear_grad_input %g, @fc : tensor<2x3xf32> -> tensor<2x3xf32>
    func.return
  }
}

// -----

// tt.linear_grad_input: grad_input batch differs
builtin.module {
  tt.param @fc : tensor<3x2xi8> scales dense<1.250000e-01> : tensor<3xf32> = #tt.external<"fc">
  func.func @f(%g: tensor<2x3xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.linear_grad_input' op shapes (2, 3) -> (1, 2) do not match weight [3, 2]
    %y = tt.linear_grad_input %g, @fc : tensor<2x3xf32> -> tensor<1x2xf32>
    func.return
  }
}

// -----

// tt.linear_grad_weight: input of rank 4
builtin.module {
  func.func @f(%x: !tt.qtensor<2x1x1x2, 0.5:0>, %g: tensor<2x3xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.linear_grad_weight' op input must have rank 2, got shape (2, 1, 1, 2)
    %y = tt.linear_grad_weight %x, %g : !tt.qtensor<2x1x1x2, 0.5:0>, tensor<2x3xf32> -> tensor<3x2xf32>
    func.return
  }
}

// -----

// tt.linear_grad_weight: integer grad_output
builtin.module {
  func.func @f(%x: !tt.qtensor<2x2, 0.5:1>, %g: tensor<2x3xi32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.linear_grad_weight' op grad_output must be a tensor of f32, got tensor<2x3xi32>
    %y = tt.linear_grad_weight %x, %g : !tt.qtensor<2x2, 0.5:1>, tensor<2x3xi32> -> tensor<3x2xf32>
    func.return
  }
}

// -----

// tt.linear_grad_weight: grad_output of rank 1
builtin.module {
  func.func @f(%x: !tt.qtensor<2x2, 0.5:1>, %g: tensor<3xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.linear_grad_weight' op grad_output must have rank 2, got shape (3,)
    %y = tt.linear_grad_weight %x, %g : !tt.qtensor<2x2, 0.5:1>, tensor<3xf32> -> tensor<3x2xf32>
    func.return
  }
}

// -----

// tt.linear_grad_weight: grad_weight of rank 1
builtin.module {
  func.func @f(%x: !tt.qtensor<2x2, 0.5:1>, %g: tensor<2x3xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.linear_grad_weight' op grad_weight must have rank 2, got shape (6,)
    %y = tt.linear_grad_weight %x, %g : !tt.qtensor<2x2, 0.5:1>, tensor<2x3xf32> -> tensor<6xf32>
    func.return
  }
}

// -----

// tt.linear_grad_weight: batch mismatch
builtin.module {
  func.func @f(%x: !tt.qtensor<2x2, 0.5:1>, %g: tensor<1x3xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.linear_grad_weight' op batch mismatch: input 2, grad_output 1
    %y = tt.linear_grad_weight %x, %g : !tt.qtensor<2x2, 0.5:1>, tensor<1x3xf32> -> tensor<3x2xf32>
    func.return
  }
}

// -----

// tt.linear_grad_weight: grad_weight transposed
builtin.module {
  func.func @f(%x: !tt.qtensor<2x2, 0.5:1>, %g: tensor<2x3xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.linear_grad_weight' op grad_weight shape (2, 3) must be (3, 2)
    %y = tt.linear_grad_weight %x, %g : !tt.qtensor<2x2, 0.5:1>, tensor<2x3xf32> -> tensor<2x3xf32>
    func.return
  }
}

// -----

// tt.linear_grad_weight: empty channel subset
builtin.module {
  func.func @f(%x: !tt.qtensor<2x2, 0.5:1>, %g: tensor<2x3xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.linear_grad_weight' op input channel subset must not be empty
    %y = tt.linear_grad_weight %x, %g {channels = array<i64>} : !tt.qtensor<2x2, 0.5:1>, tensor<2x3xf32> -> tensor<3x1xf32>
    func.return
  }
}

// -----

// tt.linear_grad_weight: unsorted channel subset
builtin.module {
  func.func @f(%x: !tt.qtensor<2x2, 0.5:1>, %g: tensor<2x3xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.linear_grad_weight' op input channel subset must be sorted and unique, got [1, 0]
    %y = tt.linear_grad_weight %x, %g {channels = array<i64: 1, 0>} : !tt.qtensor<2x2, 0.5:1>, tensor<2x3xf32> -> tensor<3x2xf32>
    func.return
  }
}

// -----

// tt.linear_grad_weight: channel past the end
builtin.module {
  func.func @f(%x: !tt.qtensor<2x2, 0.5:1>, %g: tensor<2x3xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.linear_grad_weight' op input channel subset must lie in [0, 2), got [5]
    %y = tt.linear_grad_weight %x, %g {channels = array<i64: 5>} : !tt.qtensor<2x2, 0.5:1>, tensor<2x3xf32> -> tensor<3x1xf32>
    func.return
  }
}

// -----

// tt.linear_grad_weight: grad_weight shape with a channel subset
builtin.module {
  func.func @f(%x: !tt.qtensor<2x2, 0.5:1>, %g: tensor<2x3xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.linear_grad_weight' op grad_weight shape (3, 2) must be (3, 1)
    %y = tt.linear_grad_weight %x, %g {channels = array<i64: 1>} : !tt.qtensor<2x2, 0.5:1>, tensor<2x3xf32> -> tensor<3x2xf32>
    func.return
  }
}

// -----

// tt.bias_grad: integer grad_output
builtin.module {
  func.func @f(%g: tensor<2x3xi32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.bias_grad' op grad_output must be a tensor of f32, got tensor<2x3xi32>
    %y = tt.bias_grad %g : tensor<2x3xi32> -> tensor<3xf32>
    func.return
  }
}

// -----

// tt.bias_grad: grad_bias of rank 2
builtin.module {
  func.func @f(%g: tensor<2x3xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.bias_grad' op grad_bias must have rank 1, got shape (1, 3)
    %y = tt.bias_grad %g : tensor<2x3xf32> -> tensor<1x3xf32>
    func.return
  }
}

// -----

// tt.bias_grad: f16 grad_bias
builtin.module {
  func.func @f(%g: tensor<2x3xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.bias_grad' op grad_bias must be a tensor of f32, got tensor<3xf16>
    %y = tt.bias_grad %g : tensor<2x3xf32> -> tensor<3xf16>
    func.return
  }
}

// -----

// tt.bias_grad: grad_bias is not the last axis
builtin.module {
  func.func @f(%g: tensor<1x4x4x4xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.bias_grad' op grad_bias shape (1,) must be (4,)
    %y = tt.bias_grad %g : tensor<1x4x4x4xf32> -> tensor<1xf32>
    func.return
  }
}

// -----

// tt.clamp_mask: act range
builtin.module {
  func.func @f(%y: !tt.qtensor<1x2x3, 0.5:0>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.clamp_mask' op activation range must satisfy -128 <= act_min <= act_max <= 127, got [0, 200]
    %r = tt.clamp_mask %y {act_min = 0 : i64, act_max = 200 : i64} : !tt.qtensor<1x2x3, 0.5:0> -> tensor<1x2x3xi1>
    func.return
  }
}

// -----

// tt.clamp_mask: mask of i8
builtin.module {
  func.func @f(%y: !tt.qtensor<1x2x3, 0.5:0>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.clamp_mask' op mask must be a tensor of i1, got tensor<1x2x3xi8>
    %r = tt.clamp_mask %y {act_min = 0 : i64, act_max = 127 : i64} : !tt.qtensor<1x2x3, 0.5:0> -> tensor<1x2x3xi8>
    func.return
  }
}

// -----

// tt.clamp_mask: shape differs from the output
builtin.module {
  func.func @f(%y: !tt.qtensor<1x2x3, 0.5:0>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.clamp_mask' op mask shape (1, 3, 2) must be (1, 2, 3)
    %r = tt.clamp_mask %y {act_min = 0 : i64, act_max = 127 : i64} : !tt.qtensor<1x2x3, 0.5:0> -> tensor<1x3x2xi1>
    func.return
  }
}

// -----

// tt.mask_grad: mask of f32
builtin.module {
  func.func @f(%g: tensor<1x2x3xf32>, %m: tensor<1x2x3xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.mask_grad' op mask must be a tensor of i1, got tensor<1x2x3xf32>
    %r = tt.mask_grad %g, %m : tensor<1x2x3xf32>, tensor<1x2x3xf32> -> tensor<1x2x3xf32>
    func.return
  }
}

// -----

// tt.mask_grad: mask shape differs
builtin.module {
  func.func @f(%g: tensor<1x2x3xf32>, %m: tensor<1x3x2xi1>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.mask_grad' op grad_output, mask and grad_input shapes must match
    %r = tt.mask_grad %g, %m : tensor<1x2x3xf32>, tensor<1x3x2xi1> -> tensor<1x2x3xf32>
    func.return
  }
}

// -----

// tt.clamp_grad: act range
builtin.module {
  func.func @f(%g: tensor<1x2x3xf32>, %y: !tt.qtensor<1x2x3, 0.5:0>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.clamp_grad' op activation range must satisfy -128 <= act_min <= act_max <= 127, got [-200, 127]
    %r = tt.clamp_grad %g, %y {act_min = -200 : i64, act_max = 127 : i64} : tensor<1x2x3xf32>, !tt.qtensor<1x2x3, 0.5:0> -> tensor<1x2x3xf32>
    func.return
  }
}

// -----

// tt.clamp_grad: integer grad_output
builtin.module {
  func.func @f(%g: tensor<1x2x3xi32>, %y: !tt.qtensor<1x2x3, 0.5:0>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.clamp_grad' op grad_output must be a tensor of f32, got tensor<1x2x3xi32>
    %r = tt.clamp_grad %g, %y {act_min = 0 : i64, act_max = 127 : i64} : tensor<1x2x3xi32>, !tt.qtensor<1x2x3, 0.5:0> -> tensor<1x2x3xf32>
    func.return
  }
}

// -----

// tt.clamp_grad: grad_output shape differs from output
builtin.module {
  func.func @f(%g: tensor<1x3x2xf32>, %y: !tt.qtensor<1x2x3, 0.5:0>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.clamp_grad' op grad_output, output and grad_input shapes must match
    %r = tt.clamp_grad %g, %y {act_min = 0 : i64, act_max = 127 : i64} : tensor<1x3x2xf32>, !tt.qtensor<1x2x3, 0.5:0> -> tensor<1x2x3xf32>
    func.return
  }
}

// -----

// tt.clamp_grad: grad_input shape differs
builtin.module {
  func.func @f(%g: tensor<1x2x3xf32>, %y: !tt.qtensor<1x2x3, 0.5:0>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.clamp_grad' op grad_output, output and grad_input shapes must match
    %r = tt.clamp_grad %g, %y {act_min = 0 : i64, act_max = 127 : i64} : tensor<1x2x3xf32>, !tt.qtensor<1x2x3, 0.5:0> -> tensor<2x3xf32>
    func.return
  }
}

// -----

// tt.global_avg_pool_grad: grad_output of rank 2
builtin.module {
  func.func @f(%g: tensor<1x3xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.global_avg_pool_grad' op grad_output must have rank 4, got shape (1, 3)
    %y = tt.global_avg_pool_grad %g : tensor<1x3xf32> -> tensor<1x2x2x3xf32>
    func.return
  }
}

// -----

// tt.global_avg_pool_grad: integer grad_output
builtin.module {
  func.func @f(%g: tensor<1x1x1x3xi32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.global_avg_pool_grad' op grad_output must be a tensor of f32, got tensor<1x1x1x3xi32>
    %y = tt.global_avg_pool_grad %g : tensor<1x1x1x3xi32> -> tensor<1x2x2x3xf32>
    func.return
  }
}

// -----

// tt.global_avg_pool_grad: f64 grad_input
builtin.module {
  func.func @f(%g: tensor<1x1x1x3xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.global_avg_pool_grad' op grad_input must be a tensor of f32, got tensor<1x2x2x3xf64>
    %y = tt.global_avg_pool_grad %g : tensor<1x1x1x3xf32> -> tensor<1x2x2x3xf64>
    func.return
  }
}

// -----

// tt.global_avg_pool_grad: grad_input of rank 3
builtin.module {
  func.func @f(%g: tensor<1x1x1x3xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.global_avg_pool_grad' op grad_input must have rank 4, got shape (2, 2, 3)
    %y = tt.global_avg_pool_grad %g : tensor<1x1x1x3xf32> -> tensor<2x2x3xf32>
    func.return
  }
}

// -----

// tt.global_avg_pool_grad: grad_output not 1x1 spatially
builtin.module {
  func.func @f(%g: tensor<1x2x2x3xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.global_avg_pool_grad' op grad_output shape (1, 2, 2, 3) must be (1, 1, 1, 3)
    %y = tt.global_avg_pool_grad %g : tensor<1x2x2x3xf32> -> tensor<1x2x2x3xf32>
    func.return
  }
}

// -----

// tt.global_avg_pool_grad: channel count differs
builtin.module {
  func.func @f(%g: tensor<1x1x1x4xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.global_avg_pool_grad' op grad_output shape (1, 1, 1, 4) must be (1, 1, 1, 3)
    %y = tt.global_avg_pool_grad %g : tensor<1x1x1x4xf32> -> tensor<1x2x2x3xf32>
    func.return
  }
}

// -----

// tt.grad_accumulate: integer gradients
builtin.module {
  func.func @f(%a: tensor<4xi32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.grad_accumulate' op result must be a tensor of f32, got tensor<4xi32>
    %y = tt.grad_accumulate %a, %a : tensor<4xi32>
    func.return
  }
}

// -----

// tt.grad_accumulate: operand types differ (generic form; rejected by the shared type constraint)
builtin.module {
  func.func @f(%a: tensor<4xf32>, %b: tensor<2x2xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.grad_accumulate' op operand 'rhs' at position 1 does not verify
    %y = "tt.grad_accumulate"(%a, %b) : (tensor<4xf32>, tensor<2x2xf32>) -> tensor<4xf32>
    func.return
  }
}

// -----

// tt.clamp_grad: integer result
builtin.module {
  func.func @f(%g: tensor<1x4xf32>, %y: !tt.qtensor<1x4, 0.5:0>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.clamp_grad' op grad_input must be a tensor of f32, got tensor<1x4xi32>
    %r = tt.clamp_grad %g, %y {act_min = -128 : i64, act_max = 127 : i64} : tensor<1x4xf32>, !tt.qtensor<1x4, 0.5:0> -> tensor<1x4xi32>
    func.return
  }
}

// -----

// tt.grad_accumulate: dynamic shape
builtin.module {
  func.func @f(%a: tensor<?xf32>) {
    // CHECK: {{.*}}invalid_backward.mlir:[[# @LINE + 1]]:5: error: 'tt.grad_accumulate' op result must have a static shape, got tensor<?xf32>
    %y = tt.grad_accumulate %a, %a : tensor<?xf32>
    func.return
  }
}
