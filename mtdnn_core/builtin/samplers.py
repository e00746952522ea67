"""Built-in multi-task schedules."""
from mtdnn_core.hookspecs import hookimpl
from mtdnn_core.samplers import ProportionalSampler, TemperatureSampler


@hookimpl
def register_samplers(registry):
    registry.add("proportional", ProportionalSampler, config=ProportionalSampler.Config)
    registry.add("temperature", TemperatureSampler, config=TemperatureSampler.Config)
