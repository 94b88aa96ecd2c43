"""The turn context: the SDK's, minus a deep copy of every outgoing activity.

``TurnContext.send_activities`` deep-copies each activity before stamping it with the
conversation's addresses, so that the caller's object is left as it was. The copy walks every
card, button and attachment: about 0.3 ms for a menu card, on every reply. The stamping only
assigns top-level fields (addresses, reply-to id, type, input hint, id), so a shallow copy
leaves the caller's object just as untouched. ``MembershipTurnContext`` does that and is
otherwise the SDK's own method (4.17.1), which ``MembershipAdapter`` creates for every turn.
"""

from __future__ import annotations

from copy import copy
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ActivityTypes, DeliveryModes, ResourceResponse

__all__ = ["MembershipTurnContext"]


class MembershipTurnContext(TurnContext):
    """A ``TurnContext`` that copies outgoing activities shallowly."""

    async def send_activities(self, activities: list[Activity]) -> list[ResourceResponse]:
        """Address and send ``activities`` (or buffer them for ``expectReplies``)."""
        reference = TurnContext.get_conversation_reference(self.activity)
        output = [_stamped(copy(activity), reference) for activity in activities]
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


def _stamped(activity: Activity, reference: Any) -> Activity:
    TurnContext.apply_conversation_reference(activity, reference)
    if not getattr(activity, "type", None):
        activity.type = ActivityTypes.message
    if not activity.input_hint:
        activity.input_hint = "acceptingInput"
    activity.id = None
    return activity
