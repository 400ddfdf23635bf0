"""Verdicts: what training did to a variable, and whether ``inspect`` predicted it.

Pure functions over plain numbers: no TensorFlow, no NumPy.
"""

from __future__ import annotations

import math
from typing import Sequence

from ..render.text import number

__all__ = ["decide_verdict", "judge"]


def decide_verdict(first_nonfinite_value_step: int | None, changed_steps: int) -> str:
    """``diverged`` if the value ever held NaN/Inf, else ``moved`` if any bit changed, else ``frozen``.

    >>> decide_verdict(None, 0), decide_verdict(None, 3), decide_verdict(7, 7)
    ('frozen', 'moved', 'diverged')
    """
    if first_nonfinite_value_step is not None:
        return "diverged"
    return "moved" if changed_steps else "frozen"


def judge(*, verdict: str, static: str | None, trained: bool, grad_norms: Sequence[float] | None,
          first_nonfinite_grad_step: int | None, first_nonfinite_value_step: int | None,
          writers: Sequence[str] = (), weight_decay: float | None = None,
          train_op: bool = False, updated_by_train_op: bool | None = None) -> tuple[bool, str]:
    """Whether ``verdict`` is what the static verdict predicts, and why.

    A trained variable is expected to move when its gradient ``flows``, to stay
    frozen when it is ``zero``, ``blocked`` or ``disconnected``, and to diverge
    when it is ``nonfinite``. A variable the optimizer is not given is
    expected to stay frozen, unless the model updates it itself (BatchNorm
    statistics, an RNG state), which agrees too.

    Returns:
        ``(agrees, explanation)``.
    """
    grads = [g for g in (grad_norms or ()) if math.isfinite(g)]
    nonzero_step = next((i + 1 for i, g in enumerate(grad_norms or ()) if math.isfinite(g) and g > 0), None)
    writer_text = ", ".join(writers[:3]) + (" ..." if len(writers) > 3 else "")
    if not trained:
        if verdict == "frozen":
            return True, "not trained: the optimizer is not given it, and nothing else wrote it"
        if verdict == "moved":
            by = f" ({writer_text})" if writers else ""
            return True, f"not trained by the optimizer; the model updates it itself{by}, e.g. BatchNorm statistics"
        return False, (f"not trained by the optimizer, yet it turned NaN/Inf after step "
                       f"{first_nonfinite_value_step}: the model's own update{' (' + writer_text + ')' if writers else ''} poisoned it")
    if static is None:
        return True, "no static verdict to compare with"
    if static == "flows":
        if verdict == "moved":
            return True, "its gradient flows and it learns, as inspect predicts"
        if verdict == "frozen":
            if train_op and updated_by_train_op is False:
                return False, ("inspect finds a gradient, but train_op never updates it (it is not in the "
                               "optimizer's var_list, or it is not trainable there)")
            if not grads or max(grads) == 0:
                return False, ("inspect finds a nonzero gradient on the example inputs, but it was zero at "
                               "every training step: the zero comes from the training batches or the values reached")
            return False, (f"it has a gradient (max norm {number(max(grads))}) but never changed: every update "
                           "was below its float precision (raise the learning rate), or the optimizer skipped it")
        return False, _diverged_text(first_nonfinite_grad_step, first_nonfinite_value_step,
                                     "its gradient was finite on the example inputs, but training diverged")
    if static == "zero":
        if verdict == "frozen":
            return True, "its gradient is all zero, so it stays frozen, as inspect predicts"
        if verdict == "moved":
            if nonzero_step is not None:
                return False, (f"its gradient is zero on the example inputs but nonzero at step {nonzero_step}: "
                               "the zero holds only for those inputs or those values")
            if weight_decay:
                return False, (f"its gradient is all zero, yet weight decay ({number(weight_decay)}) shrinks it at "
                               "every step: the optimizer decays every variable that has a gradient tensor, even a zero one")
            return False, _other_writer_text("its gradient is all zero, yet it moved", writers, writer_text, train_op)
        return False, _diverged_text(first_nonfinite_grad_step, first_nonfinite_value_step,
                                     "its gradient is zero on the example inputs, yet it diverged")
    if static == "nonfinite":
        if verdict == "diverged":
            return True, (f"its gradient holds NaN/Inf, which poisoned it after step {first_nonfinite_value_step}, "
                          "as inspect predicts")
        if first_nonfinite_grad_step is None:
            return False, ("its gradient holds NaN/Inf on the example inputs but stayed finite while training: "
                           "the poison is specific to those inputs or those values")
        return False, (f"its gradient turned NaN/Inf at step {first_nonfinite_grad_step}, but the optimizer "
                       "did not write it into the value")
    # blocked or disconnected: no gradient from the loss at all
    why = "no gradient reaches it" if static == "blocked" else "the loss never reads it"
    if verdict == "frozen":
        return True, f"{why} ({static}), so it stays frozen, as inspect predicts"
    if verdict == "moved":
        return False, _other_writer_text(f"{why} ({static}), yet it moved", writers, writer_text, train_op)
    return False, _other_writer_text(
        f"{why} ({static}), yet it turned NaN/Inf after step {first_nonfinite_value_step}",
        writers, writer_text, train_op)


def _diverged_text(grad_step: int | None, value_step: int | None, lead: str) -> str:
    if grad_step is not None:
        return (f"{lead}: its gradient first held NaN/Inf at step {grad_step} and the value after step "
                f"{value_step}; try a smaller learning rate")
    return f"{lead}: its value overflowed to NaN/Inf after step {value_step}; try a smaller learning rate"


def _other_writer_text(lead: str, writers: Sequence[str], writer_text: str, train_op: bool) -> str:
    if writers:
        where = "train_op" if train_op else "the training step"
        return (f"{lead}: it is written by {writer_text}, an update in {where} that is not the loss's "
                "gradient (weight decay, a counter, a moving average...)")
    return (f"{lead}: something other than the loss's gradient wrote it, e.g. weight decay applied to "
            "every variable, another update in the train op, or an assign in the model code")
