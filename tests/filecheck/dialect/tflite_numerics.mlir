// RUN: tt-opt %s | tt-opt | filecheck %s
// RUN: tt-opt %s --print-op-generic | tt-opt | filecheck %s

// What the TFLite importer needs: a conv's padding as (top, left, bottom, right) (TensorFlow's
// SAME padding pads more at the bottom and right), and `numerics = "tflite"` (TensorFlow Lite's
// integer rules) on every op that requantizes or looks up a table.

builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<[1.000000e-01, 2.000000e-01, 3.000000e-01, 4.000000e-01]> : tensor<4xf32> = #tt.external<"w">
  tt.param @b : tensor<4xi32> scales dense<5.000000e-02> : tensor<4xf32> = dense<[1, -2, 3, -4]> : tensor<4xi32>
  tt.param @fc : tensor<3x4xi8> scales dense<1.250000e-01> : tensor<3xf32> = #tt.external<"fc">

  // CHECK-LABEL: func.func @tflite
  func.func @tflite(%x: !tt.qtensor<1x4x4x2, 0.5:-3>) {
    // CHECK-NEXT: %same = tt.conv2d %x, @w, @b {stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 1, 1>, groups = 1 : i64, act_min = -128 : i64, act_max = 127 : i64, numerics = "tflite"} : !tt.qtensor<1x4x4x2, 0.5:-3> -> !tt.qtensor<1x2x2x4, 0.25:-128>
    %same = tt.conv2d %x, @w, @b {stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 1, 1>, groups = 1 : i64, act_min = -128 : i64, act_max = 127 : i64, numerics = "tflite"} : !tt.qtensor<1x4x4x2, 0.5:-3> -> !tt.qtensor<1x2x2x4, 0.25:-128>
    // CHECK-NEXT: %top = tt.conv2d %x, @w {stride = array<i64: 1, 1>, padding = array<i64: 2, 1, 0, 1>, groups = 1 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x4x4x2, 0.5:-3> -> !tt.qtensor<1x4x4x4, 0.25:-128>
    %top = tt.conv2d %x, @w {stride = array<i64: 1, 1>, padding = array<i64: 2, 1, 0, 1>, groups = 1 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x4x4x2, 0.5:-3> -> !tt.qtensor<1x4x4x4, 0.25:-128>
    // CHECK-NEXT: %sum = tt.add %same, %same {act_min = -128 : i64, act_max = 127 : i64, numerics = "tflite"} : !tt.qtensor<1x2x2x4, 0.25:-128>, !tt.qtensor<1x2x2x4, 0.25:-128> -> !tt.qtensor<1x2x2x4, 0.5:-128>
    %sum = tt.add %same, %same {act_min = -128 : i64, act_max = 127 : i64, numerics = "tflite"} : !tt.qtensor<1x2x2x4, 0.25:-128>, !tt.qtensor<1x2x2x4, 0.25:-128> -> !tt.qtensor<1x2x2x4, 0.5:-128>
    // CHECK-NEXT: %hs = tt.hard_swish %sum {numerics = "tflite"} : !tt.qtensor<1x2x2x4, 0.5:-128> -> !tt.qtensor<1x2x2x4, 0.25:-20>
    %hs = tt.hard_swish %sum {numerics = "tflite"} : !tt.qtensor<1x2x2x4, 0.5:-128> -> !tt.qtensor<1x2x2x4, 0.25:-20>
    // CHECK-NEXT: %pool = tt.global_avg_pool %hs {numerics = "tflite"} : !tt.qtensor<1x2x2x4, 0.25:-20> -> !tt.qtensor<1x1x1x4, 0.125:-30>
    %pool = tt.global_avg_pool %hs {numerics = "tflite"} : !tt.qtensor<1x2x2x4, 0.25:-20> -> !tt.qtensor<1x1x1x4, 0.125:-30>
    // CHECK-NEXT: %gate = tt.sigmoid %pool {numerics = "tflite"} : !tt.qtensor<1x1x1x4, 0.125:-30> -> !tt.qtensor<1x1x1x4, 0.00390625:-128>
    %gate = tt.sigmoid %pool {numerics = "tflite"} : !tt.qtensor<1x1x1x4, 0.125:-30> -> !tt.qtensor<1x1x1x4, 0.00390625:-128>
    // CHECK-NEXT: %scaled = tt.mul %hs, %gate {act_min = -128 : i64, act_max = 127 : i64, numerics = "tflite"} : !tt.qtensor<1x2x2x4, 0.25:-20>, !tt.qtensor<1x1x1x4, 0.00390625:-128> -> !tt.qtensor<1x2x2x4, 0.25:-20>
    %scaled = tt.mul %hs, %gate {act_min = -128 : i64, act_max = 127 : i64, numerics = "tflite"} : !tt.qtensor<1x2x2x4, 0.25:-20>, !tt.qtensor<1x1x1x4, 0.00390625:-128> -> !tt.qtensor<1x2x2x4, 0.25:-20>
    // CHECK-NEXT: %both = tt.concat %scaled, %hs {numerics = "tflite"} : !tt.qtensor<1x2x2x4, 0.25:-20>, !tt.qtensor<1x2x2x4, 0.25:-20> -> !tt.qtensor<1x2x2x8, 0.25:-20>
    %both = tt.concat %scaled, %hs {numerics = "tflite"} : !tt.qtensor<1x2x2x4, 0.25:-20>, !tt.qtensor<1x2x2x4, 0.25:-20> -> !tt.qtensor<1x2x2x8, 0.25:-20>
    // CHECK-NEXT: %r = tt.requantize %pool {numerics = "tflite"} : !tt.qtensor<1x1x1x4, 0.125:-30> -> !tt.qtensor<1x1x1x4, 0.5:0>
    %r = tt.requantize %pool {numerics = "tflite"} : !tt.qtensor<1x1x1x4, 0.125:-30> -> !tt.qtensor<1x1x1x4, 0.5:0>
    %flat = tt.reshape %r : !tt.qtensor<1x1x1x4, 0.5:0> -> !tt.qtensor<1x4, 0.5:0>
    // CHECK: %logits = tt.linear %flat, @fc {act_min = -128 : i64, act_max = 127 : i64, numerics = "tflite"} : !tt.qtensor<1x4, 0.5:0> -> !tt.qtensor<1x3, 0.25:0>
    %logits = tt.linear %flat, @fc {act_min = -128 : i64, act_max = 127 : i64, numerics = "tflite"} : !tt.qtensor<1x4, 0.5:0> -> !tt.qtensor<1x3, 0.25:0>
    func.return
  }
}
