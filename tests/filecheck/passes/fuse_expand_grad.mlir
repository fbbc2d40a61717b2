// RUN: tt-opt %s --split-input-file -p tt-fuse-expand-grad | filecheck %s
// RUN: tt-opt %S/inputs/small_bottleneck.mlir -p 'tt-training-pipeline{scheme=bias-only}' | filecheck %s --check-prefix=STEP
// RUN: tt-opt %S/inputs/small_bottleneck.mlir -p 'tt-training-pipeline{scheme=full}' | filecheck %s --check-prefix=FULL
// RUN: tt-opt %S/inputs/small_bottleneck.mlir -p 'tt-training-pipeline{scheme=bias-only}' -t 'memory-report{format=json}' | filecheck %s --check-prefix=REPORT

// A depthwise input gradient -> the expand conv's mask -> [its bias update] -> the expand conv's
// 1x1 input gradient, whose intermediates nothing else reads, becomes one
// tt.expand_depthwise_grad_input at the place of the 1x1 input gradient; the depthwise stride
// and padding and the bias update's attributes move onto it.
builtin.module {
  tt.param @dw : tensor<4x3x3x1xi8> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"dw">
  tt.param @db : tensor<4xi32> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"db">
  tt.param @ew : tensor<4x1x1x2xi8> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"ew">
  tt.param @eb : tensor<4xi32> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"eb">
  tt.param @e3 : tensor<4x3x3x2xi8> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"e3">

  // CHECK-LABEL: func.func @with_bias(
  // CHECK-NEXT:    %lr = arith.constant
  // CHECK-NEXT:    %dx = tt.expand_depthwise_grad_input %dy, %m depthwise @dw expand @ew bias_update @eb, %lr {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, power = -1 : i64, grad_scale = 1.000000e+00 : f32, rounding = "stochastic"} : tensor<1x2x2x4xf32>, tensor<1x4x4x4xi1> -> tensor<1x4x4x2xf32>
  // CHECK-NEXT:    func.return %dx
  func.func @with_bias(%dy: tensor<1x2x2x4xf32>, %m: tensor<1x4x4x4xi1>) -> tensor<1x4x4x2xf32> {
    %lr = arith.constant 0.01 : f32
    %a = tt.conv2d_grad_input %dy, @dw {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, groups = 4 : i64} : tensor<1x2x2x4xf32> -> tensor<1x4x4x4xf32>
    %b = tt.mask_grad %a, %m : tensor<1x4x4x4xf32>, tensor<1x4x4x4xi1> -> tensor<1x4x4x4xf32>
    tt.bias_update @eb, %b, %lr {power = -1 : i64, grad_scale = 1.0 : f32, rounding = "stochastic"} : tensor<1x4x4x4xf32>
    %dx = tt.conv2d_grad_input %b, @ew {stride = array<i64: 1, 1>, padding = array<i64: 0, 0>, groups = 1 : i64} : tensor<1x4x4x4xf32> -> tensor<1x4x4x2xf32>
    func.return %dx : tensor<1x4x4x2xf32>
  }

  // Without a bias update (a stride-1 depthwise conv); an update of another parameter and a
  // read of the argument in between do not matter.
  // CHECK-LABEL: func.func @without_bias(
  // CHECK:         tt.bias_update @db, %dy
  // CHECK-NEXT:    %dx = tt.expand_depthwise_grad_input %dy, %m depthwise @dw expand @ew {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>} : tensor<1x4x4x4xf32>, tensor<1x4x4x4xi1> -> tensor<1x4x4x2xf32>
  // CHECK-NEXT:    func.return %dx
  func.func @without_bias(%dy: tensor<1x4x4x4xf32>, %m: tensor<1x4x4x4xi1>) -> tensor<1x4x4x2xf32> {
    %lr = arith.constant 0.01 : f32
    %a = tt.conv2d_grad_input %dy, @dw {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 4 : i64} : tensor<1x4x4x4xf32> -> tensor<1x4x4x4xf32>
    tt.bias_update @db, %dy, %lr {power = -1 : i64, grad_scale = 1.0 : f32, rounding = "stochastic"} : tensor<1x4x4x4xf32>
    %b = tt.mask_grad %a, %m : tensor<1x4x4x4xf32>, tensor<1x4x4x4xi1> -> tensor<1x4x4x4xf32>
    %dx = tt.conv2d_grad_input %b, @ew {stride = array<i64: 1, 1>, padding = array<i64: 0, 0>, groups = 1 : i64} : tensor<1x4x4x4xf32> -> tensor<1x4x4x2xf32>
    func.return %dx : tensor<1x4x4x2xf32>
  }

  // Not fused: the masked gradient is also read by the expand weight's update.
  // CHECK-LABEL: func.func @expand_weight_trained(
  // CHECK-NOT:     tt.expand_depthwise_grad_input
  // CHECK:         tt.conv2d_weight_update @ew
  // CHECK:         func.return
  func.func @expand_weight_trained(%x: !tt.qtensor<1x4x4x2, 0.5:-3>, %dy: tensor<1x2x2x4xf32>, %m: tensor<1x4x4x4xi1>) -> tensor<1x4x4x2xf32> {
    %lr = arith.constant 0.01 : f32
    %a = tt.conv2d_grad_input %dy, @dw {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, groups = 4 : i64} : tensor<1x2x2x4xf32> -> tensor<1x4x4x4xf32>
    %b = tt.mask_grad %a, %m : tensor<1x4x4x4xf32>, tensor<1x4x4x4xi1> -> tensor<1x4x4x4xf32>
    %dx = tt.conv2d_grad_input %b, @ew {stride = array<i64: 1, 1>, padding = array<i64: 0, 0>, groups = 1 : i64} : tensor<1x4x4x4xf32> -> tensor<1x4x4x2xf32>
    tt.conv2d_weight_update @ew, %x, %b, %lr {power = -1 : i64, grad_scale = 1.0 : f32, rounding = "stochastic", kernel = array<i64: 1, 1>, stride = array<i64: 1, 1>, padding = array<i64: 0, 0>, groups = 1 : i64} : !tt.qtensor<1x4x4x2, 0.5:-3>, tensor<1x4x4x4xf32>
    func.return %dx : tensor<1x4x4x2xf32>
  }

  // Not fused: the depthwise weight is updated between its input gradient and the 1x1 one
  // (the fused op would read the updated weight).
  // CHECK-LABEL: func.func @depthwise_updated_between(
  // CHECK-NOT:     tt.expand_depthwise_grad_input
  // CHECK:         func.return
  func.func @depthwise_updated_between(%x: !tt.qtensor<1x4x4x4, 0.5:-3>, %dy: tensor<1x2x2x4xf32>, %m: tensor<1x4x4x4xi1>) -> tensor<1x4x4x2xf32> {
    %lr = arith.constant 0.01 : f32
    %a = tt.conv2d_grad_input %dy, @dw {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, groups = 4 : i64} : tensor<1x2x2x4xf32> -> tensor<1x4x4x4xf32>
    tt.conv2d_weight_update @dw, %x, %dy, %lr {power = -1 : i64, grad_scale = 1.0 : f32, rounding = "stochastic", kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, groups = 4 : i64} : !tt.qtensor<1x4x4x4, 0.5:-3>, tensor<1x2x2x4xf32>
    %b = tt.mask_grad %a, %m : tensor<1x4x4x4xf32>, tensor<1x4x4x4xi1> -> tensor<1x4x4x4xf32>
    %dx = tt.conv2d_grad_input %b, @ew {stride = array<i64: 1, 1>, padding = array<i64: 0, 0>, groups = 1 : i64} : tensor<1x4x4x4xf32> -> tensor<1x4x4x2xf32>
    func.return %dx : tensor<1x4x4x2xf32>
  }

  // Not fused: another update draws from the RNG between the bias update and the 1x1 input
  // gradient, so moving the bias update there would change both updates' random bits.
  // CHECK-LABEL: func.func @update_after_bias_update(
  // CHECK-NOT:     tt.expand_depthwise_grad_input
  // CHECK:         func.return
  func.func @update_after_bias_update(%dy: tensor<1x2x2x4xf32>, %m: tensor<1x4x4x4xi1>) -> tensor<1x4x4x2xf32> {
    %lr = arith.constant 0.01 : f32
    %a = tt.conv2d_grad_input %dy, @dw {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, groups = 4 : i64} : tensor<1x2x2x4xf32> -> tensor<1x4x4x4xf32>
    %b = tt.mask_grad %a, %m : tensor<1x4x4x4xf32>, tensor<1x4x4x4xi1> -> tensor<1x4x4x4xf32>
    tt.bias_update @eb, %b, %lr {power = -1 : i64, grad_scale = 1.0 : f32, rounding = "stochastic"} : tensor<1x4x4x4xf32>
    tt.bias_update @db, %dy, %lr {power = -1 : i64, grad_scale = 1.0 : f32, rounding = "stochastic"} : tensor<1x2x2x4xf32>
    %dx = tt.conv2d_grad_input %b, @ew {stride = array<i64: 1, 1>, padding = array<i64: 0, 0>, groups = 1 : i64} : tensor<1x4x4x4xf32> -> tensor<1x4x4x2xf32>
    func.return %dx : tensor<1x4x4x2xf32>
  }

  // Not fused: the conv before the depthwise conv is 3x3, and in @a_read_twice the depthwise
  // input gradient has a second reader.
  // CHECK-LABEL: func.func @not_pointwise(
  // CHECK-NOT:     tt.expand_depthwise_grad_input
  // CHECK:         func.return
  func.func @not_pointwise(%dy: tensor<1x2x2x4xf32>, %m: tensor<1x4x4x4xi1>) -> tensor<1x4x4x2xf32> {
    %a = tt.conv2d_grad_input %dy, @dw {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, groups = 4 : i64} : tensor<1x2x2x4xf32> -> tensor<1x4x4x4xf32>
    %b = tt.mask_grad %a, %m : tensor<1x4x4x4xf32>, tensor<1x4x4x4xi1> -> tensor<1x4x4x4xf32>
    %dx = tt.conv2d_grad_input %b, @e3 {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64} : tensor<1x4x4x4xf32> -> tensor<1x4x4x2xf32>
    func.return %dx : tensor<1x4x4x2xf32>
  }
  // CHECK-LABEL: func.func @a_read_twice(
  // CHECK-NOT:     tt.expand_depthwise_grad_input
  // CHECK:         func.return
  func.func @a_read_twice(%dy: tensor<1x2x2x4xf32>, %m: tensor<1x4x4x4xi1>) -> (tensor<1x4x4x2xf32>, tensor<1x4x4x4xf32>) {
    %a = tt.conv2d_grad_input %dy, @dw {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, groups = 4 : i64} : tensor<1x2x2x4xf32> -> tensor<1x4x4x4xf32>
    %b = tt.mask_grad %a, %m : tensor<1x4x4x4xf32>, tensor<1x4x4x4xi1> -> tensor<1x4x4x4xf32>
    %dx = tt.conv2d_grad_input %b, @ew {stride = array<i64: 1, 1>, padding = array<i64: 0, 0>, groups = 1 : i64} : tensor<1x4x4x4xf32> -> tensor<1x4x4x2xf32>
    func.return %dx, %a : tensor<1x4x4x2xf32>, tensor<1x4x4x4xf32>
  }
}

