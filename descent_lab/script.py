"""A Playground run as a complete PyTorch script: paste it into a file, run it with only
``torch`` installed, and its last line prints the run's final point as ``x y``.

    from descent_lab.script import torch_script
    text = torch_script(setup, trajectory)   # trajectory: one run of setup (compute.runs)

The script has the surface's f written in torch operations (landscapes.expression.formula: a
built-in's own value function traced, or a typed formula's tree), the start, the optimizer and
learning-rate scheduler the run's registry entry names (Optimizer.torch_code), float64, and the
loop with ``loss.backward()``. For a noise-free full-batch run it takes the app's steps: torch's
autograd gradient of the same f instead of the app's analytic one differs only by rounding, so
the final point agrees to about 1e-12 relative on a well-conditioned run (tests/test_script.py runs
the scripts for every optimizer and schedule). A run with gradient noise adds torch's own noise of
the same size, and a mini-batch run is written as the full-batch one; the script says so.

``keras_script`` writes the same run for Keras 3 (on its torch backend, so f is the same torch code,
differentiated by ``loss.backward()`` and applied by ``apply_gradients``) where Keras's optimizer
takes the run's steps: PyTorch's form of SGD, momentum and Nesterov (at a constant rate) and of
Nadam with momentum_decay = 1, and the Keras form of AdaGrad, RMSProp, Adam, AdamW and Nadam
(Rule.keras_form); elsewhere ``keras_difference`` says in words how Keras differs.
scripts/check_keras_scripts.py runs them with Keras (not a dependency, so not a test).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from types import SimpleNamespace

import optimizers
from landscapes.expression import formula

from .setup import Setup

WIDTH = 79  # characters per line of the script


def torch_script(setup: Setup, trajectory: optimizers.Trajectory) -> str:
    """The whole script of ``trajectory``, one run of ``setup`` (its surface, noise and batch)."""
    surface = setup.make_surface()
    opt = trajectory.optimizer
    about, loop = _about(setup, surface, trajectory, "PyTorch")
    lookahead = None
    if opt.rule.form_of == "nesterov" and opt.rule.grad_point is not None:
        constant = opt.schedule.kind == "constant" and not opt.schedule.warmup
        about.insert(-1, "torch's NAG iterates are the look-ahead points w + beta v of this form, so the "
                     "script prints w = (its point) + lr beta (its momentum buffer)"
                     + ("." if constant else ". With a changing learning rate the two forms differ "
                        "(torch scales the whole velocity by the current rate, this form only the "
                        "newest gradient), so this script ends elsewhere: torch's NAG is the entry "
                        "Nesterov (NAG)."))
        lookahead = f"{float(opt.hyper['lr'])!r} * {float(opt.hyper['beta'])!r}"
    if opt.rule.form == "keras":
        about.insert(-1, f"This run is Keras's form: {opt.rule.note} torch.optim.{opt.rule.torch_class} "
                     "takes PyTorch's form, so this script ends elsewhere; the Keras script reproduces "
                     "the run.")
    opt_code = opt.torch_code("[w]")

    lines = [*_comment(about), ""]
    lines += ["import math"] if "math." in opt_code else []
    lines += ["import torch", "", "torch.set_default_dtype(torch.float64)  # as Descent Lab computes", "", ""]
    lines += _f_lines(surface)
    start = ", ".join(_num(v) for v in trajectory.path[0])
    lines += [f"steps = {trajectory.steps}", f"w = torch.tensor([{start}], requires_grad=True)"]
    for line in opt_code.splitlines():  # a long scheduler wraps inside its parentheses
        lines += _wrap(line, "", "    ")
    if setup.noise:
        lines.append(f"torch.manual_seed({setup.seed})")
    lines += [*loop, "    opt.zero_grad()", "    loss = f(w[0], w[1])", "    loss.backward()"]
    if setup.noise:
        lines.append(f"    w.grad += {setup.noise!r} * torch.randn(2)  # gradient noise")
    lines.append("    opt.step()")
    if "sched = " in opt_code:
        lines.append("    sched.step()")
    lines.append("")
    if lookahead is not None:
        lines += ["buffer = opt.state[w].get(\"momentum_buffer\", 0.0)",
                  f"print(*(w.detach() + {lookahead} * buffer).tolist())"]
    else:
        lines.append("print(*w.tolist())")
    return "\n".join(lines) + "\n"


def keras_script(setup: Setup, trajectory: optimizers.Trajectory) -> str | None:
    """The run as a Keras 3 script (torch backend, f in torch operations, the gradient by
    ``loss.backward()`` and ``apply_gradients``), or None where Keras's optimizer takes other steps
    than this run's form (see keras_difference)."""
    if keras_difference(trajectory.optimizer):
        return None
    surface = setup.make_surface()
    opt = trajectory.optimizer
    rule, h = opt.rule, SimpleNamespace(**opt.hyper)
    about, loop = _about(setup, surface, trajectory, "Keras 3 and PyTorch (Keras runs on its torch backend)")
    args = rule.keras_args(h)
    rate = opt.schedule.keras(args["learning_rate"], trajectory.steps)
    same = []
    if rate is None:
        rate = repr(args["learning_rate"])
        same.append("Keras has no schedule with this run's rates (a warm-up multiplying the schedule, or a "
                    "cosine restarting within the run): this script keeps the rate constant")
    changing = opt.schedule.kind != "constant" or opt.schedule.warmup > 0
    if rule.velocity == "velocity" and changing:  # the momentum family
        same.append("with a changing rate Keras's momentum differs: it keeps the rate in its velocity, "
                    "v = beta v - lr g, where PyTorch applies the current rate to v = beta v + g")
    if rule.grad_point is not None:
        same.append(f"Keras has no {rule.label}: this is its {optimizers.rule(rule.form_of).label}, whose "
                    "iterates are this form's look-ahead points")
    if same:
        text = "; ".join(same)
        about.insert(-1, text[0].upper() + text[1:] + ". So this script ends elsewhere.")
    schedule = []
    if rate != repr(args["learning_rate"]):  # a Keras schedule: a line of its own
        schedule, rate = _wrap(f"rate = {rate}", "", "    "), "rate"
    args["learning_rate"] = _Code(rate)
    parts = [f"{k}={_arg(v)}" for k, v in args.items()]
    call = f"opt = keras.optimizers.{rule.keras_class}({', '.join(parts)})"
    if len(call) > WIDTH:
        call = f"opt = keras.optimizers.{rule.keras_class}(\n" + "".join(f"    {p},\n" for p in parts) + ")"
    start = ", ".join(_num(v) for v in trajectory.path[0])
    lines = [*_comment(about), "", "import os", "",
             'os.environ["KERAS_BACKEND"] = "torch"  # before importing keras', "", "import keras",
             "import torch", "", 'keras.config.set_floatx("float64")  # as Descent Lab computes',
             "torch.set_default_dtype(torch.float64)", "", ""]
    lines += _f_lines(surface)
    lines += [f"steps = {trajectory.steps}", f'w = keras.Variable([{start}], dtype="float64")']
    lines += [*schedule, *call.splitlines()]
    if setup.noise:
        lines.append(f"torch.manual_seed({setup.seed})")
    lines += [*loop, "    loss = f(w.value[0], w.value[1])  # w.value: the torch tensor Keras keeps",
              "    loss.backward()"]
    if setup.noise:
        lines.append(f"    w.value.grad += {setup.noise!r} * torch.randn(2)  # gradient noise")
    lines += ["    opt.apply_gradients([(w.value.grad, w)])", "    w.value.grad = None", "",
              "print(*keras.ops.convert_to_numpy(w).tolist())"]
    return "\n".join(lines) + "\n"


