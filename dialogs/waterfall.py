"""The waterfall every dialog here runs: the SDK's, with run ids that cost no system call and
lean step contexts."""

from __future__ import annotations

import random
import uuid

from botbuilder.dialogs import DialogContext, DialogReason, DialogTurnResult, WaterfallDialog

from dialogs.contexts import LeanStepContext

__all__ = ["Waterfall"]


class Waterfall(WaterfallDialog):
    """``WaterfallDialog`` whose runs are named by a random UUID instead of a time-based one.

    The SDK's ``begin_dialog`` names each run (``instanceId`` in the dialog's state and in
    its telemetry) with ``uuid.uuid1()``. On Linux that is libuuid's
    ``uuid_generate_time_safe``, which first tries the uuidd daemon's socket: a socket, a
    connect and a close, every time. A journey turn begins one or two waterfalls, and those
    calls were 2-3 % of its CPU under load (issue 9, decision 0011). The id only tells runs
    apart and is no secret: a version-4 UUID from ``random`` does that without a system
    call (``uuid4`` reads the kernel's random pool each time).

    Each step's context is a ``LeanStepContext`` (``dialogs/contexts.py``): no memory-scope
    manager until one is asked for.

    Everything else is the SDK's: ``begin_dialog`` and ``run_step`` are its own with the id
    and the step context's class changed.
    """

    async def begin_dialog(
        self, dialog_context: DialogContext, options: object = None
    ) -> DialogTurnResult:
        if not dialog_context:
            raise TypeError("WaterfallDialog.begin_dialog(): dc cannot be None.")
        state = dialog_context.active_dialog.state
        instance_id = str(uuid.UUID(int=random.getrandbits(128), version=4))
        state[self.PersistedOptions] = options
        state[self.PersistedValues] = {}
        state[self.PersistedInstanceId] = instance_id
        self.telemetry_client.track_event(
            "WaterfallStart", {"DialogId": self.id, "InstanceId": instance_id}
        )
        return await self.run_step(dialog_context, 0, DialogReason.BeginCalled, None)

    async def run_step(
        self, dialog_context: DialogContext, index: int, reason: DialogReason, result: object
    ) -> DialogTurnResult:
        if not dialog_context:
            raise TypeError("WaterfallDialog.run_steps(): dialog_context cannot be None.")
        if index < len(self._steps):
            state = dialog_context.active_dialog.state
            state[self.StepIndex] = index
            options = state[self.PersistedOptions]
            values = state[self.PersistedValues]
            step_context = LeanStepContext(
                self, dialog_context, options, values, index, reason, result
            )
            return await self.on_step(step_context)
        return await dialog_context.end_dialog(result)
