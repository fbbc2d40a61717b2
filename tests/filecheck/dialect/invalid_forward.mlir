// RUN: tt-opt %s --split-input-file --verify-diagnostics | filecheck %s

// Verifier errors of the forward ops (tt.conv2d, tt.linear, tt.add, tt.global_avg_pool,
// tt.reshape, tt.quantize, tt.dequantize, tt.requantize, tt.clamp), one per chunk.

// tt.conv2d: input rank
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%x: !tt.qtensor<4x4x2, 0.5:0>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d' op input must have rank 4, got shape (4, 4, 2)
    %y = tt.conv2d %x, @w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<4x4x2, 0.5:0> -> !tt.qtensor<1x4x4x4, 0.25:-128>
    func.return
  }
}

// -----

// tt.conv2d: output rank
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d' op output must have rank 4, got shape (4, 4, 4)
    %y = tt.conv2d %x, @w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x4x4x2, 0.5:-3> -> !tt.qtensor<4x4x4, 0.25:-128>
    func.return
  }
}

// -----

// tt.conv2d: act_min > act_max
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d' op activation range must satisfy -128 <= act_min <= act_max <= 127, got [10, 5]
    %y = tt.conv2d %x, @w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64, act_min = 10 : i64, act_max = 5 : i64} : !tt.qtensor<1x4x4x2, 0.5:-3> -> !tt.qtensor<1x4x4x4, 0.25:-128>
    func.return
  }
}

// -----

// tt.conv2d: act_max above the int8 range
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d' op activation range must satisfy -128 <= act_min <= act_max <= 127, got [0, 128]
    %y = tt.conv2d %x, @w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64, act_min = 0 : i64, act_max = 128 : i64} : !tt.qtensor<1x4x4x2, 0.5:-3> -> !tt.qtensor<1x4x4x4, 0.25:-128>
    func.return
  }
}

// -----

// tt.conv2d: act_min below the int8 range
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d' op activation range must satisfy -128 <= act_min <= act_max <= 127, got [-129, 0]
    %y = tt.conv2d %x, @w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64, act_min = -129 : i64, act_max = 0 : i64} : !tt.qtensor<1x4x4x2, 0.5:-3> -> !tt.qtensor<1x4x4x4, 0.25:-128>
    func.return
  }
}

// -----

// tt.conv2d: weight symbol does not exist
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d' op @missing does not name a tt.param in the enclosing module
    %y = tt.conv2d %x, @missing {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x4x4x2, 0.5:-3> -> !tt.qtensor<1x4x4x4, 0.25:-128>
    func.return
  }
}

// -----

// tt.conv2d: weight symbol names a function, not a tt.param
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d' op @f does not name a tt.param in the enclosing module
    %y = tt.conv2d %x, @f {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x4x4x2, 0.5:-3> -> !tt.qtensor<1x4x4x4, 0.25:-128>
    func.return
  }
}

// -----

// tt.conv2d: weight is i32
builtin.module {
  tt.param @w : tensor<4x3x3x2xi32> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d' op weight @w must be a rank-4 i8 tt.param, got tensor<4x3x3x2xi32>
    %y = tt.conv2d %x, @w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x4x4x2, 0.5:-3> -> !tt.qtensor<1x4x4x4, 0.25:-128>
    func.return
  }
}

// -----

// tt.conv2d: weight has rank 3
builtin.module {
  tt.param @w : tensor<4x3x3xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d' op weight @w must be a rank-4 i8 tt.param, got tensor<4x3x3xi8>
    %y = tt.conv2d %x, @w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x4x4x2, 0.5:-3> -> !tt.qtensor<1x4x4x4, 0.25:-128>
    func.return
  }
}

// -----

// tt.conv2d: weight without scales
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> = #tt.external<"w">
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d' op weight @w must carry per-output-channel scales
    %y = tt.conv2d %x, @w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x4x4x2, 0.5:-3> -> !tt.qtensor<1x4x4x4, 0.25:-128>
    func.return
  }
}

