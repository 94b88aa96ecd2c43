"""The turn context: the SDK's, minus a deep copy of every outgoing activity and its cycles.

``TurnContext.send_activities`` deep-copies each activity before stamping it with the
conversation's addresses, so that the caller's object is left as it was. The copy walks every
card, button and attachment: about 0.3 ms for a menu card, on every reply. The stamping only
assigns top-level fields (addresses, reply-to id, type, input hint, id), so a shallow copy
leaves the caller's object just as untouched. ``MembershipTurnContext`` does that and is
otherwise the SDK's own method (4.17.1), which ``MembershipAdapter`` creates for every turn.

A turn should also be freed when it ends, by reference counting, not left for the garbage
collector: collections of a busy bot's finished turns were its only event-loop stalls, 8-16 ms
about once a second (issue 9, decision 0011). The SDK's ``_emit`` runs the send handlers
through a closure that refers to itself, a cycle per send; here a ``partial`` chain calls the
same handlers in the same order with the same arguments. Each dialog context and its
memory-scope manager (``DialogStateManager``) refer to each other, and nothing outside the
SDK can reach them to break it; ``release`` empties the turn context instead, once the
adapter has the turn's result, so that such a cycle holds only the dialog contexts.
(``bot/transcript.py``'s send handler no longer holds the context either.)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from copy import copy
from functools import partial
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    ConversationReference,
    DeliveryModes,
    ResourceResponse,
)
from msrest.serialization import Model

__all__ = ["MembershipTurnContext"]


class MembershipTurnContext(TurnContext):
    """A ``TurnContext`` that copies outgoing activities shallowly."""

    _reply_to: ConversationReference | None = None

    async def send_activities(self, activities: list[Activity]) -> list[ResourceResponse]:
        """Address and send ``activities`` (or buffer them for ``expectReplies``).

        The addresses come from the incoming activity's conversation reference, which the
        SDK builds (copying the three accounts) at every send; here it is built once a turn,
        and every reply of the turn shares its accounts, as the replies of one SDK send do.
        """
        if self._reply_to is None:
            self._reply_to = TurnContext.get_conversation_reference(self.activity)
        output = [_stamped(_shallow(activity), self._reply_to) for activity in activities]
        sends_message = any(activity.type != ActivityTypes.trace for activity in output)

        async def logic() -> list[Any]:
            if self.activity.delivery_mode == DeliveryModes.expect_replies:
                for activity in output:
                    self.buffered_reply_activities.append(activity)
                    if activity.type == ActivityTypes.invoke_response:
                        self.turn_state[TurnContext._INVOKE_RESPONSE_KEY] = activity
                responses: list[Any] = [ResourceResponse() for _ in output]
            else:
                responses = await self.adapter.send_activities(self, output)
            if sends_message:
                self.responded = True
            return responses

        return await self._emit(self._on_send_activities, output, logic())  # type: ignore[no-any-return]

    async def _emit(
        self, plugins: Sequence[Callable[..., Awaitable[Any]]], arg: Any, logic: Awaitable[Any]
    ) -> Any:
        """Run the handlers in turn, each given the next as its ``next``, then ``logic``.

        As in the SDK, ``logic`` runs even if a handler does not call its ``next``.
        """
        await _handlers_from(self, tuple(plugins), arg, 0)
        return await logic

    def release(self) -> None:
        """Let go of what the turn held (its activity, state, handlers and replies) once it is
        over.

        Whatever still refers to this context afterwards (a dialog context, in a cycle the
        SDK makes) then keeps only an empty shell alive, and the rest is freed at once.
        """
        self._turn_state.clear()
        self._on_send_activities.clear()
        self._on_update_activity.clear()
        self._on_delete_activity.clear()
        self.buffered_reply_activities: list[Activity] = []
        self._activity = None
        self._reply_to = None


async def _handlers_from(
    context: TurnContext, handlers: tuple[Callable[..., Awaitable[Any]], ...], arg: Any, i: int
) -> None:
    if i < len(handlers):
        await handlers[i](context, arg, partial(_handlers_from, context, handlers, arg, i + 1))


def _shallow(activity: Activity) -> Activity:
    """``copy.copy(activity)`` without the generic reduce protocol: a schema model is a plain
    instance (no slots, no copy hooks), so a copy is a new instance with the same attributes."""
    if not isinstance(activity, Model):
        return copy(activity)
    twin: Activity = object.__new__(type(activity))
    twin.__dict__.update(activity.__dict__)
    return twin


def _stamped(activity: Activity, reference: Any) -> Activity:
    TurnContext.apply_conversation_reference(activity, reference)
    if not getattr(activity, "type", None):
        activity.type = ActivityTypes.message
    if not activity.input_hint:
        activity.input_hint = "acceptingInput"
    activity.id = None
    return activity
