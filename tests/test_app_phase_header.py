"""The header while a step is taken phase by phase (s): each number appears in the phase that
computes it. The batch loss from the loss phase on; the training-set loss after the update
only once the update phase is shown (before it, the one the step starts from, so marked).
"""

from __future__ import annotations

import re

from app_harness import drive, shows

from tui_backprop import Trainer, load_scenario
from tui_backprop.engine.phases import phases
from tui_backprop.tui.app import BackpropApp


def header_losses(header: str) -> tuple[str, str]:
    """(batch loss, training-set loss with what follows it) as the header's second line says them."""
    line = header.splitlines()[1]
    loss = re.search(r"\bloss (\S+)", line)
    train = re.search(r"train loss (\S+(?: \(before step \d+\))?)", line)
    assert loss and train, line
    return loss[1], train[1]


async def test_each_loss_appears_in_the_header_in_the_phase_that_computes_it():
    scenario = load_scenario("xor")
    reference = Trainer(scenario)
    first, second = reference.step(), reference.step()
    names = [p.name for p in phases(2)]  # forward 1, forward 2, loss, delta 2, delta 1, gradients, update
    app = BackpropApp(scenario)
    async with drive(app) as s:
        await s.press("space")  # space: step 1 whole
        for n in range(1, 8):
            await s.press("s")  # s: the next phase of step 2
            assert f"phase {n}/7: {names[n - 1]}" in s.header()
            loss, train = header_losses(s.header())
            if n < 3:  # forward layers only: no loss computed yet
                assert loss == "–"
            else:
                assert shows(loss, second.loss)
            if n < 7:  # before the update: the training-set loss step 1 left, said to be so
                value, _, note = train.partition(" ")
                assert shows(value, first.train_loss) and note == "(before step 2)"
            else:
                assert shows(train, second.train_loss)
        assert app.record.step == 2 and app.reveal.update


async def test_the_first_step_by_phases_starts_from_the_initial_training_set_loss():
    app = BackpropApp(load_scenario("xor"))
    async with drive(app) as s:
        await s.press("s")  # s: step 1, phase 1 (forward, layer 1)
        loss, train = header_losses(s.header())
        assert loss == "–"
        value = train.split()[0]
        assert shows(value, app.trainer.initial_train_loss) and train.endswith("(before step 1)")
        await s.press("space")  # space: the step completed: the numbers after its update
        loss, train = header_losses(s.header())
        assert shows(loss, app.record.loss) and shows(train, app.record.train_loss)
        assert "before" not in s.header()


async def test_narrow_header_says_before_too():
    app = BackpropApp(load_scenario("xor"))
    async with drive(app, size=(100, 30)) as s:
        await s.press("space", "s")  # space, s: step 1 whole, then step 2's first phase
        line = s.header().splitlines()[1]
        assert re.search(r"loss – +train \S+ \(before\)", line), line
