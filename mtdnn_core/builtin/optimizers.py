"""Built-in optimizers and learning-rate schedules."""
from mtdnn_core import optim
from mtdnn_core.hookspecs import hookimpl


@hookimpl
def register_optimizers(registry):
    registry.add("adamw", optim.adamw, config=optim.AdamWConfig)
    registry.add("adamax", optim.adamax, config=optim.AdamConfig)
    registry.add("radam", optim.radam, config=optim.AdamConfig)
    registry.add("sgd", optim.sgd, config=optim.SGDConfig)
    if optim.apex_available():
        registry.add("apex_fused_adam", optim.apex_fused_adam, config=optim.AdamConfig)


@hookimpl
def register_schedulers(registry):
    registry.add("linear", optim.linear_schedule)
    registry.add("cosine", optim.cosine_schedule)
    registry.add("constant", optim.constant_schedule)
    registry.add("polynomial", optim.polynomial_schedule, config=optim.PolynomialConfig)
