// RUN: tt-opt %S/inputs/layers_cnn.mlir -p 'tt-autodiff{lr=0.1}' | filecheck %s
// RUN: tt-opt %S/inputs/layers_cnn.mlir -p 'tt-autodiff{lr=0.1},tt-pool-indices' | filecheck %s --check-prefix=INDICES
// RUN: tt-opt %S/inputs/layers_cnn.mlir -p 'tt-training-pipeline{scheme=full lr=0.1}' | filecheck %s --check-prefix=PIPELINE
// RUN: tt-opt %S/inputs/layers_cnn.mlir -p 'tt-training-pipeline{scheme=last-2 lr=0.1}' | filecheck %s --check-prefix=LAST2

// tt-autodiff through every new layer: the SE multiplies (the gate's gradient is summed over
// H and W), the table activations (derivative tables of their inputs), the average pool, the
// concat (its requantized inputs through the output's clamp gradient, then their channel
// slices), the max pool (from its input), the hard-swish; the flatten is a reshape.

// CHECK-LABEL: func.func @train_step(
// CHECK:       [[G:%.*]] = tt.reshape %{{.*}} : tensor<1x108xf32> -> tensor<1x3x3x12xf32>
// CHECK:       [[GM:%.*]] = tt.clamp_grad [[G]], %8
// CHECK-NEXT:  tt.mul_grad [[GM]], %7 : tensor<1x3x3x12xf32>, !tt.qtensor<1x1x1x12, 0.002532812427071964:-128> -> tensor<1x3x3x12xf32>
// CHECK-NEXT:  [[GATE:%.*]] = tt.mul_grad [[GM]], %6 : tensor<1x3x3x12xf32>, !tt.qtensor<1x3x3x12, 0.0017042318979899088:-30> -> tensor<1x1x1x12xf32>
// CHECK-NEXT:  tt.activation_grad [[GATE]], %fc2 {activation = "sigmoid", output_type = !tt.qtensor<1x1x1x12, 0.002532812427071964:-128>}
// CHECK:       tt.activation_grad %{{.*}}, %fc2 {activation = "hard_sigmoid"
// CHECK:       [[GP:%.*]] = tt.avg_pool_grad %{{.*}} {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : tensor<1x3x3x12xf32> -> tensor<1x6x6x12xf32>
// CHECK-NEXT:  [[GC:%.*]] = tt.clamp_grad [[GP]], %2 {act_min = -128 : i64, act_max = 127 : i64}
// CHECK-NEXT:  tt.concat_grad [[GC]] {channel_offset = 0 : i64} : tensor<1x6x6x12xf32> -> tensor<1x6x6x6xf32>
// CHECK-NEXT:  tt.concat_grad [[GC]] {channel_offset = 6 : i64} : tensor<1x6x6x12xf32> -> tensor<1x6x6x6xf32>
// CHECK:       [[GX:%.*]] = tt.max_pool_grad %{{.*}}, %0 {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : tensor<1x6x6x8xf32>, !tt.qtensor<1x12x12x8, 0.007328742041307337:-77> -> tensor<1x12x12x8xf32>
// CHECK-NEXT:  tt.activation_grad [[GX]], %stem {activation = "hard_swish", output_type = !tt.qtensor<1x12x12x8, 0.007328742041307337:-77>}
// CHECK:       func.return %loss : f32

// tt-pool-indices: the stride-2 max pool of @train_step returns its argmax indices (a quarter of
// its input's bytes) and the gradient reads them; @forward is left alone.

// INDICES-LABEL: func.func @forward(
// INDICES:         %1 = tt.max_pool %0 {{.*}} -> !tt.qtensor<1x6x6x8, 0.007328742041307337:-77>{{$}}
// INDICES-LABEL: func.func @train_step(
// INDICES:         %1, %2 = tt.max_pool %0 {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x12x12x8, 0.007328742041307337:-77> -> !tt.qtensor<1x6x6x8, 0.007328742041307337:-77>, tensor<1x6x6x8xui8>
// INDICES:         tt.max_pool_grad %{{.*}}, %2 {{.*}} : tensor<1x6x6x8xf32>, tensor<1x6x6x8xui8> -> tensor<1x12x12x8xf32>

// The whole pipeline plans every new op (the indices buffer too); with last-2 only the
// classifier and the last two convs (the SE gate's) train: back-propagation goes through the
// multiplies and the gates, but nothing below the gate is differentiated.

// PIPELINE-LABEL: func.func @train_step(
// PIPELINE-SAME:     tt.arena_bytes
// PIPELINE:         %1, %2 = tt.max_pool %0 {tt.offsets = array<i64: {{[0-9]+}}, {{[0-9]+}}>, {{.*}} -> {{.*}}, tensor<1x6x6x8xui8>
// PIPELINE:         tt.max_pool_grad %{{.*}}, %2

// LAST2-LABEL: func.func @train_step(
// LAST2:         tt.linear_weight_update @classifier.weight
// LAST2:         tt.mul_grad
// LAST2:         tt.activation_grad
// LAST2:         tt.conv2d_weight_update @fc2.weight
// LAST2:         tt.conv2d_weight_update @fc1.weight
// LAST2-NOT:     tt.avg_pool_grad
// LAST2-NOT:     tt.concat_grad
// LAST2-NOT:     tt.max_pool_grad
// LAST2:         func.return %loss
