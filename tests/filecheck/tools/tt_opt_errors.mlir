// Bad input to tt-opt: one located message, exit status != 0, never a Python traceback.

// An unknown op stops tt-opt at the first chunk.
// RUN: not tt-opt %s --split-input-file 2>&1 | filecheck %s --check-prefix=UNKNOWN-OP

// With --parsing-diagnostics the parse error is printed and the next chunk's verifier error
// ends the run (there is no --verify-diagnostics). The diagnostic goes to stdout and the error
// to stderr, so their order in the merged output is not fixed: CHECK-DAG.
// RUN: not tt-opt %s --split-input-file --parsing-diagnostics 2>&1 | filecheck %s --check-prefix=VERIFY

// RUN: not tt-opt -p bogus %s 2>&1 | filecheck %s --check-prefix=PASS
// PASS-NOT: Traceback
// PASS:     tt-opt: error: Unrecognized passes: ['bogus']
// PASS-NOT: Traceback

// RUN: not tt-opt %s.does-not-exist 2>&1 | filecheck %s --check-prefix=MISSING
// MISSING-NOT: Traceback
// MISSING:     tt-opt: error: No such file or directory: '{{.*}}tt_opt_errors.mlir.does-not-exist'
// MISSING-NOT: Traceback

// RUN: not tt-opt --no-such-flag %s 2>&1 | filecheck %s --check-prefix=FLAG
// FLAG: tt-opt: error: unrecognized arguments: --no-such-flag

builtin.module {
  func.func @f(%x: f32) {
    // xDSL points at the token after the unknown op name.
    // UNKNOWN-OP-NOT:  Traceback
    // UNKNOWN-OP:      {{.*}}tt_opt_errors.mlir:[[# @LINE + 6]]:19{{$}}
    // UNKNOWN-OP-NEXT: %y = tt.bogus %x : f32
    // UNKNOWN-OP-NEXT: {{\^+}}
    // UNKNOWN-OP-NEXT: Operation tt.bogus is not registered
    // UNKNOWN-OP-NOT:  Traceback
    // VERIFY-DAG:      Operation tt.bogus is not registered
    %y = tt.bogus %x : f32
    func.return
  }
}

// -----

builtin.module {
  func.func @f(%x: !tt.qtensor<1x2, 0.5:0>) {
    // VERIFY-DAG: {{.*}}tt_opt_errors.mlir:[[# @LINE + 1]]:5: error: 'tt.clamp' op clamp must keep the type (shape, scale, zero point)
    %y = tt.clamp %x {act_min = 0 : i64, act_max = 127 : i64} : !tt.qtensor<1x2, 0.5:0> -> !tt.qtensor<1x2, 0.25:0>
    func.return
  }
}