// -----

// tt.conv2d: stride with one value
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d' op stride must be two integers >= 1, got [1]
    %y = tt.conv2d %x, @w {stride = array<i64: 1>, padding = array<i64: 1, 1>, groups = 1 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x4x4x2, 0.5:-3> -> !tt.qtensor<1x4x4x4, 0.25:-128>
    func.return
  }
}

// -----

// tt.conv2d: zero stride
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d' op stride must be two integers >= 1, got [0, 1]
    %y = tt.conv2d %x, @w {stride = array<i64: 0, 1>, padding = array<i64: 1, 1>, groups = 1 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x4x4x2, 0.5:-3> -> !tt.qtensor<1x4x4x4, 0.25:-128>
    func.return
  }
}

// -----

// tt.conv2d: padding with three values
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d' op padding must be 2 or 4 integers >= 0, got [1, 1, 1]
    %y = tt.conv2d %x, @w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1, 1>, groups = 1 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x4x4x2, 0.5:-3> -> !tt.qtensor<1x4x4x4, 0.25:-128>
    func.return
  }
}

// -----

// tt.conv2d: negative padding
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d' op padding must be 2 or 4 integers >= 0, got [1, -1]
    %y = tt.conv2d %x, @w {stride = array<i64: 1, 1>, padding = array<i64: 1, -1>, groups = 1 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x4x4x2, 0.5:-3> -> !tt.qtensor<1x4x4x4, 0.25:-128>
    func.return
  }
}

// -----

// tt.conv2d: zero groups
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d' op groups must be >= 1, got 0
    %y = tt.conv2d %x, @w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 0 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x4x4x2, 0.5:-3> -> !tt.qtensor<1x4x4x4, 0.25:-128>
    func.return
  }
}

// -----

// tt.conv2d: groups does not divide the channels
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d' op groups=3 must divide input channels (2) and output channels (4)
    %y = tt.conv2d %x, @w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 3 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x4x4x2, 0.5:-3> -> !tt.qtensor<1x4x4x4, 0.25:-128>
    func.return
  }
}

// -----

// tt.conv2d: weight input channels do not match the groups
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d' op weight expects 2 input channels per group, input has 2 channels in 2 group(s)
    %y = tt.conv2d %x, @w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 2 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x4x4x2, 0.5:-3> -> !tt.qtensor<1x4x4x4, 0.25:-128>
    func.return
  }
}

// -----

// tt.conv2d: weight input channels do not match the input
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%x: !tt.qtensor<1x4x4x3, 0.5:0>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d' op weight expects 2 input channels per group, input has 3 channels in 1 group(s)
    %y = tt.conv2d %x, @w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x4x4x3, 0.5:0> -> !tt.qtensor<1x4x4x4, 0.25:-128>
    func.return
  }
}

// -----

// tt.conv2d: wrong output channels
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d' op output shape (1, 4, 4, 5) does not match conv of input (1, 4, 4, 2) with weight (4, 3, 3, 2): expected (1, 4, 4, 4)
    %y = tt.conv2d %x, @w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x4x4x2, 0.5:-3> -> !tt.qtensor<1x4x4x5, 0.25:-128>
    func.return
  }
}

// -----

// tt.conv2d: wrong spatial size for stride 2
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d' op output shape (1, 4, 4, 4) does not match conv of input (1, 4, 4, 2) with weight (4, 3, 3, 2): expected (1, 2, 2, 4)
    %y = tt.conv2d %x, @w {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, groups = 1 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x4x4x2, 0.5:-3> -> !tt.qtensor<1x4x4x4, 0.25:-128>
    func.return
  }
}

// -----

