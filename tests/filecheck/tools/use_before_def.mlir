// An operand used before the op that defines it (the pinned xDSL does not check dominance):
// one located error, not a failure later in a pass or the interpreter.
// RUN: not tt-opt %s 2>&1 | filecheck %s
// Standard input: `tt-opt -` reads it, as tt-opt without a file does.
// RUN: cat %s | not tt-opt - 2>&1 | filecheck %s --check-prefix=STDIN

// CHECK-NOT: Traceback
// CHECK: use_before_def.mlir:[[# @LINE + 7]]:5: error: 'tt.clamp' op uses the result of 'tt.linear' ({{.*}}use_before_def.mlir:[[# @LINE + 8]]:5) before it is defined
// STDIN: stdin:[[# @LINE + 6]]:5: error: 'tt.clamp' op uses the result of 'tt.linear'

builtin.module {
  tt.param @"fc.weight" : tensor<3x4xi8> scales dense<[0.1, 0.2, 0.3]> : tensor<3xf32> = dense<[[1, 2, 3, 4], [5, 6, 7, 8], [-1, -2, -3, -4]]> : tensor<3x4xi8>
  func.func @forward(%x: !tt.qtensor<1x4, 0.5:0>) -> !tt.qtensor<1x3, 0.25:3> {

    %z = tt.clamp %y {act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x3, 0.25:3> -> !tt.qtensor<1x3, 0.25:3>
    %y = tt.linear %x, @"fc.weight" {act_min = -128 : i64, act_max = 127 : i64} : !tt.qtensor<1x4, 0.5:0> -> !tt.qtensor<1x3, 0.25:3>
    func.return %z : !tt.qtensor<1x3, 0.25:3>
  }
}