// -----

// Not fused: only some channels of the depthwise weight are trained (a split weight, whose
// channels the C runtime keeps apart).
builtin.module {
  tt.param @dw : tensor<4x3x3x1xi8> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"dw">
  tt.param @ew : tensor<4x1x1x2xi8> scales dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> = #tt.external<"ew">
  // CHECK-LABEL: func.func @split(
  // CHECK-NOT:     tt.expand_depthwise_grad_input
  // CHECK:         tt.conv2d_weight_update @dw
  func.func @split(%x: !tt.qtensor<1x4x4x4, 0.5:-3>, %dy: tensor<1x2x2x4xf32>, %m: tensor<1x4x4x4xi1>) -> tensor<1x4x4x2xf32> {
    %lr = arith.constant 0.01 : f32
    %a = tt.conv2d_grad_input %dy, @dw {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, groups = 4 : i64} : tensor<1x2x2x4xf32> -> tensor<1x4x4x4xf32>
    %b = tt.mask_grad %a, %m : tensor<1x4x4x4xf32>, tensor<1x4x4x4xi1> -> tensor<1x4x4x4xf32>
    %dx = tt.conv2d_grad_input %b, @ew {stride = array<i64: 1, 1>, padding = array<i64: 0, 0>, groups = 1 : i64} : tensor<1x4x4x4xf32> -> tensor<1x4x4x2xf32>
    tt.conv2d_weight_update @dw, %x, %dy, %lr {power = -1 : i64, grad_scale = 1.0 : f32, rounding = "stochastic", channels = array<i64: 0, 2>, kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, groups = 4 : i64} : !tt.qtensor<1x4x4x4, 0.5:-3>, tensor<1x2x2x4xf32>
    func.return %dx : tensor<1x4x4x2xf32>
  }
}