// tt.conv2d: wrong batch
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d' op output shape (2, 4, 4, 4) does not match conv of input (1, 4, 4, 2) with weight (4, 3, 3, 2): expected (1, 4, 4, 4)
    %y = tt.conv2d %x, @w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x4x4x2, 0.5:-3> -> !tt.qtensor<2x4x4x4, 0.25:-128>
    func.return
  }
}

// -----

// tt.conv2d: bias with the wrong length
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  tt.param @b : tensor<3xi32> = #tt.external<"b">
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d' op bias @b must be a tensor<4xi32> tt.param, got tensor<3xi32>
    %y = tt.conv2d %x, @w, @b {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x4x4x2, 0.5:-3> -> !tt.qtensor<1x4x4x4, 0.25:-128>
    func.return
  }
}

// -----

// tt.conv2d: i8 bias
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  tt.param @b : tensor<4xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"b">
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d' op bias @b must be a tensor<4xi32> tt.param, got tensor<4xi8>
    %y = tt.conv2d %x, @w, @b {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x4x4x2, 0.5:-3> -> !tt.qtensor<1x4x4x4, 0.25:-128>
    func.return
  }
}

// -----

// tt.conv2d: bias symbol does not exist
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d' op @b does not name a tt.param in the enclosing module
    %y = tt.conv2d %x, @w, @b {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x4x4x2, 0.5:-3> -> !tt.qtensor<1x4x4x4, 0.25:-128>
    func.return
  }
}

// -----

