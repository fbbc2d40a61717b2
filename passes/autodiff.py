"""tt-autodiff: build `@train_step(image, label)` from `@forward` by reverse-mode autodiff.

The new function runs the forward ops, a softmax cross-entropy loss on the logits, the backward
op of every forward op in reverse order, and, for every parameter, `tt.scale_grad {power = 1}`
(gradient w.r.t. the stored integers) followed by `tt.sgd_update` as soon as its gradient exists
(after the input gradient that still reads the old weight). Everything is plain tt IR: no
run-time autodiff. With `emit=gradients`, no updates are made and `@train_step` returns the
loss and the real-unit float32 gradient of every parameter (results `loss`, `grad.<name>`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from xdsl.context import Context
from xdsl.dialects import arith, func
from xdsl.dialects.builtin import (
    ArrayAttr,
    DenseArrayBase,
    DictionaryAttr,
    FloatAttr,
    FunctionType,
    IntegerAttr,
    ModuleOp,
    StringAttr,
    SymbolRefAttr,
    TensorType,
    f32,
    i32,
    i64,
)
from xdsl.ir import Attribute, Block, Operation, SSAValue
from xdsl.passes import ModulePass
from xdsl.utils.exceptions import PassFailedException

from ttdialect import dialect as tt
from ttdialect.ir_io import find_function
from ttdialect.types import QTensorType
from ttdialect.weights import module_params

RESULT_NAME = "tt.name"
EMIT_MODES = ("updates", "gradients")


def f32_like(value: SSAValue) -> TensorType:
    """The float32 gradient type of a value (same shape)."""
    typ = value.type
    assert isinstance(typ, QTensorType | TensorType)
    return TensorType(f32, typ.get_shape())


@dataclass
class _Backward:
    """Emits the backward ops of one function body, appending to `block`."""

    block: Block
    emit_updates: bool
    lr: SSAValue | None
    rounding: str
    grads: dict[SSAValue, SSAValue] = field(default_factory=dict)
    param_grads: dict[str, SSAValue] = field(default_factory=dict)

    def emit(
        self, op_type: type[Operation], operands: list[SSAValue], result: Attribute | None, **props: Any
    ):
        op = op_type.create(
            operands=operands,
            result_types=[] if result is None else [result],
            properties={k: v for k, v in props.items() if v is not None},
        )
        self.block.add_op(op)
        return op.results[0] if op.results else None

    def accumulate(self, value: SSAValue, grad: SSAValue) -> None:
        if not isinstance(value.type, QTensorType | TensorType):
            return
        if value in self.grads:
            grad = self.emit(tt.GradAccumulateOp, [self.grads[value], grad], grad.type)
        self.grads[value] = grad

    def clamp_grad(self, grad: SSAValue, output: SSAValue, op: Operation) -> SSAValue:
        act_min = getattr(op, "act_min", None)  # (not `or`: IntegerAttr(0) is falsy)
        act_max = getattr(op, "act_max", None)
        act_min = IntegerAttr(-128, i64) if act_min is None else act_min
        act_max = IntegerAttr(127, i64) if act_max is None else act_max
        return self.emit(tt.ClampGradOp, [grad, output], grad.type, act_min=act_min, act_max=act_max)

    def parameter(self, ref: SymbolRefAttr | None, grad: SSAValue) -> None:
        """Record a parameter's real-unit gradient; in update mode, scale it and update."""
        if ref is None:
            return
        name = ref.root_reference.data
        self.param_grads[name] = grad
        if self.emit_updates:
            assert self.lr is not None
            int_grad = self.emit(tt.ScaleGradOp, [grad], grad.type, param=ref, power=IntegerAttr(1, i64))
            self.emit(
                tt.SGDUpdateOp,
                [int_grad, self.lr],
                None,
                param=ref,
                grad_scale=FloatAttr(1.0, f32),
                rounding=StringAttr(self.rounding),
            )

    def needs_input_grad(self, value: SSAValue) -> bool:
        return not isinstance(value.owner, Block)

    def conv2d(self, op: tt.Conv2DOp, grad: SSAValue) -> None:
        grad_z = self.clamp_grad(grad, op.output, op)
        conv = {"stride": op.stride, "padding": op.padding, "groups": op.groups}
        if self.needs_input_grad(op.input):
            grad_x = self.emit(tt.Conv2DGradInputOp, [grad_z], f32_like(op.input), weight=op.weight, **conv)
            self.accumulate(op.input, grad_x)
        param = tt.lookup_param(op, op.weight)
        _, kh, kw, cg = param.shape
        grad_w = self.emit(
            tt.Conv2DGradWeightOp,
            [op.input, grad_z],
            TensorType(f32, param.shape),
            kernel=DenseArrayBase.from_list(i64, [kh, kw]),
            **conv,
        )
        self.parameter(op.weight, grad_w)
        if op.bias is not None:
            grad_b = self.emit(tt.BiasGradOp, [grad_z], TensorType(f32, [param.shape[0]]))
            self.parameter(op.bias, grad_b)

    def linear(self, op: tt.LinearOp, grad: SSAValue) -> None:
        grad_z = self.clamp_grad(grad, op.output, op)
        if self.needs_input_grad(op.input):
            grad_x = self.emit(tt.LinearGradInputOp, [grad_z], f32_like(op.input), weight=op.weight)
            self.accumulate(op.input, grad_x)
        param = tt.lookup_param(op, op.weight)
        grad_w = self.emit(tt.LinearGradWeightOp, [op.input, grad_z], TensorType(f32, param.shape))
        self.parameter(op.weight, grad_w)
        if op.bias is not None:
            grad_b = self.emit(tt.BiasGradOp, [grad_z], TensorType(f32, [param.shape[0]]))
            self.parameter(op.bias, grad_b)

    def narrowed_clamp_grad(self, grad: SSAValue, op: tt.MaxPoolOp | tt.AvgPoolOp) -> SSAValue:
        """A pool's clamp gradient, only where the clamp is narrower than int8 (a pool of int8
        values at the input's quantization cannot saturate)."""
        if (tt._int(op.act_min), tt._int(op.act_max)) == (-128, 127):
            return grad
        return self.clamp_grad(grad, op.output, op)

    def pool(self, op: tt.MaxPoolOp | tt.AvgPoolOp, grad: SSAValue) -> None:
        """Max pooling routes each gradient to its window's argmax tap (tt.max_pool_grad reads
        the pool's input; tt-pool-indices may switch it to argmax indices); average pooling
        spreads it over the valid taps."""
        if not self.needs_input_grad(op.input):
            return
        grad_z = self.narrowed_clamp_grad(grad, op)
        window = {"kernel": op.kernel, "stride": op.stride, "padding": op.padding}
        if isinstance(op, tt.MaxPoolOp):
            grad_x = self.emit(tt.MaxPoolGradOp, [grad_z, op.input], f32_like(op.input), **window)
        else:
            grad_x = self.emit(tt.AvgPoolGradOp, [grad_z], f32_like(op.input), **window)
        self.accumulate(op.input, grad_x)

    def lookup_activation(self, op: tt._LookupActivation, grad: SSAValue) -> None:
        """The derivative of the real function at the saved int8 input (a table per op)."""
        if not self.needs_input_grad(op.input):
            return
        activation = {"activation": StringAttr(op.ACTIVATION), "output_type": op.output.type}
        if op.numerics is not None:
            activation["numerics"] = op.numerics
        grad_x = self.emit(tt.ActivationGradOp, [grad, op.input], f32_like(op.input), **activation)
        self.accumulate(op.input, grad_x)

    def mul(self, op: tt.MulOp, grad: SSAValue) -> None:
        """Each operand's gradient is the (clamped) output gradient times the other operand."""
        grad_z = self.clamp_grad(grad, op.output, op)
        for value, other in ((op.lhs, op.rhs), (op.rhs, op.lhs)):
            if self.needs_input_grad(value):
                self.accumulate(value, self.emit(tt.MulGradOp, [grad_z, other], f32_like(value)))

    def concat(self, op: tt.ConcatOp, grad: SSAValue) -> None:
        """Each input's gradient is its channel slice, through tt.requantize's clamp gradient for
        an input whose quantization the concat changes (a copy passes every gradient)."""
        output = op.output.type
        assert isinstance(output, QTensorType)
        masked: SSAValue | None = None
        for value, offset in zip(op.inputs, op.channel_offsets(), strict=True):
            if not self.needs_input_grad(value):
                continue
            source = grad
            if (value.type.real_scale, value.type.zp) != (output.real_scale, output.zp):
                masked = masked or self.clamp_grad(grad, op.output, op)
                source = masked
            part = self.emit(
                tt.ConcatGradOp, [source], f32_like(value), channel_offset=IntegerAttr(offset, i64)
            )
            self.accumulate(value, part)

    def backward(self, op: Operation, grad: SSAValue) -> None:
        """Emit the backward of one forward op, given the gradient of its result."""
        if isinstance(op, tt.Conv2DOp):
            self.conv2d(op, grad)
        elif isinstance(op, tt.LinearOp):
            self.linear(op, grad)
        elif isinstance(op, tt.AddOp):
            grad_z = self.clamp_grad(grad, op.output, op)
            self.accumulate(op.lhs, grad_z)
            self.accumulate(op.rhs, grad_z)
        elif isinstance(op, tt.GlobalAvgPoolOp):
            self.accumulate(op.input, self.emit(tt.GlobalAvgPoolGradOp, [grad], f32_like(op.input)))
        elif isinstance(op, tt.MaxPoolOp | tt.AvgPoolOp):
            self.pool(op, grad)
        elif isinstance(op, tt._LookupActivation):
            self.lookup_activation(op, grad)
        elif isinstance(op, tt.MulOp):
            self.mul(op, grad)
        elif isinstance(op, tt.ConcatOp):
            self.concat(op, grad)
        elif isinstance(op, tt.ReshapeOp):
            self.accumulate(op.input, self.emit(tt.ReshapeOp, [grad], f32_like(op.input)))
        elif isinstance(op, tt.RequantizeOp | tt.ClampOp):
            self.accumulate(op.input, self.clamp_grad(grad, op.output, op))
        elif isinstance(op, tt.DequantizeOp):
            self.accumulate(op.input, grad)
        elif isinstance(op, tt.QuantizeOp | arith.ConstantOp):
            return
        else:
            raise PassFailedException(f"tt-autodiff: no backward rule for '{op.name}'")