// In the training pipeline (after tt-reorder, before tt-memory-plan): bias-only training of the
// small bottleneck fuses the block's chain with the expand conv's bias update; the fused op gets
// its plane of scratch.
// STEP-LABEL: func.func @train_step(
// STEP-NOT:     tt.conv2d_grad_input %{{.*}}, @block.dw.weight
// STEP:         tt.bias_update @block.dw.bias
// STEP-NEXT:    %{{.*}} = tt.expand_depthwise_grad_input %{{.*}}, %block_expand_mask depthwise @block.dw.weight expand @block.expand.weight bias_update @block.expand.bias, %lr {tt.scratch_offset = {{[0-9]+}} : i64, tt.offsets = array<i64: {{[0-9]+}}>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, power = -1 : i64, grad_scale = 1.000000e+00 : f32, rounding = "stochastic"} : tensor<1x2x2x8xf32>, tensor<1x4x4x8xi1> -> tensor<1x4x4x4xf32>
// STEP-NOT:     tt.bias_update @block.expand.bias
// STEP:         tt.bias_update @stem.bias
// STEP:         func.return

// Full training updates the expand weight from the masked gradient: nothing is fused.
// FULL-LABEL: func.func @train_step(
// FULL-NOT:     tt.expand_depthwise_grad_input
// FULL:         tt.conv2d_weight_update @block.expand.weight
// FULL-NOT:     tt.expand_depthwise_grad_input
// FULL:         func.return

// The bias the fused op updates is still trainable: SRAM for the 4 + 8 + 8 + 4 + 3 int32 biases
// and the 3x4 int8 classifier weight, 6 updated parameters.
// REPORT:      "trainable_sram_bytes": 120,
// REPORT:      "peak_op": "tt.expand_depthwise_grad_input",
// REPORT-NEXT: "updated_parameters": 6
