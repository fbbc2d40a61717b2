// RUN: tt-opt %S/inputs/small_cnn.mlir -p 'tt-autodiff,tt-sparse-update{scheme=last-1},tt-qas' | filecheck %s
// RUN: tt-opt %S/inputs/small_cnn.mlir -p 'tt-autodiff,tt-sparse-update{scheme=last-1},tt-qas{enabled=false}' | filecheck %s --check-prefix=OFF

// tt-qas scales each gradient by its parameter's scale to the power -2 (per output channel):
// s_W^-2 for weights, (s_W s_x)^-2 = s_b^-2 for biases, folded into the chain-rule scaling
// tt-autodiff emitted (power 1), so each update's gradient is scaled once, by s**-1.
// CHECK-LABEL: func.func @train_step(
// CHECK:         [[G:%.*]] = tt.linear_grad_weight
// CHECK-NEXT:    [[Q:%.*]] = tt.scale_grad [[G]], @classifier.weight {power = -1 : i64}
// CHECK-NEXT:    tt.sgd_update @classifier.weight, [[Q]], %lr
// CHECK:         tt.scale_grad %{{.*}}, @classifier.bias {power = -1 : i64}
// CHECK:         tt.scale_grad %{{.*}}, @block.pw.weight {power = -1 : i64}
// CHECK:         tt.scale_grad %{{.*}}, @block.pw.bias {power = -1 : i64}
// CHECK-NOT:     tt.scale_grad

// OFF-NOT: power = -1
// OFF-NOT: power = -2
