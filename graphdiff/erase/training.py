"""The training-with-selection loop shared by :class:`~graphdiff.erase.ERASE` and the GNN baselines.

ERASE (Chen et al., CIKM 2024, https://arxiv.org/abs/2312.08852) and its baselines train for a fixed number of
epochs and keep the weights of the epoch with the best validation score (`shared/papers/erase.md` sections 1.5 and
4: the score is the accuracy against the validation labels the user has, the noisy ones unless clean ones are passed).
The skeleton is the same for all of them and lives here: one call of the model's epoch function per epoch, the
per-epoch record appended to the history, a snapshot of the model whenever the score strictly improves (or at the last
epoch when there is no validation set), early stopping after ``patience`` epochs without improvement, a progress bar.
What an epoch does -- the loss, the predictions, the record's fields -- belongs to the model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tqdm.auto import tqdm

__all__ = ["EpochOutcome", "Selection", "SelectionState", "train_with_selection"]


@dataclass
class EpochOutcome:
    """What one epoch reports to :func:`train_with_selection`.

    Attributes
    ----------
    record : dict
        The epoch's entry of the history (must hold ``"loss"``, shown in the progress bar).
    score : float or None
        The selection score of the epoch (validation accuracy); ``None`` when the epoch is not a candidate
        (no validation set, or no score computed this epoch).
    snapshot : callable
        Returns a copy of what must be kept if this epoch is selected (weights, predictions); called only then.

    Examples
    --------
    >>> outcome = EpochOutcome({"epoch": 0, "loss": 0.5}, score=0.8, snapshot=lambda: "weights")
    >>> outcome.score, outcome.snapshot()
    (0.8, 'weights')
    """

    record: dict
    score: float | None
    snapshot: Callable[[], Any]


@dataclass
class Selection:
    """The result of :func:`train_with_selection`.

    Attributes
    ----------
    history : list of dict
        One record per epoch run.
    best_epoch : int
        The selected epoch (0-based).
    best_score : float or None
        Its selection score; ``None`` without a validation set.
    best : Any
        The snapshot taken at the selected epoch.

    Examples
    --------
    >>> sel = train_with_selection(lambda epoch, last: EpochOutcome({"loss": 1.0}, None, lambda: epoch), 3,
    ...                            validation=False)
    >>> sel.best_epoch, sel.best_score, sel.best  # no validation: the last epoch
    (2, None, 2)
    """

    history: list[dict]
    best_epoch: int
    best_score: float | None
    best: Any


@dataclass
class SelectionState:
    """Where :func:`train_with_selection` stands after an epoch: enough to continue the loop exactly.

    Attributes
    ----------
    history : list of dict
        The records of the epochs run so far.
    best_score : float
        The best selection score so far (``-1.0`` before any).
    best_epoch : int
        Its epoch (``-1`` before any).
    best : Any
        Its snapshot (``None`` before any).
    next_epoch : int
        The first epoch still to run.
    finished : bool
        Whether the loop has ended (last epoch or early stop).

    Examples
    --------
    >>> SelectionState().next_epoch, SelectionState().finished
    (0, False)
    """

    history: list[dict] = field(default_factory=list)
    best_score: float = -1.0
    best_epoch: int = -1
    best: Any = None
    next_epoch: int = 0
    finished: bool = False


def train_with_selection(
    run_epoch: Callable[[int, bool], EpochOutcome],
    epochs: int,
    *,
    validation: bool,
    patience: int | None = None,
    desc: str = "train",
    verbose: bool = False,
    loss_format: str = ".3f",
    state: SelectionState | None = None,
    on_epoch_end: Callable[[SelectionState, EpochOutcome], None] | None = None,
) -> Selection:
    """Run ``run_epoch(epoch, last)`` for ``epoch = 0, 1, ...`` and select the epoch with the best score.

    Parameters
    ----------
    run_epoch : callable
        ``run_epoch(epoch, last) -> EpochOutcome``: one epoch of training and evaluation; ``last`` is true for the
        final scheduled epoch.
    epochs : int
        Number of scheduled epochs (at least 1).
    validation : bool
        Whether epochs are scored. Without validation the last epoch is selected.
    patience : int or None
        Stop after this many epochs without a strictly better score (only with ``validation``); ``None``: never.
    desc, verbose, loss_format
        Progress bar label, whether it is shown, and the format of its ``loss`` field.
    state : SelectionState, optional
        Continue from this state (as handed to ``on_epoch_end`` by an earlier, interrupted loop) instead of epoch 0;
        a finished state runs no epoch.
    on_epoch_end : callable, optional
        ``on_epoch_end(state, outcome)`` after every epoch, once the selection is updated (``state.finished`` is set
        when the loop ends after this epoch). An exception it raises stops the loop.

    Returns
    -------
    Selection
        History, selected epoch, its score and its snapshot. If no epoch was a candidate (no score was ever
        computed), the last epoch run is selected.

    Examples
    --------
    >>> scores = [0.5, 0.7, 0.6, 0.7, 0.65]
    >>> def run_epoch(epoch, last):
    ...     return EpochOutcome({"epoch": epoch, "loss": 1.0 / (epoch + 1)}, scores[epoch], lambda: f"weights {epoch}")
    >>> sel = train_with_selection(run_epoch, 5, validation=True, patience=2)
    >>> sel.best_epoch, sel.best_score, sel.best, len(sel.history)   # a tie is no improvement; stops at epoch 3
    (1, 0.7, 'weights 1', 4)
    """
    state = SelectionState() if state is None else state
    history = state.history
    outcome = None
    bar = tqdm(range(state.next_epoch, epochs), desc=desc, disable=not verbose or state.finished, leave=False)
    for epoch in bar:
        if state.finished:
            break
        last = epoch == epochs - 1
        outcome = run_epoch(epoch, last)
        history.append(outcome.record)
        score = outcome.score
        if (score is not None and score > state.best_score) or (not validation and last):
            if score is not None:
                state.best_score = score
            state.best_epoch = epoch
            state.best = outcome.snapshot()
        if verbose:
            bar.set_postfix(loss=f"{outcome.record['loss']:{loss_format}}", val=f"{state.best_score:.3f}")
        stop = patience is not None and validation and state.best_epoch >= 0 and epoch - state.best_epoch >= patience
        if state.best is None and (last or stop):  # no epoch was a candidate (e.g. no score computed): keep the last
            state.best_epoch = epoch
            state.best = outcome.snapshot()
        state.next_epoch = epoch + 1
        state.finished = last or stop
        if on_epoch_end is not None:
            on_epoch_end(state, outcome)
        if stop:
            break
    bar.close()
    best_score = state.best_score
    return Selection(history, state.best_epoch, best_score if validation else None, state.best)
