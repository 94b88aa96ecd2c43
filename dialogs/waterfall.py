"""The waterfall every dialog here runs: the SDK's, with run ids that cost no system call."""

from __future__ import annotations

import random
import uuid

from botbuilder.dialogs import DialogContext, DialogReason, DialogTurnResult, WaterfallDialog

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

    Everything else is the SDK's: this is its ``begin_dialog`` with the id changed.
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
