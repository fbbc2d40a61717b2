// RUN: tt-opt %s --split-input-file --parsing-diagnostics | filecheck %s

// Parse and verification errors of the !tt.qtensor type and the #tt.external attribute, one per
// chunk. Both are reported as parse errors: file:line:col, the source line, a caret, the message.

// !tt.qtensor: no shape
// CHECK:      {{.*}}invalid_types.mlir:[[# @LINE + 5]]:32{{$}}
// CHECK-NEXT: func.func @f(%x: !tt.qtensor<, 0.5:0>) {
// CHECK-NEXT: {{\^+}}
// CHECK-NEXT: expected a static shape such as 1x8x8x16
builtin.module {
  func.func @f(%x: !tt.qtensor<, 0.5:0>) {
    func.return
  }
}

// -----

// !tt.qtensor: no shape, only scale:zero_point
// CHECK:      {{.*}}invalid_types.mlir:[[# @LINE + 5]]:32{{$}}
// CHECK-NEXT: func.func @f(%x: !tt.qtensor<0.5:0>) {
// CHECK-NEXT: {{\^+}}
// CHECK-NEXT: expected a static shape such as 1x8x8x16
builtin.module {
  func.func @f(%x: !tt.qtensor<0.5:0>) {
    func.return
  }
}

// -----

// !tt.qtensor: no comma after the shape
// CHECK:      {{.*}}invalid_types.mlir:[[# @LINE + 5]]:36{{$}}
// CHECK-NEXT: func.func @f(%x: !tt.qtensor<1x2 0.5:0>) {
// CHECK-NEXT: {{\^+}}
// CHECK-NEXT: Expected ','
builtin.module {
  func.func @f(%x: !tt.qtensor<1x2 0.5:0>) {
    func.return
  }
}

// -----

// !tt.qtensor: element type written in the shape
// CHECK:      {{.*}}invalid_types.mlir:[[# @LINE + 5]]:35{{$}}
// CHECK-NEXT: func.func @f(%x: !tt.qtensor<1x2xi8, 0.5:0>) {
// CHECK-NEXT: {{\^+}}
// CHECK-NEXT: Expected ','
builtin.module {
  func.func @f(%x: !tt.qtensor<1x2xi8, 0.5:0>) {
    func.return
  }
}

// -----

// !tt.qtensor: no zero point
// CHECK:      {{.*}}invalid_types.mlir:[[# @LINE + 5]]:40{{$}}
// CHECK-NEXT: func.func @f(%x: !tt.qtensor<1x2, 0.5>) {
// CHECK-NEXT: {{\^+}}
// CHECK-NEXT: Expected ':'
builtin.module {
  func.func @f(%x: !tt.qtensor<1x2, 0.5>) {
    func.return
  }
}

// -----

// !tt.qtensor: float zero point
// CHECK:      {{.*}}invalid_types.mlir:[[# @LINE + 5]]:41{{$}}
// CHECK-NEXT: func.func @f(%x: !tt.qtensor<1x2, 0.5:0.5>) {
// CHECK-NEXT: {{\^+}}
// CHECK-NEXT: Expected integer literal
builtin.module {
  func.func @f(%x: !tt.qtensor<1x2, 0.5:0.5>) {
    func.return
  }
}

// -----

// !tt.qtensor: scale is not a number
// CHECK:      {{.*}}invalid_types.mlir:[[# @LINE + 5]]:37{{$}}
// CHECK-NEXT: func.func @f(%x: !tt.qtensor<1x2, abc:0>) {
// CHECK-NEXT: {{\^+}}
// CHECK-NEXT: integer or float literal expected
builtin.module {
  func.func @f(%x: !tt.qtensor<1x2, abc:0>) {
    func.return
  }
}

// -----