def keras_difference(opt: optimizers.Optimizer) -> str:
    """Why Keras has no optimizer taking ``opt``'s steps (in its form), in words; "" when it has."""
    rule = opt.rule
    if not rule.keras_class:
        return f"Keras has no {rule.label} optimizer."
    if rule.keras_takes is not None and rule.keras_takes(opt.hyper):
        return ""  # Keras's optimizer takes this form's steps with these settings (Rule.keras_takes)
    if rule.keras_form is not None and rule.form == "pytorch":
        return (f"keras.optimizers.{rule.keras_class} takes other steps than PyTorch's form. "
                f"{rule.keras_form.note} Pick the Keras form in this run's settings to see its path and "
                "its Keras script.")
    return ""


class _Code(str):
    """Text that goes into a call as code, not as a string."""


def _arg(v) -> str:
    return str(v) if isinstance(v, _Code) else repr(float(v)) if isinstance(v, float) else repr(v)


def _about(setup: Setup, surface, trajectory: optimizers.Trajectory, framework: str
           ) -> tuple[list[str], list[str]]:
    """The script's opening paragraphs (the run, what differs from the app's run, where the app's
    run ends, last) and the loop's first lines (it stops where the app's run diverged)."""
    start, end = trajectory.path[0], trajectory.path[-1]
    about = [f"Descent Lab: {trajectory.optimizer.describe()} on {surface.title}, {trajectory.steps} "
             f"steps from ({_num(start[0])}, {_num(start[1])}). It needs only {framework}; its last "
             "line prints the final point as x y."]
    exact = True
    if setup.noise:
        about.append(f"Descent Lab adds Gaussian noise of standard deviation {setup.noise:g} to every "
                     f"gradient component from NumPy's generator (seed {setup.seed}); this script adds "
                     "torch's, so its path is another draw of the same noisy run and ends elsewhere.")
        exact = False
    if surface.data is not None and 0 < setup.batch < surface.data.n:
        about.append(f"Descent Lab takes each gradient on a mini-batch of {setup.batch} of the "
                     f"{surface.data.n} samples; this script has the full-batch loss only (the data set "
                     "is not in it), so it runs full-batch gradient steps and ends elsewhere.")
        exact = False
    if exact:
        sensitive = trajectory.sensitive_from is not None
        about.append(f"Descent Lab's run ends at {_num(end[0])} {_num(end[1])}."
                     + (" " + trajectory.rounding.note(framework.split(" (")[0]) if sensitive else ""))
    loop = ["", "for t in range(steps):"]
    d = int(trajectory.diverged_at)
    if d >= 0:
        loop = ["", *_comment([f"Descent Lab's run diverged at step {d} (a coordinate beyond "
                               f"{optimizers.DIVERGENCE_FACTOR * surface.scale:g} or f not a number) "
                               "and stays at the point before: the loop stops there. Set range(steps) "
                               "to watch it blow up."]), f"for t in range({max(d - 1, 0)}):"]
    return about, loop


