// Structure of the imported zoo model mcunet-5fps (../shared/models, or $TT_ZOO_DIR).
// REQUIRES: zoo
// RUN: tt-import --zoo mcunet-5fps -o %t.mlir
// RUN: filecheck %s --input-file %t.mlir
// RUN: tt-import --zoo mcunet-5fps --num-classes 10 --new-head -o %t.head.mlir
// RUN: filecheck %s --input-file %t.head.mlir --check-prefix=HEAD

// CHECK:      builtin.module attributes {tt.weights = "{{.*}}.weights.npz"} {
// CHECK-NEXT:   tt.param @first_conv.weight : tensor<16x3x3x3xi8> scales dense<{{.*}}> : tensor<16xf32> = #tt.external<"first_conv.weight">
// CHECK-NEXT:   tt.param @first_conv.bias : tensor<16xi32> scales dense<{{.*}}> : tensor<16xf32> = dense<{{.*}}> : tensor<16xi32>
// CHECK-NEXT:   tt.param @blocks.0.depthwise.weight : tensor<16x3x3x1xi8>
// CHECK-NEXT:   tt.param @blocks.0.depthwise.bias : tensor<16xi32>
// CHECK-NEXT:   tt.param @blocks.0.pointwise2.weight : tensor<8x1x1x16xi8>
// CHECK-NEXT:   tt.param @blocks.0.pointwise2.bias : tensor<8xi32>
// CHECK-NEXT:   tt.param @blocks.1.pointwise1.weight : tensor<32x1x1x8xi8>
// CHECK:        tt.param @blocks.13.pointwise2.bias : tensor<160xi32>
// CHECK-NEXT:   tt.param @classifier.weight : tensor<1000x160xi8> scales #tt.external<"classifier.weight:scales"> = #tt.external<"classifier.weight">
// CHECK-NEXT:   tt.param @classifier.bias : tensor<1000xi32> scales #tt.external<"classifier.bias:scales"> = #tt.external<"classifier.bias">

// CHECK:      func.func @forward(%image: !tt.qtensor<1x128x128x3, [[IN:[0-9.e-]+:-?[0-9]+]]>) -> !tt.qtensor<1x1000, [[OUT:[0-9.e-]+:-?[0-9]+]]> {
// First conv: 3x3 stride 2 to 16 channels.
// CHECK-NEXT:   %first_conv = tt.conv2d %image, @first_conv.weight, @first_conv.bias {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, groups = 1 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x128x128x3, [[IN]]> -> !tt.qtensor<1x64x64x16, [[C0:[0-9.e-]+:-?[0-9]+]]>
// First block: no expansion; depthwise 3x3, then pointwise projection to 8 channels.
// CHECK-NEXT:   %blocks_0_depthwise = tt.conv2d %first_conv, @blocks.0.depthwise.weight, @blocks.0.depthwise.bias {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 16 : i64, {{.*}}} : !tt.qtensor<1x64x64x16, [[C0]]> -> !tt.qtensor<1x64x64x16, [[D0:[0-9.e-]+:-?[0-9]+]]>
// CHECK-NEXT:   %blocks_0_pointwise2 = tt.conv2d %blocks_0_depthwise, @blocks.0.pointwise2.weight, @blocks.0.pointwise2.bias {stride = array<i64: 1, 1>, padding = array<i64: 0, 0>, groups = 1 : i64, {{.*}}} : !tt.qtensor<1x64x64x16, [[D0]]> -> !tt.qtensor<1x64x64x8, {{.*}}>
// Second block: expand, depthwise with stride 2, project; no residual.
// CHECK-NEXT:   %blocks_1_pointwise1 = tt.conv2d %blocks_0_pointwise2, @blocks.1.pointwise1.weight
// CHECK-NEXT:   %blocks_1_depthwise = tt.conv2d %blocks_1_pointwise1, @blocks.1.depthwise.weight, @blocks.1.depthwise.bias {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, groups = 32 : i64
// CHECK-NEXT:   %blocks_1_pointwise2 = tt.conv2d %blocks_1_depthwise, @blocks.1.pointwise2.weight
// The first residual block: its add takes the block input and the projection.
// CHECK-NEXT:   %blocks_2_pointwise1 = tt.conv2d %blocks_1_pointwise2, @blocks.2.pointwise1.weight
// CHECK-NEXT:   %blocks_2_depthwise = tt.conv2d %blocks_2_pointwise1,
// CHECK-NEXT:   %blocks_2_pointwise2 = tt.conv2d %blocks_2_depthwise,
// CHECK-NEXT:   %[[ADD:[0-9]+]] = tt.add %blocks_1_pointwise2, %blocks_2_pointwise2 {act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x32x32x16, {{.*}}>, !tt.qtensor<1x32x32x16, {{.*}}> -> !tt.qtensor<1x32x32x16, {{.*}}>
// CHECK-NEXT:   %blocks_3_pointwise1 = tt.conv2d %[[ADD]], @blocks.3.pointwise1.weight
// The 7x7 depthwise of block 3 pads by 3.
// CHECK-NEXT:   %blocks_3_depthwise = tt.conv2d %blocks_3_pointwise1, @blocks.3.depthwise.weight, @blocks.3.depthwise.bias {stride = array<i64: 2, 2>, padding = array<i64: 3, 3>, groups = 48 : i64
// Head: global average pool, flatten, linear.
// CHECK:        %[[LAST:.+]] = tt.conv2d %{{.+}}, @blocks.13.pointwise2.weight, @blocks.13.pointwise2.bias {{.*}} -> !tt.qtensor<1x4x4x160, [[F:[0-9.e-]+:-?[0-9]+]]>
// CHECK-NEXT:   %[[POOL:[0-9]+]] = tt.global_avg_pool %[[LAST]] : !tt.qtensor<1x4x4x160, [[F]]> -> !tt.qtensor<1x1x1x160, [[F]]>
// CHECK-NEXT:   %[[FLAT:[0-9]+]] = tt.reshape %[[POOL]] : !tt.qtensor<1x1x1x160, [[F]]> -> !tt.qtensor<1x160, [[F]]>
// CHECK-NEXT:   %classifier = tt.linear %[[FLAT]], @classifier.weight, @classifier.bias {act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x160, [[F]]> -> !tt.qtensor<1x1000, [[OUT]]>
// CHECK-NEXT:   func.return %classifier : !tt.qtensor<1x1000, [[OUT]]>
// CHECK-NEXT: }
// CHECK-NOT:  tt.

// A new 10-class head: seeded int8 weights, zero bias, same input.
// HEAD:       tt.param @classifier.weight : tensor<10x160xi8> scales dense<{{.*}}> : tensor<10xf32> = #tt.external<"classifier.weight">
// HEAD-NEXT:  tt.param @classifier.bias : tensor<10xi32> scales dense<{{.*}}> : tensor<10xf32> = dense<0> : tensor<10xi32>
// HEAD:       %classifier = tt.linear {{.*}} -> !tt.qtensor<1x10,
