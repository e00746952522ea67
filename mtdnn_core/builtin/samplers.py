"""Built-in multi-task schedules."""
from mtdnn_core.hookspecs import hookimpl
from mtdnn_core.samplers import AnnealedTemperatureSampler, ProportionalSampler, TemperatureSampler


@hookimpl
def register_samplers(registry):
    registry.add("proportional", ProportionalSampler, config=ProportionalSampler.Config)
    registry.add("temperature", TemperatureSampler, config=TemperatureSampler.Config)
    registry.add("annealed_temperature", AnnealedTemperatureSampler, config=AnnealedTemperatureSampler.Config,
                 aliases=("annealed",), description="temperature sampling, temperature moving from start to end over the epochs")