def _f_lines(surface) -> list[str]:
    """``def f(x, y)``: the surface in torch operations, its formula as a comment when short."""
    expr = formula(surface)
    body = expr.to_torch()
    if len(body) > WIDTH - 11:
        body = "(\n" + "\n".join(_wrap(body, " " * 8)) + "\n    )"
    text = f"{surface.title}: f(x, y) = {expr.to_text()}"
    return ["def f(x, y):", *_wrap(text if len(text) <= 2 * (WIDTH - 6) else surface.title, "    # "),
            f"    return {body}", "", ""]


def _num(v) -> str:
    """A coordinate as Python reads it back exactly."""
    return repr(float(v))


def _wrap(text: str, prefix: str, more: str | None = None) -> list[str]:
    """``text`` in lines of at most WIDTH, broken at spaces only (so code stays code inside
    parentheses); the first line starts with ``prefix``, the others with ``more`` (default the same)."""
    more = prefix if more is None else more
    return textwrap.wrap(text, WIDTH, initial_indent=prefix, subsequent_indent=more, break_long_words=False,
                         break_on_hyphens=False)


def _comment(paragraphs: list[str]) -> list[str]:
    out = []
    for p in paragraphs:
        out += _wrap(p, "# ")
    return out


#: runs each script file given as an argument; prints {path: its printed lines} as JSON
_RUNNER = """
import contextlib, io, json, runpy, sys
out = {}
for path in sys.argv[1:]:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        runpy.run_path(path, run_name="__main__")
    out[path] = buf.getvalue().splitlines()
print(json.dumps(out))
"""


def run_scripts(paths, *, cwd=None, isolated: bool = True, timeout: float = 300) -> dict[str, list[str]]:
    """Run script files (as a student would, ``python file.py``) in one Python process, isolated
    from the environment unless ``isolated`` is False (PYTHONPATH then counts, e.g. for a Keras
    installed on the side): {path: the lines each printed}. Raises CalledProcessError when one fails."""
    flags = ["-I"] if isolated else []
    done = subprocess.run([sys.executable, *flags, "-c", _RUNNER, *map(str, paths)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, check=True)
    return json.loads(done.stdout)
