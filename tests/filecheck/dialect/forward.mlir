// RUN: tt-opt %s | tt-opt | filecheck %s
// RUN: tt-opt %s --print-op-generic | tt-opt | filecheck %s

// Forward ops: conv2d (regular, depthwise, depthwise with channel multiplier, grouped,
// pointwise, with and without bias), linear (with and without bias), add, clamp,
// global_avg_pool, reshape (qtensor and f32), quantize, dequantize, requantize.

builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<[1.000000e-01, 2.000000e-01, 3.000000e-01, 4.000000e-01]> : tensor<4xf32> = #tt.external<"w">
  tt.param @b : tensor<4xi32> scales dense<5.000000e-02> : tensor<4xf32> = dense<[1, -2, 3, -4]> : tensor<4xi32>
  tt.param @dw : tensor<2x3x3x1xi8> scales dense<[5.000000e-01, 2.500000e-01]> : tensor<2xf32> = #tt.external<"dw">
  tt.param @dwb : tensor<2xi32> = #tt.external<"dwb">
  tt.param @dwm : tensor<4x3x3x1xi8> scales dense<5.000000e-01> : tensor<4xf32> = #tt.external<"dwm">
  tt.param @gw : tensor<4x1x1x2xi8> scales dense<5.000000e-01> : tensor<4xf32> = #tt.external<"gw">
  tt.param @pw : tensor<3x1x1x2xi8> scales #tt.external<"pw.scales"> = #tt.external<"pw">
  tt.param @fc : tensor<3x2xi8> scales dense<1.250000e-01> : tensor<3xf32> = dense<[[1, -1], [2, -2], [3, -3]]> : tensor<3x2xi8>
  tt.param @fcb : tensor<3xi32> = dense<0> : tensor<3xi32>

  // CHECK-LABEL: func.func @conv2d
  func.func @conv2d(%x: !tt.qtensor<1x4x4x2, 0.5:-3>, %x4: !tt.qtensor<1x4x4x4, 0.5:0>) {
    // CHECK-NEXT: %regular = tt.conv2d %x, @w, @b {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x4x4x2, 0.5:-3> -> !tt.qtensor<1x4x4x4, 0.25:-128>
    %regular = tt.conv2d %x, @w, @b {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x4x4x2, 0.5:-3> -> !tt.qtensor<1x4x4x4, 0.25:-128>
    // CHECK-NEXT: %strided = tt.conv2d %x, @w, @b {stride = array<i64: 2, 1>, padding = array<i64: 0, 1>, groups = 1 : i64, act_min = 0 : i64, act_max = 127 : i64} : !tt.qtensor<1x4x4x2, 0.5:-3> -> !tt.qtensor<1x1x4x4, 0.25:-128>
    %strided = tt.conv2d %x, @w, @b {stride = array<i64: 2, 1>, padding = array<i64: 0, 1>, groups = 1 : i64, act_min = 0 : i64, act_max = 127 : i64} : !tt.qtensor<1x4x4x2, 0.5:-3> -> !tt.qtensor<1x1x4x4, 0.25:-128>
    // CHECK-NEXT: %no_bias = tt.conv2d %x, @w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x4x4x2, 0.5:-3> -> !tt.qtensor<1x4x4x4, 0.25:-128>
    %no_bias = tt.conv2d %x, @w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x4x4x2, 0.5:-3> -> !tt.qtensor<1x4x4x4, 0.25:-128>
    // CHECK-NEXT: %depthwise = tt.conv2d %x, @dw, @dwb {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, groups = 2 : i64, act_min = -128 : i64, act_max = 6 : i64} : !tt.qtensor<1x4x4x2, 0.5:-3> -> !tt.qtensor<1x2x2x2, 0.125:-128>
    %depthwise = tt.conv2d %x, @dw, @dwb {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, groups = 2 : i64, act_min = -128 : i64, act_max = 6 : i64} : !tt.qtensor<1x4x4x2, 0.5:-3> -> !tt.qtensor<1x2x2x2, 0.125:-128>
    // CHECK-NEXT: %depthwise_x2 = tt.conv2d %x, @dwm {stride = array<i64: 1, 1>, padding = array<i64: 0, 0>, groups = 2 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x4x4x2, 0.5:-3> -> !tt.qtensor<1x2x2x4, 0.125:0>
    %depthwise_x2 = tt.conv2d %x, @dwm {stride = array<i64: 1, 1>, padding = array<i64: 0, 0>, groups = 2 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x4x4x2, 0.5:-3> -> !tt.qtensor<1x2x2x4, 0.125:0>
    // CHECK-NEXT: %grouped = tt.conv2d %x4, @gw {stride = array<i64: 1, 1>, padding = array<i64: 0, 0>, groups = 2 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x4x4x4, 0.5:0> -> !tt.qtensor<1x4x4x4, 0.5:0>
    %grouped = tt.conv2d %x4, @gw {stride = array<i64: 1, 1>, padding = array<i64: 0, 0>, groups = 2 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x4x4x4, 0.5:0> -> !tt.qtensor<1x4x4x4, 0.5:0>
    // CHECK-NEXT: %pointwise = tt.conv2d %x, @pw {stride = array<i64: 1, 1>, padding = array<i64: 0, 0>, groups = 1 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x4x4x2, 0.5:-3> -> !tt.qtensor<1x4x4x3, 0.75:2>
    %pointwise = tt.conv2d %x, @pw {stride = array<i64: 1, 1>, padding = array<i64: 0, 0>, groups = 1 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x4x4x2, 0.5:-3> -> !tt.qtensor<1x4x4x3, 0.75:2>
    // CHECK-NEXT: func.return
    func.return
  }

  // CHECK-LABEL: func.func @linear
  func.func @linear(%x: !tt.qtensor<2x2, 0.5:1>) {
    // CHECK-NEXT: %with_bias = tt.linear %x, @fc, @fcb {act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<2x2, 0.5:1> -> !tt.qtensor<2x3, 0.25:-5>
    %with_bias = tt.linear %x, @fc, @fcb {act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<2x2, 0.5:1> -> !tt.qtensor<2x3, 0.25:-5>
    // CHECK-NEXT: %no_bias = tt.linear %x, @fc {act_min = 0 : i64, act_max = 0 : i64} : !tt.qtensor<2x2, 0.5:1> -> !tt.qtensor<2x3, 0.25:-5>
    %no_bias = tt.linear %x, @fc {act_min = 0 : i64, act_max = 0 : i64} : !tt.qtensor<2x2, 0.5:1> -> !tt.qtensor<2x3, 0.25:-5>
    // CHECK-NEXT: func.return
    func.return
  }

  // CHECK-LABEL: func.func @elementwise
  func.func @elementwise(%a: !tt.qtensor<1x2x2x3, 0.5:-3>, %b: !tt.qtensor<1x2x2x3, 0.25:7>) {
    // CHECK-NEXT: %sum = tt.add %a, %b {act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x2x2x3, 0.5:-3>, !tt.qtensor<1x2x2x3, 0.25:7> -> !tt.qtensor<1x2x2x3, 0.75:0>
    %sum = tt.add %a, %b {act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x2x2x3, 0.5:-3>, !tt.qtensor<1x2x2x3, 0.25:7> -> !tt.qtensor<1x2x2x3, 0.75:0>
    // CHECK-NEXT: %relu = tt.clamp %sum {act_min = 0 : i64, act_max = 127 : i64} : !tt.qtensor<1x2x2x3, 0.75:0> -> !tt.qtensor<1x2x2x3, 0.75:0>
    %relu = tt.clamp %sum {act_min = 0 : i64, act_max = 127 : i64} : !tt.qtensor<1x2x2x3, 0.75:0> -> !tt.qtensor<1x2x2x3, 0.75:0>
    // CHECK-NEXT: %requant = tt.requantize %relu : !tt.qtensor<1x2x2x3, 0.75:0> -> !tt.qtensor<1x2x2x3, 1.5e-05:-128>
    %requant = tt.requantize %relu : !tt.qtensor<1x2x2x3, 0.75:0> -> !tt.qtensor<1x2x2x3, 1.5e-05:-128>
    // CHECK-NEXT: func.return
    func.return
  }

  // CHECK-LABEL: func.func @pool_and_reshape
  func.func @pool_and_reshape(%x: !tt.qtensor<2x2x2x3, 0.5:-3>, %f: tensor<2x1x1x3xf32>) {
    // CHECK-NEXT: %pool = tt.global_avg_pool %x : !tt.qtensor<2x2x2x3, 0.5:-3> -> !tt.qtensor<2x1x1x3, 0.25:-1>
    %pool = tt.global_avg_pool %x : !tt.qtensor<2x2x2x3, 0.5:-3> -> !tt.qtensor<2x1x1x3, 0.25:-1>
    // CHECK-NEXT: %flat = tt.reshape %pool : !tt.qtensor<2x1x1x3, 0.25:-1> -> !tt.qtensor<2x3, 0.25:-1>
    %flat = tt.reshape %pool : !tt.qtensor<2x1x1x3, 0.25:-1> -> !tt.qtensor<2x3, 0.25:-1>
    // CHECK-NEXT: %flat_f32 = tt.reshape %f : tensor<2x1x1x3xf32> -> tensor<2x3xf32>
    %flat_f32 = tt.reshape %f : tensor<2x1x1x3xf32> -> tensor<2x3xf32>
    // CHECK-NEXT: %unflat_f32 = tt.reshape %flat_f32 : tensor<2x3xf32> -> tensor<2x1x1x3xf32>
    %unflat_f32 = tt.reshape %flat_f32 : tensor<2x3xf32> -> tensor<2x1x1x3xf32>
    // CHECK-NEXT: func.return
    func.return
  }

  // CHECK-LABEL: func.func @quantization
  func.func @quantization(%f: tensor<1x2x2x3xf32>) -> tensor<1x2x2x3xf32> {
    // CHECK-NEXT: %q = tt.quantize %f : tensor<1x2x2x3xf32> -> !tt.qtensor<1x2x2x3, 0.0235:-128>
    %q = tt.quantize %f : tensor<1x2x2x3xf32> -> !tt.qtensor<1x2x2x3, 0.0235:-128>
    // CHECK-NEXT: %d = tt.dequantize %q : !tt.qtensor<1x2x2x3, 0.0235:-128> -> tensor<1x2x2x3xf32>
    %d = tt.dequantize %q : !tt.qtensor<1x2x2x3, 0.0235:-128> -> tensor<1x2x2x3xf32>
    // CHECK-NEXT: func.return %d : tensor<1x2x2x3xf32>
    func.return %d : tensor<1x2x2x3xf32>
  }
}
