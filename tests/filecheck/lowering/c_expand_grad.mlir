// RUN: tt-opt %S/../passes/inputs/small_bottleneck.mlir -p 'tt-training-pipeline{scheme=bias-only}' -t 'c{model=small}' | filecheck %s
// RUN: tt-opt %S/../passes/inputs/small_bottleneck.mlir -p 'tt-training-pipeline{scheme=%S/../passes/inputs/stem_weight.json}' -t 'c{model=small}' | filecheck %s --check-prefix=NOBIAS

// tt.expand_depthwise_grad_input becomes one tt_expand_depthwise_grad_input call: the depthwise
// and the 1x1 expand conv shapes (the expand's is the forward conv's table), the output gradient
// and the expand conv's 1-bit mask at their planned offsets, both weights with their scales, the
// bias update (bias in SRAM, its scales, power, the step's tt_sgd), the input gradient and the
// plane of scratch.
// CHECK-LABEL: // ----- FILE: small.c
// CHECK:       static const tt_conv_shape [[EXPAND:conv_shape[0-9]+]] = {1, 4, 4, 4, 4, 4, 8, 1, 1, 1, 1, 0, 0, 1};
// CHECK:       static const tt_conv_shape [[DW:conv_shape[0-9]+]] = {1, 4, 4, 8, 2, 2, 8, 3, 3, 2, 2, 1, 1, 8};
// CHECK:       static float train_step_schedule(
// CHECK:         const tt_sgd sgd0 = {learning_rate, 1.0f, TT_ROUND_STOCHASTIC, &ctx->rng_counter};
// CHECK:         tt_clamp_mask(128, -128, 100, TT_ARENA(int8_t, {{[0-9]+}}), TT_ARENA(uint8_t, [[MASK:[0-9]+]]));
// CHECK:         /* tt.expand_depthwise_grad_input */
// CHECK-NEXT:    tt_expand_depthwise_grad_input(&[[DW]], &[[EXPAND]], TT_ARENA(float, {{[0-9]+}}), TT_ARENA(uint8_t, [[MASK]]), small_block_dw_weight, small_block_dw_weight_scales, small_block_expand_weight, small_block_expand_weight_scales, small_block_expand_bias, small_block_expand_bias_scales, -1, &sgd0, TT_ARENA(float, {{[0-9]+}}), TT_ARENA(float, {{[0-9]+}}));
// CHECK-NOT:     tt_conv2d_grad_input(&[[DW]]
// CHECK:         return loss{{[0-9]+}};
// CHECK-LABEL: // ----- FILE: small_data.h
// CHECK:       extern const int8_t small_block_expand_weight[32]; /* @block.expand.weight, flash */
// CHECK:       extern int32_t small_block_expand_bias[8]; /* @block.expand.bias, SRAM, updated in place */

// Without the bias update (only the stem weight is trained): NULL bias, no scales, no tt_sgd.
// NOBIAS-LABEL: static float train_step_schedule(
// NOBIAS:         tt_expand_depthwise_grad_input(&{{conv_shape[0-9]+}}, &{{conv_shape[0-9]+}}, TT_ARENA(float, {{[0-9]+}}), TT_ARENA(uint8_t, {{[0-9]+}}), small_block_dw_weight, small_block_dw_weight_scales, small_block_expand_weight, small_block_expand_weight_scales, NULL, NULL, 0, NULL, TT_ARENA(float, {{[0-9]+}}), TT_ARENA(float, {{[0-9]+}}));
// NOBIAS:         tt_conv2d_weight_update({{.*}}, small_stem_weight, TT_ARENA(float,
// NOBIAS-LABEL: // ----- FILE: small_data.h
// NOBIAS:       extern const int32_t small_block_expand_bias[8]; /* @block.expand.bias, flash */
