// RUN: tt-opt %s -p tt-stream-frozen | filecheck %s
// RUN: tt-opt %S/inputs/small_cnn.mlir -p 'tt-training-pipeline{scheme=%S/inputs/last_bias.json}' | filecheck %s --check-prefix=STEP
// RUN: tt-opt %S/inputs/small_cnn.mlir -p 'tt-autodiff,tt-sparse-update{scheme=bias-only},tt-fuse-update,tt-stream-frozen' | filecheck %s --check-prefix=SAVED

// An expand -> depthwise -> project chain with private intermediates becomes one tt.bottleneck
// named after the project conv; each conv's clamp, the depthwise stride and padding and both
// intermediate types become attributes.
builtin.module {
  tt.param @e.w : tensor<6x1x1x2xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"e.w">
  tt.param @e.b : tensor<6xi32> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"e.b">
  tt.param @d.w : tensor<6x3x3x1xi8> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"d.w">
  tt.param @d.b : tensor<6xi32> scales dense<1.000000e-01> : tensor<6xf32> = #tt.external<"d.b">
  tt.param @p.w : tensor<3x1x1x6xi8> scales dense<1.000000e-01> : tensor<3xf32> = #tt.external<"p.w">
  tt.param @p.b : tensor<3xi32> scales dense<1.000000e-01> : tensor<3xf32> = #tt.external<"p.b">
  tt.param @s.w : tensor<2x3x3x3xi8> scales dense<1.000000e-01> : tensor<2xf32> = #tt.external<"s.w">
  tt.param @d2.w : tensor<2x3x3x1xi8> scales dense<1.000000e-01> : tensor<2xf32> = #tt.external<"d2.w">
  tt.param @p2.w : tensor<3x1x1x2xi8> scales dense<1.000000e-01> : tensor<3xf32> = #tt.external<"p2.w">

  // CHECK-LABEL: func.func @chain(
  // CHECK-NEXT:    %y = tt.bottleneck %x expand @e.w, @e.b depthwise @d.w, @d.b project @p.w, @p.b {expanded_type = !tt.qtensor<1x8x8x6, 0.25:-128>, expand_act = array<i64: -128, 127>, depthwise_type = !tt.qtensor<1x4x4x6, 0.125:-128>, depthwise_act = array<i64: -128, 100>, project_act = array<i64: -20, 127>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : !tt.qtensor<1x8x8x2, 0.5:-3> -> !tt.qtensor<1x4x4x3, 0.3:5>
  // CHECK-NEXT:    func.return %y
  func.func @chain(%x: !tt.qtensor<1x8x8x2, 0.5:-3>) -> !tt.qtensor<1x4x4x3, 0.3:5> {
    %e = tt.conv2d %x, @e.w, @e.b {stride = array<i64: 1, 1>, padding = array<i64: 0, 0>, groups = 1 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x8x8x2, 0.5:-3> -> !tt.qtensor<1x8x8x6, 0.25:-128>
    %d = tt.conv2d %e, @d.w, @d.b {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, groups = 6 : i64, act_min = -128 : i64, act_max = 100 : i64} : !tt.qtensor<1x8x8x6, 0.25:-128> -> !tt.qtensor<1x4x4x6, 0.125:-128>
    %y = tt.conv2d %d, @p.w, @p.b {stride = array<i64: 1, 1>, padding = array<i64: 0, 0>, groups = 1 : i64, act_min = -20 : i64, act_max = 127 : i64} : !tt.qtensor<1x4x4x6, 0.125:-128> -> !tt.qtensor<1x4x4x3, 0.3:5>
    func.return %y : !tt.qtensor<1x4x4x3, 0.3:5>
  }

  // Expansion ratio 1 (no expand conv: the depthwise conv reads the argument), no biases.
  // CHECK-LABEL: func.func @no_expand(
  // CHECK-NEXT:    %y = tt.bottleneck %x depthwise @d.w project @p.w {depthwise_type = !tt.qtensor<1x8x8x6, 0.125:-128>, depthwise_act = array<i64: -128, 127>, project_act = array<i64: -128, 127>, stride = array<i64: 1, 1>, padding = array<i64: 1, 1>} : !tt.qtensor<1x8x8x6, 0.25:-128> -> !tt.qtensor<1x8x8x3, 0.3:5>
  // CHECK-NEXT:    func.return %y
  func.func @no_expand(%x: !tt.qtensor<1x8x8x6, 0.25:-128>) -> !tt.qtensor<1x8x8x3, 0.3:5> {
    %d = tt.conv2d %x, @d.w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 6 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x8x8x6, 0.25:-128> -> !tt.qtensor<1x8x8x6, 0.125:-128>
    %y = tt.conv2d %d, @p.w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0>, groups = 1 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x8x8x6, 0.125:-128> -> !tt.qtensor<1x8x8x3, 0.3:5>
    func.return %y : !tt.qtensor<1x8x8x3, 0.3:5>
  }

  // A strided 3x3 stem conv before an expansion-ratio-1 block is its expand stage; its stride
  // and padding become expand_stride / expand_padding.
  // CHECK-LABEL: func.func @stem(
  // CHECK-NEXT:    %y = tt.bottleneck %x expand @s.w depthwise @d2.w project @p2.w {expanded_type = !tt.qtensor<1x4x4x2, 0.25:-128>, expand_act = array<i64: -128, 127>, expand_stride = array<i64: 2, 2>, expand_padding = array<i64: 1, 1>, depthwise_type = !tt.qtensor<1x4x4x2, 0.125:-128>, depthwise_act = array<i64: -128, 127>, project_act = array<i64: -128, 127>, stride = array<i64: 1, 1>, padding = array<i64: 1, 1>} : !tt.qtensor<1x8x8x3, 0.5:-3> -> !tt.qtensor<1x4x4x3, 0.3:5>
  // CHECK-NEXT:    func.return %y
  func.func @stem(%x: !tt.qtensor<1x8x8x3, 0.5:-3>) -> !tt.qtensor<1x4x4x3, 0.3:5> {
    %e = tt.conv2d %x, @s.w {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, groups = 1 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x8x8x3, 0.5:-3> -> !tt.qtensor<1x4x4x2, 0.25:-128>
    %d = tt.conv2d %e, @d2.w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 2 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x4x4x2, 0.25:-128> -> !tt.qtensor<1x4x4x2, 0.125:-128>
    %y = tt.conv2d %d, @p2.w {stride = array<i64: 1, 1>, padding = array<i64: 0, 0>, groups = 1 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x4x4x2, 0.125:-128> -> !tt.qtensor<1x4x4x3, 0.3:5>
    func.return %y : !tt.qtensor<1x4x4x3, 0.3:5>
  }

  // The depthwise output has another use: nothing is fused.
  // CHECK-LABEL: func.func @depthwise_shared(
  // CHECK-NOT:     tt.bottleneck
  // CHECK:         %e = tt.conv2d %x, @e.w
  // CHECK-NEXT:    %d = tt.conv2d %e, @d.w
  // CHECK-NEXT:    %y = tt.conv2d %d, @p.w
  // CHECK-NEXT:    func.return %y, %d
  func.func @depthwise_shared(%x: !tt.qtensor<1x8x8x2, 0.5:-3>) -> (!tt.qtensor<1x8x8x3, 0.3:5>, !tt.qtensor<1x8x8x6, 0.125:-128>) {
    %e = tt.conv2d %x, @e.w, @e.b {stride = array<i64: 1, 1>, padding = array<i64: 0, 0>, groups = 1 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x8x8x2, 0.5:-3> -> !tt.qtensor<1x8x8x6, 0.25:-128>
    %d = tt.conv2d %e, @d.w, @d.b {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 6 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x8x8x6, 0.25:-128> -> !tt.qtensor<1x8x8x6, 0.125:-128>
    %y = tt.conv2d %d, @p.w, @p.b {stride = array<i64: 1, 1>, padding = array<i64: 0, 0>, groups = 1 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x8x8x6, 0.125:-128> -> !tt.qtensor<1x8x8x3, 0.3:5>
    func.return %y, %d : !tt.qtensor<1x8x8x3, 0.3:5>, !tt.qtensor<1x8x8x6, 0.125:-128>
  }

  // The expanded tensor has another use: it stays, the depthwise -> project pair is fused.
  // CHECK-LABEL: func.func @expand_shared(
  // CHECK-NEXT:    %e = tt.conv2d %x, @e.w, @e.b
  // CHECK-NEXT:    %y = tt.bottleneck %e depthwise @d.w, @d.b project @p.w, @p.b
  // CHECK-NEXT:    func.return %y, %e
  func.func @expand_shared(%x: !tt.qtensor<1x8x8x2, 0.5:-3>) -> (!tt.qtensor<1x8x8x3, 0.3:5>, !tt.qtensor<1x8x8x6, 0.25:-128>) {
    %e = tt.conv2d %x, @e.w, @e.b {stride = array<i64: 1, 1>, padding = array<i64: 0, 0>, groups = 1 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x8x8x2, 0.5:-3> -> !tt.qtensor<1x8x8x6, 0.25:-128>
    %d = tt.conv2d %e, @d.w, @d.b {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 6 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x8x8x6, 0.25:-128> -> !tt.qtensor<1x8x8x6, 0.125:-128>
    %y = tt.conv2d %d, @p.w, @p.b {stride = array<i64: 1, 1>, padding = array<i64: 0, 0>, groups = 1 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x8x8x6, 0.125:-128> -> !tt.qtensor<1x8x8x3, 0.3:5>
    func.return %y, %e : !tt.qtensor<1x8x8x3, 0.3:5>, !tt.qtensor<1x8x8x6, 0.25:-128>
  }

  // Not a bottleneck: the last conv is not 1x1 (a depthwise conv feeding a depthwise conv).
  // CHECK-LABEL: func.func @not_pointwise(
  // CHECK-NOT:     tt.bottleneck
  // CHECK:         func.return
  func.func @not_pointwise(%x: !tt.qtensor<1x8x8x6, 0.25:-128>) -> !tt.qtensor<1x8x8x6, 0.125:-128> {
    %d = tt.conv2d %x, @d.w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 6 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x8x8x6, 0.25:-128> -> !tt.qtensor<1x8x8x6, 0.125:-128>
    %y = tt.conv2d %d, @d.w {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 6 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x8x8x6, 0.125:-128> -> !tt.qtensor<1x8x8x6, 0.125:-128>
    func.return %y : !tt.qtensor<1x8x8x6, 0.125:-128>
  }
}

// In the training pipeline, @forward and @train_step both stream the frozen block with the
// stem conv as its expand stage (only the project conv's bias is updated: only the clamp mask
// of its output is saved, not the intermediates); the bias update stays after the bottleneck
// that reads the bias, and the bottleneck gets its scratch.
// STEP-LABEL: func.func @forward(
// STEP:         %block_pw = tt.bottleneck %image expand @stem.weight, @stem.bias depthwise @block.dw.weight, @block.dw.bias project @block.pw.weight, @block.pw.bias
// STEP-LABEL: func.func @train_step(
// STEP-NOT:     tt.conv2d
// STEP:         %block_pw = tt.bottleneck %image expand @stem.weight, @stem.bias depthwise @block.dw.weight, @block.dw.bias project @block.pw.weight, @block.pw.bias {tt.scratch_offset = {{[0-9]+}} : i64
// STEP-NEXT:    %block_pw_mask = tt.clamp_mask %block_pw
// STEP:         tt.mask_grad %{{.*}}, %block_pw_mask
// STEP:         tt.bias_update @block.pw.bias

// With every bias updated, the depthwise output is saved for its clamp gradient: @train_step
// keeps the three convs, @forward (nothing saved) is still streamed.
// SAVED-LABEL: func.func @forward(
// SAVED:         tt.bottleneck
// SAVED-LABEL: func.func @train_step(
// SAVED-NOT:     tt.bottleneck
// SAVED:         %block_dw = tt.conv2d %stem
// SAVED-NEXT:    %block_pw = tt.conv2d %block_dw
