"""Task types: what kind of prediction a task makes, and everything that follows from it.

A task type owns which data formats it reads and how their label cells parse, how a batch of its
features is collated, how the loss is applied to the head's outputs, how raw outputs decode into
predictions (argmax, a regression value, a ranking, stitched word tags, spans...), what metrics
receive, and how predictions are written for people. The core asks the task type; it never
branches on a type's name. Plugins add types through the ``register_task_types`` hook; the
built-in ones (classification, regression, ranking, sequence labeling) register the same way.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import torch

    from mtdnn_core.config import TaskDef
    from mtdnn_core.data.store import FeatureStore


class Decoder:
    """Collects a dataset's raw outputs batch by batch and turns them into predictions.

    ``result()`` returns at least ``uids``, ``predictions``, ``scores`` (may be empty) and ``golds``
    (``None`` entries where a row has no label); a task type may add more keys (e.g. ``words``).
    Both methods are required: the base only says which one a subclass left out.
    """

    def add(self, rows: list[dict], batch: dict, outputs: Any) -> None:
        raise NotImplementedError(f"decoder {type(self).__name__} does not implement add(rows, batch, outputs), "
                                  f"which collects each batch's outputs; implement it (docs/plugins.md, Task type)")

    def result(self) -> dict[str, list]:
        raise NotImplementedError(f"decoder {type(self).__name__} does not implement result(), which returns uids, "
                                  f"predictions, scores and golds; implement it (docs/plugins.md, Task type)")


class TaskType:
    """Base class of task types; subclasses set the class attributes and override what differs.

    ``decoder`` is required, and so is ``parse_label`` for a data format that reads label cells
    through the task type (``DataFormat.reads_label_cells``): the base has no sensible default for
    them, so a type without them is refused when it registers or when a task is checked, not
    after an epoch of training. ``Classification`` (in the API) is a base with real defaults.
    """

    name: str = ""
    #: data formats this type reads (``None``: any registered format)
    formats: tuple[str, ...] | None = None
    default_head: str | None = None
    default_loss: str | None = None
    default_metrics: tuple[str, ...] = ()
    #: True when ``collate`` draws random numbers (masking). It is then called as
    #: ``collate(rows, pad_id, seed=..., task=...)``: in training ``seed`` is ``(run seed, epoch,
    #: batch position)``, so a resumed run collates exactly as an uninterrupted one; elsewhere
    #: ``seed`` is None and the type derives a fixed one (e.g. from the batch's uids).
    seeded_collate: bool = False

    # -- definitions -----------------------------------------------------------------------
    def default_n_class(self, task: TaskDef) -> int | None:
        """Output size when the definition gives none: the number of labels, if listed."""
        return len(task.labels) if task.labels else None

    def check(self, task: TaskDef) -> list[str]:
        """Problems of a definition that only this type can see (messages without location)."""
        return []

    # -- data ------------------------------------------------------------------------------
    def parse_label(self, raw: str, task: TaskDef, where: str) -> Any:
        """A label cell of a canonical file; ``None`` for an empty cell (unlabeled rows)."""
        raise NotImplementedError(f"{self._named()} does not implement parse_label(raw, task, where), which its "
                                  f"data format calls for every label cell; implement it (docs/plugins.md, Task type)")

    def lengths(self, store: FeatureStore) -> np.ndarray:
        """Tokens per sample, for length bucketing and token budgets."""
        return store.lengths("input_ids")

    def collate(self, rows: list[dict], pad_id: int) -> dict:
        """Padded tensors of one batch (one task); ``labels`` only when every row has one."""
        from mtdnn_core.data.batching import pad_text

        batch = {"uids": [r["uid"] for r in rows], **pad_text(rows, pad_id)}
        labels = [r.get("label") for r in rows]
        if labels and all(label is not None for label in labels):
            batch["labels"] = self.label_tensor(labels)
        if "weight" in rows[0]:
            import torch

            batch["weights"] = torch.tensor([float(r["weight"]) for r in rows], dtype=torch.float)
        return batch

    def label_tensor(self, labels: list) -> torch.Tensor:
        import torch

        return torch.tensor(labels, dtype=torch.long)

    # -- training --------------------------------------------------------------------------
    def compute_loss(self, head: Any, loss_fn: Any, outputs: Any, batch: dict) -> torch.Tensor:
        """The batch's task loss: the head's own (a CRF's likelihood) or the definition's loss."""
        loss = head.task_loss(outputs, batch["labels"], batch.get("weights"))
        if loss is None:
            loss = loss_fn(outputs, batch["labels"], batch.get("weights"))
        return loss

    #: True when :meth:`comparison_rows` can lay out its outputs for a divergence (regularizers
    #: that compare a batch's clean and perturbed outputs refuse task types that cannot)
    compares_outputs: bool = False

    def comparison_rows(self, outputs: Any, batch: dict) -> torch.Tensor:
        """The outputs as rows of logits, one distribution per row over the last dimension (one
        value per row for regression), holding only real units: what a divergence compares."""
        raise NotImplementedError(f"task type '{self.name}' cannot compare two outputs of a batch")

    def compare_outputs(self, outputs: Any, reference: Any, batch: dict, divergence: Any) -> torch.Tensor:
        """``divergence(outputs, reference)`` over the rows of both (e.g. a perturbed prediction
        against the clean one)."""
        return divergence(self.comparison_rows(outputs, batch), self.comparison_rows(reference, batch))

    # -- data-parallel weighting -------------------------------------------------------------
    def loss_units(self, head: Any, loss_fn: Any, batch: dict) -> torch.Tensor:
        """How many units the batch's task loss averages over (rows, labelled tokens, the sum of
        per-sample weights). Under torchrun each rank's loss is weighted by its share of them, so
        that the ranks together compute the mean over the whole batch. A head with its own loss
        (``loss_units``) or a loss (``units``) that averages over something else says so."""
        import torch

        units = getattr(head, "loss_units", None) or getattr(loss_fn, "units", None)
        labels, weights = batch.get("labels"), batch.get("weights")
        if units is not None:
            return torch.as_tensor(units(labels, weights), dtype=torch.float32)
        if weights is not None:
            return weights.float().sum()
        return torch.tensor(float(batch_rows(batch)))

    def comparison_units(self, batch: dict) -> torch.Tensor:
        """How many rows :meth:`comparison_rows` lays out for ``batch`` (a divergence averages over them)."""
        import torch

        return torch.tensor(float(batch_rows(batch)))

    # -- evaluation ------------------------------------------------------------------------
    def decoder(self, task: TaskDef, head: Any) -> Decoder:
        """A fresh :class:`Decoder` for one dataset's predictions (required)."""
        raise NotImplementedError(f"{self._named()} does not implement decoder(task, head), which evaluation and "
                                  f"`mtdnn predict` call; implement it (docs/plugins.md, Task type)")

    def _named(self) -> str:
        return f"task type '{self.name}' ({type(self).__name__})"

    def metric_inputs(self, task: TaskDef, output: dict) -> tuple[Any, Any, Any]:
        """``(golds, predictions, scores)`` as metrics take them."""
        import numpy as np

        scores = np.asarray(output["scores"]) if output.get("scores") else None
        return np.asarray(output["golds"]), np.asarray(output["predictions"]), scores

    def readable(self, task: TaskDef, output: dict) -> list:
        """Predictions as people read them (label names where the task has them)."""
        return list(output["predictions"])


def missing_methods(task_type: TaskType) -> list[str]:
    """Required methods a task type leaves to the base, which only raises (``parse_label`` is
    required only with formats that read label cells, see :func:`needs_parse_label`)."""
    return [name for name in ("decoder",) if getattr(type(task_type), name) is getattr(TaskType, name)]


def needs_parse_label(task_type: TaskType, data_format: Any) -> bool:
    """Whether ``data_format`` calls ``task_type.parse_label`` and the type does not implement it."""
    return bool(getattr(data_format, "reads_label_cells", False)) and type(task_type).parse_label is TaskType.parse_label


def batch_rows(batch: dict) -> int:
    """Rows of a batch: of its labels (one per sample, or per masked token), else its samples."""
    labels = batch.get("labels")
    if labels is not None and getattr(labels, "ndim", 0) >= 1:
        return int(labels.shape[0])
    return len(batch["uids"])
