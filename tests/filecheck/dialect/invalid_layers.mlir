// RUN: tt-opt %s --split-input-file --verify-diagnostics | filecheck %s

// Verifier errors of the layer ops (tt.max_pool, tt.avg_pool, the table activations, tt.mul,
// tt.concat) and of their gradients, one per chunk.

// tt.max_pool: the output must keep the input's quantization
builtin.module {
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_layers.mlir:[[# @LINE + 1]]:5: error: 'tt.max_pool' op max pooling keeps its input's quantization (TFLite's rule): output scale and zero point must be 0.5:-3, got 0.25:-3
    %y = tt.max_pool %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0>, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x4x4x2, 0.5:-3> -> !tt.qtensor<1x2x2x2, 0.25:-3>
    func.return
  }
}

// -----

// tt.max_pool: output shape
builtin.module {
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_layers.mlir:[[# @LINE + 1]]:5: error: 'tt.max_pool' op output shape (1, 3, 2, 2) does not match the pool of input (1, 4, 4, 2): expected (1, 2, 2, 2)
    %y = tt.max_pool %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0>, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x4x4x2, 0.5:-3> -> !tt.qtensor<1x3x2x2, 0.5:-3>
    func.return
  }
}

// -----

// tt.max_pool: padding as large as the kernel
builtin.module {
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_layers.mlir:[[# @LINE + 1]]:5: error: 'tt.max_pool' op padding [2, 0] must be smaller than the kernel [2, 2] on every side (a window of padding only has no value)
    %y = tt.max_pool %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 2, 0>, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x4x4x2, 0.5:-3> -> !tt.qtensor<1x4x2x2, 0.5:-3>
    func.return
  }
}

// -----

// tt.max_pool: padding with three values
builtin.module {
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_layers.mlir:[[# @LINE + 1]]:5: error: 'tt.max_pool' op padding must be 2 or 4 integers >= 0, got [0, 0, 1]
    %y = tt.max_pool %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 1>, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x4x4x2, 0.5:-3> -> !tt.qtensor<1x2x2x2, 0.5:-3>
    func.return
  }
}

// -----

// tt.max_pool: zero stride
builtin.module {
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_layers.mlir:[[# @LINE + 1]]:5: error: 'tt.max_pool' op stride must be two integers >= 1, got [0, 2]
    %y = tt.max_pool %x {kernel = array<i64: 2, 2>, stride = array<i64: 0, 2>, padding = array<i64: 0, 0>, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x4x4x2, 0.5:-3> -> !tt.qtensor<1x2x2x2, 0.5:-3>
    func.return
  }
}

// -----

// tt.max_pool: kernel with one value
builtin.module {
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_layers.mlir:[[# @LINE + 1]]:5: error: 'tt.max_pool' op kernel must be two integers >= 1, got [2]
    %y = tt.max_pool %x {kernel = array<i64: 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0>, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x4x4x2, 0.5:-3> -> !tt.qtensor<1x2x2x2, 0.5:-3>
    func.return
  }
}

// -----

// tt.max_pool: kernel larger than the input
builtin.module {
  func.func @f(%x: !tt.qtensor<1x2x2x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_layers.mlir:[[# @LINE + 1]]:5: error: 'tt.max_pool' op kernel (3, 3) does not fit the padded input (1, 2, 2, 2)
    %y = tt.max_pool %x {kernel = array<i64: 3, 3>, stride = array<i64: 1, 1>, padding = array<i64: 0, 0>, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x2x2x2, 0.5:-3> -> !tt.qtensor<1x1x1x2, 0.5:-3>
    func.return
  }
}

// -----

// tt.max_pool: activation range
builtin.module {
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_layers.mlir:[[# @LINE + 1]]:5: error: 'tt.max_pool' op activation range must satisfy -128 <= act_min <= act_max <= 127, got [5, 4]
    %y = tt.max_pool %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0>, act_min = 5 : i64, act_max = 4 : i64} : !tt.qtensor<1x4x4x2, 0.5:-3> -> !tt.qtensor<1x2x2x2, 0.5:-3>
    func.return
  }
}

// -----

// tt.max_pool: indices must be ui8
builtin.module {
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_layers.mlir:[[# @LINE + 1]]:5: error: 'tt.max_pool' op indices must be tensor<1x2x2x2xui8>, got tensor<1x2x2x2xi8>
    %y, %i = tt.max_pool %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0>, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x4x4x2, 0.5:-3> -> !tt.qtensor<1x2x2x2, 0.5:-3>, tensor<1x2x2x2xi8>
    func.return
  }
}

// -----

// tt.max_pool: indices of a kernel of more than 256 taps
builtin.module {
  func.func @f(%x: !tt.qtensor<1x17x16x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_layers.mlir:[[# @LINE + 1]]:5: error: 'tt.max_pool' op indices need a kernel of at most 256 taps, got 272
    %y, %i = tt.max_pool %x {kernel = array<i64: 17, 16>, stride = array<i64: 1, 1>, padding = array<i64: 0, 0>, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x17x16x2, 0.5:-3> -> !tt.qtensor<1x1x1x2, 0.5:-3>, tensor<1x1x1x2xui8>
    func.return
  }
}

// -----

// tt.max_pool: rank-2 input
builtin.module {
  func.func @f(%x: !tt.qtensor<4x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_layers.mlir:[[# @LINE + 1]]:5: error: 'tt.max_pool' op input must have rank 4, got shape (4, 2)
    %y = tt.max_pool %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0>, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<4x2, 0.5:-3> -> !tt.qtensor<1x2x2x2, 0.5:-3>
    func.return
  }
}

// -----

// tt.avg_pool: the output must keep the input's quantization
builtin.module {
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_layers.mlir:[[# @LINE + 1]]:5: error: 'tt.avg_pool' op average pooling keeps its input's quantization (TFLite's rule): output scale and zero point must be 0.5:-3, got 0.5:0
    %y = tt.avg_pool %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0>, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x4x4x2, 0.5:-3> -> !tt.qtensor<1x2x2x2, 0.5:0>
    func.return
  }
}

// -----

// tt.avg_pool: output shape
builtin.module {
  func.func @f(%x: !tt.qtensor<1x5x5x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_layers.mlir:[[# @LINE + 1]]:5: error: 'tt.avg_pool' op output shape (1, 3, 3, 2) does not match the pool of input (1, 5, 5, 2): expected (1, 2, 2, 2)
    %y = tt.avg_pool %x {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1, 0, 0>, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x5x5x2, 0.5:-3> -> !tt.qtensor<1x3x3x2, 0.5:-3>
    func.return
  }
}

// -----

// tt.hard_swish: the shape must be kept
builtin.module {
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_layers.mlir:[[# @LINE + 1]]:5: error: 'tt.hard_swish' op tt.hard_swish must keep the shape: (1, 4, 4, 2) -> (1, 4, 2, 4)
    %y = tt.hard_swish %x : !tt.qtensor<1x4x4x2, 0.5:-3> -> !tt.qtensor<1x4x2x4, 0.5:-3>
    func.return
  }
}

// -----

// tt.mul: rhs neither the lhs shape nor [N, 1, 1, C]
builtin.module {
  func.func @f(%a: !tt.qtensor<1x4x4x2, 0.5:-3>, %b: !tt.qtensor<1x4x1x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_layers.mlir:[[# @LINE + 1]]:5: error: 'tt.mul' op rhs shape (1, 4, 1, 2) must be the lhs shape (1, 4, 4, 2) or [N, 1, 1, C] broadcast over it
    %y = tt.mul %a, %b {act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x4x4x2, 0.5:-3>, !tt.qtensor<1x4x1x2, 0.5:-3> -> !tt.qtensor<1x4x4x2, 0.5:-3>
    func.return
  }
}

// -----

// tt.mul: the broadcast operand must be rhs
builtin.module {
  func.func @f(%a: !tt.qtensor<1x1x1x2, 0.5:-3>, %b: !tt.qtensor<1x4x4x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_layers.mlir:[[# @LINE + 1]]:5: error: 'tt.mul' op rhs shape (1, 4, 4, 2) must be the lhs shape (1, 1, 1, 2) or [N, 1, 1, C] broadcast over it
    %y = tt.mul %a, %b {act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x1x1x2, 0.5:-3>, !tt.qtensor<1x4x4x2, 0.5:-3> -> !tt.qtensor<1x4x4x2, 0.5:-3>
    func.return
  }
}

// -----

// tt.mul: output shape
builtin.module {
  func.func @f(%a: !tt.qtensor<1x4x4x2, 0.5:-3>, %b: !tt.qtensor<1x1x1x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_layers.mlir:[[# @LINE + 1]]:5: error: 'tt.mul' op output shape (1, 1, 1, 2) must be the lhs shape (1, 4, 4, 2)
    %y = tt.mul %a, %b {act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x4x4x2, 0.5:-3>, !tt.qtensor<1x1x1x2, 0.5:-3> -> !tt.qtensor<1x1x1x2, 0.5:-3>
    func.return
  }
}

// -----

// tt.concat: channel count
builtin.module {
  func.func @f(%a: !tt.qtensor<1x4x4x2, 0.5:-3>, %b: !tt.qtensor<1x4x4x3, 0.5:-3>) {
    // CHECK: {{.*}}invalid_layers.mlir:[[# @LINE + 1]]:5: error: 'tt.concat' op output has 6 channels, the inputs 5
    %y = tt.concat %a, %b : !tt.qtensor<1x4x4x2, 0.5:-3>, !tt.qtensor<1x4x4x3, 0.5:-3> -> !tt.qtensor<1x4x4x6, 0.5:-3>
    func.return
  }
}

// -----

// tt.concat: inputs of another spatial size
builtin.module {
  func.func @f(%a: !tt.qtensor<1x4x4x2, 0.5:-3>, %b: !tt.qtensor<1x2x2x3, 0.5:-3>) {
    // CHECK: {{.*}}invalid_layers.mlir:[[# @LINE + 1]]:5: error: 'tt.concat' op input 1 shape (1, 2, 2, 3) must match the output shape (1, 4, 4, 5) but on the last axis
    %y = tt.concat %a, %b : !tt.qtensor<1x4x4x2, 0.5:-3>, !tt.qtensor<1x2x2x3, 0.5:-3> -> !tt.qtensor<1x4x4x5, 0.5:-3>
    func.return
  }
}

// -----

// tt.max_pool_grad: indices of another shape
builtin.module {
  func.func @f(%g: tensor<1x2x2x2xf32>, %i: tensor<1x2x1x2xui8>) {
    // CHECK: {{.*}}invalid_layers.mlir:[[# @LINE + 1]]:5: error: 'tt.max_pool_grad' op indices must be tensor<1x2x2x2xui8>, got tensor<1x2x1x2xui8>
    %r = tt.max_pool_grad %g, %i {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0>} : tensor<1x2x2x2xf32>, tensor<1x2x1x2xui8> -> tensor<1x4x4x2xf32>
    func.return
  }
}

// -----

// tt.max_pool_grad: pool input of another shape
builtin.module {
  func.func @f(%g: tensor<1x2x2x2xf32>, %x: !tt.qtensor<1x5x4x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_layers.mlir:[[# @LINE + 1]]:5: error: 'tt.max_pool_grad' op pool input shape (1, 5, 4, 2) must be the grad_input shape (1, 4, 4, 2)
    %r = tt.max_pool_grad %g, %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0>} : tensor<1x2x2x2xf32>, !tt.qtensor<1x5x4x2, 0.5:-3> -> tensor<1x4x4x2xf32>
    func.return
  }
}

// -----

// tt.avg_pool_grad: grad_output is not the pooled shape
builtin.module {
  func.func @f(%g: tensor<1x3x2x2xf32>) {
    // CHECK: {{.*}}invalid_layers.mlir:[[# @LINE + 1]]:5: error: 'tt.avg_pool_grad' op grad_output shape (1, 3, 2, 2) does not match the pool of grad_input (1, 4, 4, 2): expected (1, 2, 2, 2)
    %r = tt.avg_pool_grad %g {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0>} : tensor<1x3x2x2xf32> -> tensor<1x4x4x2xf32>
    func.return
  }
}

// -----

// tt.activation_grad: unknown activation
builtin.module {
  func.func @f(%g: tensor<1x4xf32>, %x: !tt.qtensor<1x4, 0.5:-3>) {
    // CHECK: {{.*}}invalid_layers.mlir:[[# @LINE + 1]]:5: error: 'tt.activation_grad' op activation must be one of hard_swish, hard_sigmoid, sigmoid, got 'gelu'
    %r = tt.activation_grad %g, %x {activation = "gelu", output_type = !tt.qtensor<1x4, 0.5:-3>} : tensor<1x4xf32>, !tt.qtensor<1x4, 0.5:-3> -> tensor<1x4xf32>
    func.return
  }
}

// -----

// tt.activation_grad: output_type of another shape
builtin.module {
  func.func @f(%g: tensor<1x4xf32>, %x: !tt.qtensor<1x4, 0.5:-3>) {
    // CHECK: {{.*}}invalid_layers.mlir:[[# @LINE + 1]]:5: error: 'tt.activation_grad' op grad_output, input, grad_input and output_type shapes must match
    %r = tt.activation_grad %g, %x {activation = "sigmoid", output_type = !tt.qtensor<4x1, 0.5:-3>} : tensor<1x4xf32>, !tt.qtensor<1x4, 0.5:-3> -> tensor<1x4xf32>
    func.return
  }
}

// -----

// tt.mul_grad: the reduced gradient needs the full other operand
builtin.module {
  func.func @f(%g: tensor<1x4x4x2xf32>, %s: !tt.qtensor<1x1x1x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_layers.mlir:[[# @LINE + 1]]:5: error: 'tt.mul_grad' op grad_input shape (1, 1, 1, 2) must be the grad_output shape (1, 4, 4, 2), or [N, 1, 1, C] with other of shape (1, 4, 4, 2)
    %r = tt.mul_grad %g, %s : tensor<1x4x4x2xf32>, !tt.qtensor<1x1x1x2, 0.5:-3> -> tensor<1x1x1x2xf32>
    func.return
  }
}

// -----

// tt.mul_grad: other operand of another shape
builtin.module {
  func.func @f(%g: tensor<1x4x4x2xf32>, %s: !tt.qtensor<1x4x1x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_layers.mlir:[[# @LINE + 1]]:5: error: 'tt.mul_grad' op other shape (1, 4, 1, 2) must be (1, 4, 4, 2) or [N, 1, 1, C] broadcast over it
    %r = tt.mul_grad %g, %s : tensor<1x4x4x2xf32>, !tt.qtensor<1x4x1x2, 0.5:-3> -> tensor<1x4x4x2xf32>
    func.return
  }
}

// -----

// tt.concat_grad: channels beyond grad_output
builtin.module {
  func.func @f(%g: tensor<1x4x4x5xf32>) {
    // CHECK: {{.*}}invalid_layers.mlir:[[# @LINE + 1]]:5: error: 'tt.concat_grad' op channels [3, 6) are not among the 5 of grad_output
    %r = tt.concat_grad %g {channel_offset = 3 : i64} : tensor<1x4x4x5xf32> -> tensor<1x4x4x3xf32>
    func.return
  }
}

// -----

// tt.concat_grad: another spatial size
builtin.module {
  func.func @f(%g: tensor<1x4x4x5xf32>) {
    // CHECK: {{.*}}invalid_layers.mlir:[[# @LINE + 1]]:5: error: 'tt.concat_grad' op grad_input shape (1, 4, 2, 3) must match (1, 4, 4, 5) on every axis but the last
    %r = tt.concat_grad %g {channel_offset = 0 : i64} : tensor<1x4x4x5xf32> -> tensor<1x4x2x3xf32>
    func.return
  }
}
