// Import a tiny float PyTorch CNN (conv+BN+ReLU6 stem, depthwise+ReLU, pointwise without bias,
// residual add, global average pool, flatten, Linear) with post-training quantization.
// RUN: tt-import --torch %S/inputs/small_net.py:make --input-shape 1x3x8x8 --calibration %S/inputs/calib.npy -o %t.mlir
// RUN: filecheck %s --input-file %t.mlir
// RUN: tt-opt %t.mlir | filecheck %s
// RUN: not tt-import --torch %S/inputs/small_net.py:make_with_gelu --input-shape 1x3x8x8 --calibration %S/inputs/calib.npy -o %t.bad.mlir 2>&1 | filecheck %s --check-prefix=ERR

// Parameters: PyTorch state_dict names, BN folded into the stem conv (so it has a bias),
// OHWI int8 weights with per-output-channel scales, int32 biases; none for pw.
// CHECK:      builtin.module attributes {tt.weights = "{{.*}}.weights.npz"} {
// CHECK-NEXT:   tt.param @stem.0.weight : tensor<4x3x3x3xi8> scales dense<{{.*}}> : tensor<4xf32> =
// CHECK-NEXT:   tt.param @stem.0.bias : tensor<4xi32> scales dense<{{.*}}> : tensor<4xf32> = dense<{{.*}}> : tensor<4xi32>
// CHECK-NEXT:   tt.param @dw.weight : tensor<4x3x3x1xi8> scales
// CHECK-NEXT:   tt.param @dw.bias : tensor<4xi32> scales
// CHECK-NEXT:   tt.param @pw.weight : tensor<4x1x1x4xi8> scales
// CHECK-NEXT:   tt.param @fc.weight : tensor<3x4xi8> scales
// CHECK-NEXT:   tt.param @fc.bias : tensor<3xi32> scales
// CHECK-NOT:    tt.param

// The input is NHWC int8 with the calibrated scale and zero point; ReLU6 / ReLU outputs get a
// [0, max] range (zero point -128, act_min = zero point).
// CHECK:      func.func @forward(%image: !tt.qtensor<1x8x8x3, [[IN:[0-9.e-]+:-?[0-9]+]]>) -> !tt.qtensor<1x3, [[OUT:[0-9.e-]+:-?[0-9]+]]> {
// CHECK-NEXT:   %[[STEM:[a-z0-9_]+]] = tt.conv2d %image, @stem.0.weight, @stem.0.bias {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 1 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x8x8x3, [[IN]]> -> !tt.qtensor<1x8x8x4, [[S1:[0-9.e-]+]]:-128>
// CHECK-NEXT:   %[[DW:[a-z0-9_]+]] = tt.conv2d %[[STEM]], @dw.weight, @dw.bias {stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, groups = 4 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x8x8x4, [[S1]]:-128> -> !tt.qtensor<1x8x8x4, [[S2:[0-9.e-]+]]:-128>
// CHECK-NEXT:   %[[PW:[a-z0-9_]+]] = tt.conv2d %[[DW]], @pw.weight {stride = array<i64: 1, 1>, padding = array<i64: 0, 0>, groups = 1 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x8x8x4, [[S2]]:-128> -> !tt.qtensor<1x8x8x4, [[S3:[0-9.e-]+:-?[0-9]+]]>
// CHECK-NEXT:   %[[ADD:[0-9]+]] = tt.add %[[STEM]], %[[PW]] {act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x8x8x4, [[S1]]:-128>, !tt.qtensor<1x8x8x4, [[S3]]> -> !tt.qtensor<1x8x8x4, [[S4:[0-9.e-]+:-?[0-9]+]]>
// CHECK-NEXT:   %[[POOL:[0-9]+]] = tt.global_avg_pool %[[ADD]] : !tt.qtensor<1x8x8x4, [[S4]]> -> !tt.qtensor<1x1x1x4, [[S4]]>
// CHECK-NEXT:   %[[FLAT:[0-9]+]] = tt.reshape %[[POOL]] : !tt.qtensor<1x1x1x4, [[S4]]> -> !tt.qtensor<1x4, [[S4]]>
// CHECK-NEXT:   %[[FC:[a-z0-9_]+]] = tt.linear %[[FLAT]], @fc.weight, @fc.bias {act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x4, [[S4]]> -> !tt.qtensor<1x3, [[OUT]]>
// CHECK-NEXT:   func.return %[[FC]] : !tt.qtensor<1x3, [[OUT]]>

// ERR: tt-import: error: layer 'stem.3' (GELU) is not supported by the torch importer; supported: Conv2d
// ERR-NOT: Traceback
