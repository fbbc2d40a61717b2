// RUN: tt-opt %S/inputs/small_cnn.mlir -p 'tt-autodiff,tt-sparse-update{scheme=%S/inputs/half_pointwise.json},tt-fuse-update,tt-clamp-masks' | filecheck %s
// RUN: tt-opt %S/inputs/small_cnn.mlir -p 'tt-autodiff,tt-sparse-update{scheme=bias-only},tt-fuse-update,tt-clamp-masks' | filecheck %s --check-prefix=BIAS

// A clamped output that the backward reads only through tt.clamp_grad gets a 1-bit mask right
// after its definition, and the backward reads the mask (tt.mask_grad). An output that a weight
// update reads (%block_dw, the input of the half-updated pointwise weight) or the loss reads
// (%classifier) keeps tt.clamp_grad: its int8 values stay alive anyway.
// CHECK-LABEL: func.func @train_step(
// CHECK:         %block_dw = tt.conv2d %stem, @block.dw.weight
// CHECK-NEXT:    %block_pw = tt.conv2d %block_dw, @block.pw.weight
// CHECK-NEXT:    %block_pw_mask = tt.clamp_mask %block_pw {act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x2x2x4, 0.06:-10> -> tensor<1x2x2x4xi1>
// CHECK:         tt.clamp_grad %{{.*}}, %classifier
// CHECK:         %[[PW:.*]] = tt.mask_grad %{{.*}}, %block_pw_mask : tensor<1x2x2x4xf32>, tensor<1x2x2x4xi1> -> tensor<1x2x2x4xf32>
// CHECK:         tt.conv2d_weight_update @block.pw.weight, %block_dw, %[[PW]]
// CHECK:         tt.clamp_grad %{{.*}}, %block_dw {act_min = -128 : i64, act_max = 100 : i64}
// CHECK-NOT:     tt.clamp_mask
// CHECK:         func.return %loss : f32

// Bias-only: every conv output is read by the backward only for its clamp range; each mask
// keeps its conv's range (the depthwise clamps at 100).
// BIAS-LABEL: func.func @train_step(
// BIAS:         %stem_mask = tt.clamp_mask %stem {act_min = -128 : i64, act_max = 127 : i64}
// BIAS:         %block_dw_mask = tt.clamp_mask %block_dw {act_min = -128 : i64, act_max = 100 : i64}
// BIAS:         %block_pw_mask = tt.clamp_mask %block_pw
// BIAS:         tt.mask_grad %{{.*}}, %block_pw_mask
// BIAS:         tt.mask_grad %{{.*}}, %block_dw_mask
// BIAS:         tt.mask_grad %{{.*}}, %stem_mask
// BIAS-NOT:     tt.clamp_grad %{{.*}}, %{{stem|block}}
// BIAS:         func.return %loss : f32