// tt.linear: input rank
builtin.module {
  tt.param @fc : tensor<3x2xi8> scales dense<1.250000e-01> : tensor<3xf32> = #tt.external<"fc">
  func.func @f(%x: !tt.qtensor<2x1x1x2, 0.5:0>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.linear' op input must have rank 2, got shape (2, 1, 1, 2)
    %y = tt.linear %x, @fc {act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<2x1x1x2, 0.5:0> -> !tt.qtensor<2x3, 0.25:-5>
    func.return
  }
}

// -----

// tt.linear: output rank
builtin.module {
  tt.param @fc : tensor<3x2xi8> scales dense<1.250000e-01> : tensor<3xf32> = #tt.external<"fc">
  func.func @f(%x: !tt.qtensor<2x2, 0.5:1>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.linear' op output must have rank 2, got shape (6,)
    %y = tt.linear %x, @fc {act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<2x2, 0.5:1> -> !tt.qtensor<6, 0.5:0>
    func.return
  }
}

// -----

// tt.linear: act range
builtin.module {
  tt.param @fc : tensor<3x2xi8> scales dense<1.250000e-01> : tensor<3xf32> = #tt.external<"fc">
  func.func @f(%x: !tt.qtensor<2x2, 0.5:1>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.linear' op activation range must satisfy -128 <= act_min <= act_max <= 127, got [1, 0]
    %y = tt.linear %x, @fc {act_min = 1 : i64, act_max = 0 : i64} : !tt.qtensor<2x2, 0.5:1> -> !tt.qtensor<2x3, 0.25:-5>
    func.return
  }
}

// -----

// tt.linear: weight symbol does not exist
builtin.module {
  tt.param @fc : tensor<3x2xi8> scales dense<1.250000e-01> : tensor<3xf32> = #tt.external<"fc">
  func.func @f(%x: !tt.qtensor<2x2, 0.5:1>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.linear' op @nope does not name a tt.param in the enclosing module
    %y = tt.linear %x, @nope {act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<2x2, 0.5:1> -> !tt.qtensor<2x3, 0.25:-5>
    func.return
  }
}

// -----

// tt.linear: rank-4 weight
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%x: !tt.qtensor<2x2, 0.5:1>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.linear' op weight @w must be a rank-2 i8 tt.param, got tensor<4x3x3x2xi8>
    %y = tt.linear %x, @w {act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<2x2, 0.5:1> -> !tt.qtensor<2x3, 0.25:-5>
    func.return
  }
}

// -----

// tt.linear: weight without scales
builtin.module {
  tt.param @fc : tensor<3x2xi8> = #tt.external<"fc">
  func.func @f(%x: !tt.qtensor<2x2, 0.5:1>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.linear' op weight @fc must carry per-output-channel scales
    %y = tt.linear %x, @fc {act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<2x2, 0.5:1> -> !tt.qtensor<2x3, 0.25:-5>
    func.return
  }
}

// -----

// tt.linear: feature count mismatch
builtin.module {
  tt.param @fc : tensor<3x2xi8> scales dense<1.250000e-01> : tensor<3xf32> = #tt.external<"fc">
  func.func @f(%x: !tt.qtensor<2x4, 0.5:0>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.linear' op input has 4 features, weight expects 2
    %y = tt.linear %x, @fc {act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<2x4, 0.5:0> -> !tt.qtensor<2x3, 0.25:-5>
    func.return
  }
}

// -----

// tt.linear: wrong output features
builtin.module {
  tt.param @fc : tensor<3x2xi8> scales dense<1.250000e-01> : tensor<3xf32> = #tt.external<"fc">
  func.func @f(%x: !tt.qtensor<2x2, 0.5:1>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.linear' op output shape (2, 4) must be (2, 3)
    %y = tt.linear %x, @fc {act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<2x2, 0.5:1> -> !tt.qtensor<2x4, 0.5:0>
    func.return
  }
}

// -----

// tt.linear: wrong output batch
builtin.module {
  tt.param @fc : tensor<3x2xi8> scales dense<1.250000e-01> : tensor<3xf32> = #tt.external<"fc">
  func.func @f(%x: !tt.qtensor<2x2, 0.5:1>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.linear' op output shape (1, 3) must be (2, 3)
    %y = tt.linear %x, @fc {act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<2x2, 0.5:1> -> !tt.qtensor<1x3, 0.5:0>
    func.return
  }
}

// -----

// tt.linear: bias with the wrong length
builtin.module {
  tt.param @fc : tensor<3x2xi8> scales dense<1.250000e-01> : tensor<3xf32> = #tt.external<"fc">
  tt.param @b : tensor<4xi32> = #tt.external<"b">
  func.func @f(%x: !tt.qtensor<2x2, 0.5:1>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.linear' op bias @b must be a tensor<3xi32> tt.param, got tensor<4xi32>
    %y = tt.linear %x, @fc, @b {act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<2x2, 0.5:1> -> !tt.qtensor<2x3, 0.25:-5>
    func.return
  }
}

// -----

// tt.add: act range
builtin.module {
  func.func @f(%a: !tt.qtensor<1x2x3, 0.5:0>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.add' op activation range must satisfy -128 <= act_min <= act_max <= 127, got [-128, 200]
    %y = tt.add %a, %a {act_min = -128 : i64, act_max = 200 : i64} : !tt.qtensor<1x2x3, 0.5:0>, !tt.qtensor<1x2x3, 0.5:0> -> !tt.qtensor<1x2x3, 0.5:0>
    func.return
  }
}

// -----

// tt.add: operand shapes differ
builtin.module {
  func.func @f(%a: !tt.qtensor<1x2x3, 0.5:0>, %b: !tt.qtensor<1x3x2, 0.5:0>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.add' op operand and result shapes must match, got (1, 2, 3), (1, 3, 2) -> (1, 2, 3)
    %y = tt.add %a, %b {act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x2x3, 0.5:0>, !tt.qtensor<1x3x2, 0.5:0> -> !tt.qtensor<1x2x3, 0.5:0>
    func.return
  }
}

// -----

// tt.add: result shape differs
builtin.module {
  func.func @f(%a: !tt.qtensor<1x2x3, 0.5:0>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.add' op operand and result shapes must match, got (1, 2, 3), (1, 2, 3) -> (2, 3)
    %y = tt.add %a, %a {act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x2x3, 0.5:0>, !tt.qtensor<1x2x3, 0.5:0> -> !tt.qtensor<2x3, 0.5:0>
    func.return
  }
}

// -----

// tt.global_avg_pool: input rank
builtin.module {
  func.func @f(%x: !tt.qtensor<2x2x3, 0.5:0>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.global_avg_pool' op input must have rank 4, got shape (2, 2, 3)
    %y = tt.global_avg_pool %x : !tt.qtensor<2x2x3, 0.5:0> -> !tt.qtensor<1x1x3, 0.5:0>
    func.return
  }
}

// -----

// tt.global_avg_pool: spatial dims not reduced to 1x1
builtin.module {
  func.func @f(%x: !tt.qtensor<1x2x2x3, 0.5:0>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.global_avg_pool' op output shape (1, 2, 2, 3) must be (1, 1, 1, 3)
    %y = tt.global_avg_pool %x : !tt.qtensor<1x2x2x3, 0.5:0> -> !tt.qtensor<1x2x2x3, 0.5:0>
    func.return
  }
}

// -----

// tt.global_avg_pool: flattened output
builtin.module {
  func.func @f(%x: !tt.qtensor<1x2x2x3, 0.5:0>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.global_avg_pool' op output shape (1, 3) must be (1, 1, 1, 3)
    %y = tt.global_avg_pool %x : !tt.qtensor<1x2x2x3, 0.5:0> -> !tt.qtensor<1x3, 0.5:0>
    func.return
  }
}

// -----

// tt.reshape: qtensor to tensor
builtin.module {
  func.func @f(%x: !tt.qtensor<1x1x1x3, 0.5:2>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.reshape' op reshape must keep the tensor kind (qtensor or tensor)
    %y = tt.reshape %x : !tt.qtensor<1x1x1x3, 0.5:2> -> tensor<1x3xf32>
    func.return
  }
}

// -----

// tt.reshape: tensor to qtensor
builtin.module {
  func.func @f(%x: tensor<1x3xf32>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.reshape' op reshape must keep the tensor kind (qtensor or tensor)
    %y = tt.reshape %x : tensor<1x3xf32> -> !tt.qtensor<1x1x1x3, 0.5:2>
    func.return
  }
}

// -----

// tt.reshape: scale changes
builtin.module {
  func.func @f(%x: !tt.qtensor<1x1x1x3, 0.5:2>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.reshape' op reshape must keep scale and zero point
    %y = tt.reshape %x : !tt.qtensor<1x1x1x3, 0.5:2> -> !tt.qtensor<1x3, 0.25:2>
    func.return
  }
}

// -----

// tt.reshape: zero point changes
builtin.module {
  func.func @f(%x: !tt.qtensor<1x1x1x3, 0.5:2>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.reshape' op reshape must keep scale and zero point
    %y = tt.reshape %x : !tt.qtensor<1x1x1x3, 0.5:2> -> !tt.qtensor<1x3, 0.5:3>
    func.return
  }
}

// -----

// tt.reshape: element type changes
builtin.module {
  func.func @f(%x: tensor<1x3xf32>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.reshape' op reshape must keep the element type
    %y = tt.reshape %x : tensor<1x3xf32> -> tensor<3xi32>
    func.return
  }
}

// -----

// tt.reshape: qtensor element count changes
builtin.module {
  func.func @f(%x: !tt.qtensor<1x1x1x3, 0.5:2>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.reshape' op reshape must keep the element count: (1, 1, 1, 3) -> (1, 4)
    %y = tt.reshape %x : !tt.qtensor<1x1x1x3, 0.5:2> -> !tt.qtensor<1x4, 0.5:2>
    func.return
  }
}

// -----

// tt.reshape: tensor element count changes
builtin.module {
  func.func @f(%x: tensor<2x3xf32>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.reshape' op reshape must keep the element count: (2, 3) -> (1, 3)
    %y = tt.reshape %x : tensor<2x3xf32> -> tensor<1x3xf32>
    func.return
  }
}

// -----

// tt.quantize: integer input
builtin.module {
  func.func @f(%x: tensor<1x3xi32>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.quantize' op input must be a tensor of f32, got tensor<1x3xi32>
    %y = tt.quantize %x : tensor<1x3xi32> -> !tt.qtensor<1x3, 0.5:0>
    func.return
  }
}

// -----

// tt.quantize: f64 input
builtin.module {
  func.func @f(%x: tensor<1x3xf64>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.quantize' op input must be a tensor of f32, got tensor<1x3xf64>
    %y = tt.quantize %x : tensor<1x3xf64> -> !tt.qtensor<1x3, 0.5:0>
    func.return
  }
}

// -----

// tt.quantize: shape changes
builtin.module {
  func.func @f(%x: tensor<1x3xf32>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.quantize' op quantize must keep the shape
    %y = tt.quantize %x : tensor<1x3xf32> -> !tt.qtensor<3x1, 0.5:0>
    func.return
  }
}

// -----

// tt.dequantize: f16 result
builtin.module {
  func.func @f(%x: !tt.qtensor<1x3, 0.5:0>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.dequantize' op result must be a tensor of f32, got tensor<1x3xf16>
    %y = tt.dequantize %x : !tt.qtensor<1x3, 0.5:0> -> tensor<1x3xf16>
    func.return
  }
}

// -----

// tt.dequantize: shape changes
builtin.module {
  func.func @f(%x: !tt.qtensor<1x3, 0.5:0>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.dequantize' op dequantize must keep the shape
    %y = tt.dequantize %x : !tt.qtensor<1x3, 0.5:0> -> tensor<3xf32>
    func.return
  }
}

// -----

// tt.requantize: shape changes
builtin.module {
  func.func @f(%x: !tt.qtensor<1x3, 0.5:0>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.requantize' op requantize must keep the shape
    %y = tt.requantize %x : !tt.qtensor<1x3, 0.5:0> -> !tt.qtensor<1x4, 0.25:1>
    func.return
  }
}

// -----

// tt.clamp: act range
builtin.module {
  func.func @f(%x: !tt.qtensor<1x3, 0.5:0>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.clamp' op activation range must satisfy -128 <= act_min <= act_max <= 127, got [0, -1]
    %y = tt.clamp %x {act_min = 0 : i64, act_max = -1 : i64} : !tt.qtensor<1x3, 0.5:0> -> !tt.qtensor<1x3, 0.5:0>
    func.return
  }
}

// -----

// tt.clamp: scale changes
builtin.module {
  func.func @f(%x: !tt.qtensor<1x3, 0.5:0>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.clamp' op clamp must keep the type (shape, scale, zero point)
    %y = tt.clamp %x {act_min = 0 : i64, act_max = 127 : i64} : !tt.qtensor<1x3, 0.5:0> -> !tt.qtensor<1x3, 0.25:0>
    func.return
  }
}

// -----

// tt.clamp: zero point changes
builtin.module {
  func.func @f(%x: !tt.qtensor<1x3, 0.5:0>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.clamp' op clamp must keep the type (shape, scale, zero point)
    %y = tt.clamp %x {act_min = 0 : i64, act_max = 127 : i64} : !tt.qtensor<1x3, 0.5:0> -> !tt.qtensor<1x3, 0.5:1>
    func.return
  }
}

// -----

// tt.clamp: shape changes
builtin.module {
  func.func @f(%x: !tt.qtensor<1x3, 0.5:0>) {
    // CHECK: {{.*}}invalid_forward.mlir:[[# @LINE + 1]]:5: error: 'tt.clamp' op clamp must keep the type (shape, scale, zero point)
    %y = tt.clamp %x {act_min = 0 : i64, act_max = 127 : i64} : !tt.qtensor<1x3, 0.5:0> -> !tt.qtensor<3x1, 0.5:0>
    func.return
  }
}
