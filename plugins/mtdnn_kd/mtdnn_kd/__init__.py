"""Knowledge distillation for mtdnn (MT-DNN-KD): an ensemble of teachers per task becomes soft
labels on disk (``mtdnn kd teach``), and a multi-task student learns from them through the ``kd``
regularizer (``mtdnn kd train``, ``mtdnn kd recipe``)."""

__version__ = "0.1.0"