// !tt.qtensor: scale is a bool
// CHECK:      {{.*}}invalid_types.mlir:[[# @LINE + 5]]:37{{$}}
// CHECK-NEXT: func.func @f(%x: !tt.qtensor<1x2, true:0>) {
// CHECK-NEXT: {{\^+}}
// CHECK-NEXT: integer or float literal expected
builtin.module {
  func.func @f(%x: !tt.qtensor<1x2, true:0>) {
    func.return
  }
}

// -----

// !tt.qtensor: unclosed parameters
// CHECK:      {{.*}}invalid_types.mlir:[[# @LINE + 5]]:42{{$}}
// CHECK-NEXT: func.func @f(%x: !tt.qtensor<1x2, 0.5:0) {
// CHECK-NEXT: {{\^+}}
// CHECK-NEXT: '>' expected
builtin.module {
  func.func @f(%x: !tt.qtensor<1x2, 0.5:0) {
    func.return
  }
}

// -----

// !tt.qtensor: no parameters
// CHECK:      {{.*}}invalid_types.mlir:[[# @LINE + 5]]:31{{$}}
// CHECK-NEXT: func.func @f(%x: !tt.qtensor) {
// CHECK-NEXT: {{\^+}}
// CHECK-NEXT: '<' expected
builtin.module {
  func.func @f(%x: !tt.qtensor) {
    func.return
  }
}

// -----

// !tt.qtensor: zero dimension
// CHECK:      {{.*}}invalid_types.mlir:[[# @LINE + 5]]:3{{$}}
// CHECK-NEXT: func.func @f(%x: !tt.qtensor<0x2, 0.5:0>) {
// CHECK-NEXT: {{\^+}}
// CHECK-NEXT: tt.qtensor dimensions must be positive, got (0, 2)
builtin.module {
  func.func @f(%x: !tt.qtensor<0x2, 0.5:0>) {
    func.return
  }
}

// -----

// !tt.qtensor: dynamic dimension
// CHECK:      {{.*}}invalid_types.mlir:[[# @LINE + 5]]:3{{$}}
// CHECK-NEXT: func.func @f(%x: !tt.qtensor<?x2, 0.5:0>) {
// CHECK-NEXT: {{\^+}}
// CHECK-NEXT: tt.qtensor dimensions must be positive, got ({{-?[0-9]+}}, 2)
builtin.module {
  func.func @f(%x: !tt.qtensor<?x2, 0.5:0>) {
    func.return
  }
}

// -----

// !tt.qtensor: negative scale
// CHECK:      {{.*}}invalid_types.mlir:[[# @LINE + 5]]:3{{$}}
// CHECK-NEXT: func.func @f(%x: !tt.qtensor<1x2, -0.5:0>) {
// CHECK-NEXT: {{\^+}}
// CHECK-NEXT: tt.qtensor scale must be positive and finite, got -0.5
builtin.module {
  func.func @f(%x: !tt.qtensor<1x2, -0.5:0>) {
    func.return
  }
}

// -----

// !tt.qtensor: zero scale
// CHECK:      {{.*}}invalid_types.mlir:[[# @LINE + 5]]:3{{$}}
// CHECK-NEXT: func.func @f(%x: !tt.qtensor<1x2, 0.0:0>) {
// CHECK-NEXT: {{\^+}}
// CHECK-NEXT: tt.qtensor scale must be positive and finite, got 0.0
builtin.module {
  func.func @f(%x: !tt.qtensor<1x2, 0.0:0>) {
    func.return
  }
}

// -----

// !tt.qtensor: zero point below int8
// CHECK:      {{.*}}invalid_types.mlir:[[# @LINE + 5]]:3{{$}}
// CHECK-NEXT: func.func @f(%x: !tt.qtensor<1x2, 0.5:-129>) {
// CHECK-NEXT: {{\^+}}
// CHECK-NEXT: tt.qtensor zero point must be in [-128, 127], got -129
builtin.module {
  func.func @f(%x: !tt.qtensor<1x2, 0.5:-129>) {
    func.return
  }
}

// -----

