// RUN: tt-opt %S/inputs/small_cnn.mlir -p 'tt-autodiff,tt-sparse-update{scheme=last-1},tt-qas,tt-fuse-update,tt-memory-plan' | filecheck %s
// RUN: tt-opt %S/inputs/small_cnn.mlir -p 'tt-training-pipeline{scheme=last-1}' -t 'memory-report{format=json}' | filecheck %s --check-prefix=JSON
// RUN: tt-opt %S/inputs/small_cnn.mlir -p 'tt-training-pipeline{scheme=last-1}' -t memory-report | filecheck %s --check-prefix=TEXT
// RUN: not tt-opt %S/inputs/small_cnn.mlir -p 'tt-memory-plan{alignment=3}' 2>&1 | filecheck %s --check-prefix=ALIGN

// Every tensor gets an arena offset (16-byte aligned); the image argument too; the function
// records its arena and the schedule's lower bound; fused updates get their scratch.
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME:    tt.arg_offsets = array<i64: [[IMG:[0-9]+]], [[LBL:[0-9]+]]>
// CHECK-SAME:    tt.arena_bytes = [[ARENA:[0-9]+]] : i64, tt.arena_lower_bound = [[ARENA]] : i64
// CHECK:         %stem = tt.conv2d %image, {{.*}}tt.offsets = array<i64: {{[0-9]*[02468]}}>
// CHECK:         %1 = tt.reshape %0 {tt.offsets = array<i64: [[POOLED:[0-9]+]]>}
// CHECK:         tt.linear_weight_update @classifier.weight, {{.*}}tt.scratch_offset = {{[0-9]+}} : i64
// CHECK-NOT:     tt.offsets = array<i64: -1>

// JSON:      "arena_bytes": 112,
// JSON-NEXT: "lower_bound_bytes": 112,
// JSON-NEXT: "trainable_sram_bytes": 56,
// JSON-NEXT: "runtime_state_bytes": 4,
// JSON-NEXT: "total_sram_bytes": 172,
// JSON-NEXT: "flash_bytes": 556,

// TEXT: memory report of @train_step
// TEXT: arena                      112 B
// TEXT: planner slack           1.0000

// ALIGN: tt-memory-plan: alignment must be a power of two, got 3
