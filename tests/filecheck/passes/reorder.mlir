// RUN: tt-opt %S/inputs/small_cnn.mlir -p 'tt-autodiff,tt-sparse-update{scheme=last-1},tt-qas,tt-fuse-update,tt-reorder' 2>&1 | filecheck %s

// tt-reorder prints the lower bound of the schedule it picked and records it on each function.
// CHECK: tt-reorder: @forward: live-memory lower bound [[FWD:[0-9]+]] bytes (program order: {{[0-9]+}})
// CHECK: tt-reorder: @train_step: live-memory lower bound [[STEP:[0-9]+]] bytes (program order: {{[0-9]+}})
// CHECK: func.func @forward({{.*}} attributes {tt.live_bytes_lower_bound = [[FWD]] : i64}

// The classifier's input gradient reads its weight, so it stays before the weight's update;
// updates keep their relative order (the update RNG is consumed in the same order).
// CHECK:       func.func @train_step({{.*}} attributes {tt.live_bytes_lower_bound = [[STEP]] : i64}
// CHECK:         tt.linear_grad_input %{{.*}}, @classifier.weight
// CHECK:         tt.linear_weight_update @classifier.weight
// CHECK:         tt.bias_update @classifier.bias
// CHECK:         tt.conv2d_weight_update @block.pw.weight
// CHECK:         tt.bias_update @block.pw.bias
// CHECK:         func.return %loss
