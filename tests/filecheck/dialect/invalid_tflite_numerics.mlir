// RUN: tt-opt %s --split-input-file --verify-diagnostics | filecheck %s

// tt.conv2d: the output size follows the bottom and right padding too
builtin.module {
  tt.param @w : tensor<4x3x3x2xi8> scales dense<1.000000e-01> : tensor<4xf32> = #tt.external<"w">
  func.func @f(%x: !tt.qtensor<1x4x4x2, 0.5:-3>) {
    // CHECK: {{.*}}invalid_tflite_numerics.mlir:[[# @LINE + 1]]:5: error: 'tt.conv2d' op output shape (1, 1, 1, 4) does not match conv of input (1, 4, 4, 2) with weight (4, 3, 3, 2): expected (1, 2, 2, 4)
    %y = tt.conv2d %x, @w {stride = array<i64: 2, 2>, padding = array<i64: 0, 0, 1, 1>, groups = 1 : i64, act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x4x4x2, 0.5:-3> -> !tt.qtensor<1x1x1x4, 0.25:-128>
    func.return
  }
}

// -----

// numerics: tt or tflite
builtin.module {
  func.func @f(%x: !tt.qtensor<1x4, 0.5:-3>) {
    // CHECK: {{.*}}invalid_tflite_numerics.mlir:[[# @LINE + 1]]:5: error: 'tt.requantize' op numerics must be one of tt, tflite, got 'cmsis'
    %y = tt.requantize %x {numerics = "cmsis"} : !tt.qtensor<1x4, 0.5:-3> -> !tt.qtensor<1x4, 0.25:0>
    func.return
  }
}

// -----

// hard-sigmoid has no TFLite rule
builtin.module {
  func.func @f(%x: !tt.qtensor<1x4, 0.5:-3>) {
    // CHECK: {{.*}}invalid_tflite_numerics.mlir:[[# @LINE + 1]]:5: error: 'tt.hard_sigmoid' op numerics must be one of tt, got 'tflite'
    %y = tt.hard_sigmoid %x {numerics = "tflite"} : !tt.qtensor<1x4, 0.5:-3> -> !tt.qtensor<1x4, 0.00390625:-128>
    func.return
  }
}