// !tt.qtensor: zero point above int8
// CHECK:      {{.*}}invalid_types.mlir:[[# @LINE + 5]]:3{{$}}
// CHECK-NEXT: func.func @f(%x: !tt.qtensor<1x2, 0.5:128>) {
// CHECK-NEXT: {{\^+}}
// CHECK-NEXT: tt.qtensor zero point must be in [-128, 127], got 128
builtin.module {
  func.func @f(%x: !tt.qtensor<1x2, 0.5:128>) {
    func.return
  }
}

// -----

// !tt.qtensor: a bad type in an op signature is reported at that op
// CHECK:      {{.*}}invalid_types.mlir:[[# @LINE + 6]]:5{{$}}
// CHECK-NEXT: %y = tt.clamp %x {act_min = 0 : i64, act_max = 1 : i64} : !tt.qtensor<1x2, 0.5:0> -> !tt.qtensor<1x2, 0.5:200>
// CHECK-NEXT: {{\^+}}
// CHECK-NEXT: tt.qtensor zero point must be in [-128, 127], got 200
builtin.module {
  func.func @f(%x: !tt.qtensor<1x2, 0.5:0>) {
    %y = tt.clamp %x {act_min = 0 : i64, act_max = 1 : i64} : !tt.qtensor<1x2, 0.5:0> -> !tt.qtensor<1x2, 0.5:200>
    func.return
  }
}

// -----

// #tt.external: unquoted key
// CHECK:      {{.*}}invalid_types.mlir:[[# @LINE + 5]]:45{{$}}
// CHECK-NEXT: tt.param @p : tensor<2xi8> = #tt.external<w>
// CHECK-NEXT: {{\^+}}
// CHECK-NEXT: string literal expected
builtin.module {
  tt.param @p : tensor<2xi8> = #tt.external<w>
}

// -----

// #tt.external: integer key
// CHECK:      {{.*}}invalid_types.mlir:[[# @LINE + 5]]:45{{$}}
// CHECK-NEXT: tt.param @p : tensor<2xi8> = #tt.external<1>
// CHECK-NEXT: {{\^+}}
// CHECK-NEXT: string literal expected
builtin.module {
  tt.param @p : tensor<2xi8> = #tt.external<1>
}

// -----

// #tt.external: no key
// CHECK:      {{.*}}invalid_types.mlir:[[# @LINE + 5]]:45{{$}}
// CHECK-NEXT: tt.param @p : tensor<2xi8> = #tt.external<>
// CHECK-NEXT: {{\^+}}
// CHECK-NEXT: string literal expected
builtin.module {
  tt.param @p : tensor<2xi8> = #tt.external<>
}

// -----

// #tt.external: two keys
// CHECK:      {{.*}}invalid_types.mlir:[[# @LINE + 5]]:48{{$}}
// CHECK-NEXT: tt.param @p : tensor<2xi8> = #tt.external<"w", "x">
// CHECK-NEXT: {{\^+}}
// CHECK-NEXT: '>' expected
builtin.module {
  tt.param @p : tensor<2xi8> = #tt.external<"w", "x">
}

// -----

// #tt.external: no angle brackets
// CHECK:      {{.*}}invalid_types.mlir:[[# @LINE + 5]]:44{{$}}
// CHECK-NEXT: tt.param @p : tensor<2xi8> = #tt.external"w"
// CHECK-NEXT: {{\^+}}
// CHECK-NEXT: '<' expected
builtin.module {
  tt.param @p : tensor<2xi8> = #tt.external"w"
}

// -----

// !tt.qtensor: infinite scale
// CHECK:      {{.*}}invalid_types.mlir:[[# @LINE + 5]]:3{{$}}
// CHECK-NEXT: func.func @f(%x: !tt.qtensor<1x2, 1.0e400:0>) {
// CHECK-NEXT: {{\^+}}
// CHECK-NEXT: tt.qtensor scale must be positive and finite, got inf
builtin.module {
  func.func @f(%x: !tt.qtensor<1x2, 1.0e400:0>) {
    func.return
  }
}
