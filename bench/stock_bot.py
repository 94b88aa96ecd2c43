"""(b) The stock reference: a small dialog bot wired exactly as the Bot Framework samples do.

``ConfigurationBotFrameworkAuthentication(DefaultConfig())``, ``CloudAdapter``,
``MemoryStorage``, ``ConversationState`` + ``UserState``, a ``DialogBot`` that saves state after
each turn, a ``ComponentDialog`` with a waterfall and a ``TextPrompt`` run through
``DialogExtensions.run_dialog``, and the samples' ``on_turn_error``
(BotBuilder-Samples, python 05.multi-turn-prompt and 13.core-bot).

One unavoidable deviation: the samples' handler calls ``adapter.process(req, bot)``, which
answers 500 to ``deliveryMode: expectReplies`` (the reply body is serialized twice), so this
handler calls ``adapter.process_activity`` and returns the body. Everything else is stock, the
per-turn ConnectorClient and UserTokenClient construction included: that is what we compare.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from datetime import datetime

from aiohttp import web
from botbuilder.core import (
    ActivityHandler,
    ConversationState,
    MemoryStorage,
    MessageFactory,
    TurnContext,
    UserState,
)
from botbuilder.dialogs import (
    ComponentDialog,
    DialogExtensions,
    WaterfallDialog,
    WaterfallStepContext,
)
from botbuilder.dialogs.prompts import PromptOptions, TextPrompt
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity, ActivityTypes


class DefaultConfig:
    """Bot configuration, as in the samples' config.py."""

    PORT = 3978
    APP_ID = ""
    APP_PASSWORD = ""
    APP_TYPE = "MultiTenant"
    APP_TENANTID = ""


class UserProfileDialog(ComponentDialog):
    """Ask a question, answer it, and start again."""

    def __init__(self, user_state: UserState) -> None:
        super().__init__(UserProfileDialog.__name__)
        self.user_profile_accessor = user_state.create_property("UserProfile")
        self.add_dialog(
            WaterfallDialog(WaterfallDialog.__name__, [self.ask_step, self.answer_step])
        )
        self.add_dialog(TextPrompt(TextPrompt.__name__))
        self.initial_dialog_id = WaterfallDialog.__name__

    async def ask_step(self, step_context: WaterfallStepContext):
        return await step_context.prompt(
            TextPrompt.__name__,
            PromptOptions(prompt=MessageFactory.text("What would you like to do?")),
        )

    async def answer_step(self, step_context: WaterfallStepContext):
        await step_context.context.send_activity(
            MessageFactory.text(f"You said {step_context.result}.")
        )
        return await step_context.replace_dialog(self.initial_dialog_id)


class DialogBot(ActivityHandler):
    """The samples' DialogBot."""

    def __init__(self, conversation_state, user_state, dialog) -> None:
        self.conversation_state = conversation_state
        self.user_state = user_state
        self.dialog = dialog

    async def on_turn(self, turn_context: TurnContext):
        await super().on_turn(turn_context)
        await self.conversation_state.save_changes(turn_context, False)
        await self.user_state.save_changes(turn_context, False)

    async def on_message_activity(self, turn_context: TurnContext):
        await DialogExtensions.run_dialog(
            self.dialog, turn_context, self.conversation_state.create_property("DialogState")
        )


CONFIG = DefaultConfig()
ADAPTER = CloudAdapter(ConfigurationBotFrameworkAuthentication(CONFIG))


async def on_error(context: TurnContext, error: Exception):
    """The samples' error handler."""
    sys.stderr.write(f"\n [on_turn_error] unhandled error: {error}\n")
    traceback.print_exc()
    await context.send_activity("The bot encountered an error or bug.")
    if context.activity.channel_id == "emulator":
        trace_activity = Activity(
            label="TurnError",
            name="on_turn_error Trace",
            timestamp=datetime.utcnow(),
            type=ActivityTypes.trace,
            value=f"{error}",
            value_type="https://www.botframework.com/schemas/error",
        )
        await context.send_activity(trace_activity)
    await CONVERSATION_STATE.delete(context)


ADAPTER.on_turn_error = on_error
MEMORY = MemoryStorage()
CONVERSATION_STATE = ConversationState(MEMORY)
USER_STATE = UserState(MEMORY)
DIALOG = UserProfileDialog(USER_STATE)
BOT = DialogBot(CONVERSATION_STATE, USER_STATE, DIALOG)


async def messages(req: web.Request) -> web.Response:
    """The samples' handler, calling process_activity because process breaks expectReplies."""
    body = await req.json()
    activity = Activity().deserialize(body)
    auth_header = req.headers["Authorization"] if "Authorization" in req.headers else ""
    response = await ADAPTER.process_activity(auth_header, activity, BOT.on_turn)
    if response:
        return web.json_response(data=response.body, status=response.status)
    return web.Response(status=201)


async def readyz(_req: web.Request) -> web.Response:
    return web.json_response({"status": "ready"})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    port = parser.parse_args().port
    app = web.Application()
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/readyz", readyz)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


if __name__ == "__main__":
    main()
