// RUN: tt-opt %S/../passes/inputs/layers_cnn.mlir -p 'tt-training-pipeline{scheme=full lr=0.1}' -t 'c{model=layers}' | filecheck %s

// The new layers in C: each op one call of tt_layers.c at its planned offsets. The pools take a
// tt_pool_shape table (padding top and left; bottom and right follow from the sizes); the table
// activations an int8[256] table and their gradients a float[256] derivative table, both const
// (flash); the multiplies a tt_mul_quant (zero points, the fixed-point multiplier of
// lhs_scale * rhs_scale / out_scale, the clamp) and a broadcast flag; concat one call per input
// with tt.requantize's multiplier; the forward's max pool of @train_step records its argmax
// indices (ui8) and the gradient reads them.

// CHECK-LABEL: // ----- FILE: layers.c
// CHECK:       static const int8_t [[HSWISH:table[0-9]+]][256] = {
// CHECK:       static const tt_pool_shape [[MAXPOOL:pool_shape[0-9]+]] = {1, 12, 12, 8, 6, 6, 3, 3, 2, 2, 1, 1};
// CHECK:       static const tt_pool_shape [[AVGPOOL:pool_shape[0-9]+]] = {1, 6, 6, 12, 3, 3, 3, 3, 2, 2, 1, 1};
// CHECK:       static const tt_mul_quant [[GATE:mul_quant[0-9]+]] = {-36, -128, -30, {{[0-9]+}}, -7, -128, 127};
// CHECK-LABEL: int layers_inference(
// CHECK:         tt_lookup_s8(1152, [[HSWISH]], TT_ARENA(int8_t, {{[0-9]+}}), TT_ARENA(int8_t, {{[0-9]+}}));
// CHECK:         tt_max_pool(&[[MAXPOOL]], -128, 127, TT_ARENA(int8_t, {{[0-9]+}}), TT_ARENA(int8_t, {{[0-9]+}}), NULL);
// CHECK:         /* tt.concat */
// CHECK-NEXT:    tt_concat_channels(36, 6, 12, 0, -128, -36, {{[0-9]+}}, 0, TT_ARENA(int8_t, {{[0-9]+}}), TT_ARENA(int8_t, [[CAT:[0-9]+]]));
// CHECK-NEXT:    tt_concat_channels(36, 6, 12, 6, -14, -36, {{[0-9]+}}, 0, TT_ARENA(int8_t, {{[0-9]+}}), TT_ARENA(int8_t, [[CAT]]));
// CHECK:         tt_avg_pool(&[[AVGPOOL]], -128, 127,
// CHECK:         tt_mul(1, 9, 12, 1, &[[GATE]],
// CHECK-LABEL: static float train_step_schedule(
// CHECK:         tt_max_pool(&[[MAXPOOL]], -128, 127, TT_ARENA(int8_t, {{[0-9]+}}), TT_ARENA(int8_t, {{[0-9]+}}), TT_ARENA(uint8_t, [[INDICES:[0-9]+]]));
// CHECK:         tt_mul_grad_reduce(1, 9, 12, {{.*}}f, -30,
// CHECK:         tt_lookup_grad(12, derivative{{[0-9]+}}, TT_ARENA(float, {{[0-9]+}}), TT_ARENA(int8_t, {{[0-9]+}}), TT_ARENA(float, {{[0-9]+}}));
// CHECK:         tt_avg_pool_grad(&[[AVGPOOL]], TT_ARENA(float, {{[0-9]+}}), TT_ARENA(float, {{[0-9]+}}));
// CHECK:         tt_channel_slice(36, 12, 0, 6,
// CHECK:         tt_channel_slice(36, 12, 6, 6,
// CHECK:         tt_max_pool_grad_indices(&[[MAXPOOL]], TT_ARENA(float, {{[0-9]+}}), TT_ARENA(uint8_t, [[INDICES]]), TT_ARENA(float, {{[0-9]+}}));
// CHECK:         tt_lookup_grad(1152, derivative{{[0-9]+}},
// CHECK:         return loss{{[0-9]+}};