@dataclass(frozen=True)
class AutodiffPass(ModulePass):
    """Build @train_step (forward, loss, backward, updates) from @forward."""

    name = "tt-autodiff"

    lr: float = 0.01
    emit: str = "updates"
    rounding: str = "stochastic"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        if self.emit not in EMIT_MODES:
            raise PassFailedException(
                f"tt-autodiff: emit must be one of {', '.join(EMIT_MODES)}, got '{self.emit}'"
            )
        if self.rounding not in tt.ROUNDING_MODES:
            raise PassFailedException(
                f"tt-autodiff: rounding must be one of {', '.join(tt.ROUNDING_MODES)}, got '{self.rounding}'"
            )
        forward = find_function(op, "forward")
        if forward is None:
            raise PassFailedException("tt-autodiff: the module has no func.func @forward")
        if find_function(op, "train_step") is not None:
            raise PassFailedException("tt-autodiff: the module already has a @train_step")
        train = forward.clone()
        train.sym_name = StringAttr("train_step")
        op.body.block.insert_op_after(train, forward)
        self.build_train_step(train)

    def build_train_step(self, train: func.FuncOp) -> None:
        """Turn `train` (a copy of @forward inside the module) into the training step."""
        block = train.body.block
        ret = block.last_op
        assert isinstance(ret, func.ReturnOp)
        if len(ret.arguments) != 1 or not isinstance(ret.arguments[0].type, QTensorType):
            raise PassFailedException("tt-autodiff: @forward must return one !tt.qtensor of logits [N, K]")
        logits = ret.arguments[0]
        if logits.type.get_num_dims() != 2:
            raise PassFailedException(f"tt-autodiff: logits must be [N, K], got {logits.type}")
        forward_ops = [o for o in block.ops if o is not ret]
        ret.detach()
        ret.erase()
        batch = logits.type.get_shape()[0]
        label = block.insert_arg(TensorType(i32, [batch]), len(block.args))
        label.name_hint = "label"

        lr = None
        if self.emit == "updates":
            constant = arith.ConstantOp(FloatAttr(self.lr, f32))
            constant.result.name_hint = "lr"
            block.add_op(constant)
            lr = constant.result
        backward = _Backward(block, self.emit == "updates", lr, self.rounding)
        loss = backward.emit(tt.CrossEntropyOp, [logits, label], f32)
        loss.name_hint = "loss"
        backward.grads[logits] = backward.emit(tt.CrossEntropyGradOp, [logits, label], f32_like(logits))
        for forward_op in reversed(forward_ops):
            results = [r for r in forward_op.results if r in backward.grads]
            if results:
                backward.backward(forward_op, backward.grads[results[0]])

        outputs: list[SSAValue] = [loss]
        names = ["loss"]
        if self.emit == "gradients":
            for name in module_params_in_order(train, backward.param_grads):
                outputs.append(backward.param_grads[name])
                names.append(f"grad.{name}")
        block.add_op(func.ReturnOp(*outputs))
        train.function_type = FunctionType.from_lists([a.type for a in block.args], [v.type for v in outputs])
        train.res_attrs = ArrayAttr([DictionaryAttr({RESULT_NAME: StringAttr(n)}) for n in names])
        train.arg_attrs = None


def module_params_in_order(function: func.FuncOp, names: dict[str, SSAValue]) -> list[str]:
    """The keys of `names` in the order their tt.param ops appear in the module."""
    module = function.parent_op()
    assert isinstance(module, ModuleOp)
    return [name for name in module_params(module) if name in names]
