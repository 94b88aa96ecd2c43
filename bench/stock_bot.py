"""(b) The stock reference: a small dialog bot wired exactly as the Bot Framework samples do.

    python -m bench.stock_bot --port PORT

BotBuilder-Samples, python ``05.multi-turn-prompt`` and ``13.core-bot``:
``ConfigurationBotFrameworkAuthentication(DefaultConfig())`` with an empty app id, a
``CloudAdapter``, ``MemoryStorage``, ``ConversationState`` + ``UserState``, a ``DialogBot``
(an ``ActivityHandler`` that saves both states after each turn) with the core bot's welcome on
``membersAdded``, a ``ComponentDialog`` whose waterfall asks through a ``ChoicePrompt`` and a
``TextPrompt`` and keeps a ``UserProfile`` in user state, run by
``DialogExtensions.run_dialog``, the samples' ``on_turn_error``, and their aiohttp app with
``aiohttp_error_middleware``. The SDK therefore builds a ConnectorClient and a UserTokenClient
on every turn: that is what we compare against.

One unavoidable deviation: the samples' handler is ``adapter.process(req, bot)``, which
answers 500 to ``deliveryMode: expectReplies`` in SDK 4.17.1 (the reply body is serialized
twice), so ``messages`` calls ``adapter.process_activity`` and returns the body as JSON, as
the samples' handler did before ``CloudAdapter.process`` existed. The bench also adds
``/readyz`` and takes the port from the command line. Sample code is reproduced as it is
(untyped steps, ``datetime.utcnow``, the error handler writing to stderr).
"""

from __future__ import annotations

import argparse
import sys
import traceback
from datetime import datetime

from aiohttp import web
from aiohttp.web import Request, Response, json_response
from botbuilder.core import (
    ActivityHandler,
    CardFactory,
    ConversationState,
    MemoryStorage,
    MessageFactory,
    TurnContext,
    UserState,
)
from botbuilder.dialogs import (
    ComponentDialog,
    DialogExtensions,
    DialogTurnResult,
    WaterfallDialog,
    WaterfallStepContext,
)
from botbuilder.dialogs.choices import Choice
from botbuilder.dialogs.prompts import ChoicePrompt, PromptOptions, TextPrompt
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
    aiohttp_error_middleware,
)
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount


class DefaultConfig:
    """Bot configuration (the samples' ``config.py``), with no app id: anonymous, as locally."""

    PORT = 3978
    APP_ID = ""
    APP_PASSWORD = ""
    APP_TYPE = "MultiTenant"
    APP_TENANTID = ""


class UserProfile:
    """The samples' ``data_models/user_profile.py``: a plain object kept in user state."""

    def __init__(self, name: str | None = None, topic: str | None = None) -> None:
        self.name = name
        self.topic = topic


class UserProfileDialog(ComponentDialog):
    """Ask what the user wants (choice) and their name (text), then say what was kept."""

    def __init__(self, user_state: UserState) -> None:
        super().__init__(UserProfileDialog.__name__)
        self.user_profile_accessor = user_state.create_property("UserProfile")
        self.add_dialog(
            WaterfallDialog(
                WaterfallDialog.__name__, [self.topic_step, self.name_step, self.summary_step]
            )
        )
        self.add_dialog(TextPrompt(TextPrompt.__name__))
        self.add_dialog(ChoicePrompt(ChoicePrompt.__name__))
        self.initial_dialog_id = WaterfallDialog.__name__

    async def topic_step(self, step_context: WaterfallStepContext) -> DialogTurnResult:
        """Ask for a topic from a short list."""
        return await step_context.prompt(
            ChoicePrompt.__name__,
            PromptOptions(
                prompt=MessageFactory.text("What would you like to do?"),
                choices=[Choice("Help"), Choice("Status"), Choice("Menu")],
            ),
        )

    async def name_step(self, step_context: WaterfallStepContext) -> DialogTurnResult:
        """Keep the topic and ask for a name."""
        step_context.values["topic"] = step_context.result.value
        return await step_context.prompt(
            TextPrompt.__name__,
            PromptOptions(prompt=MessageFactory.text("Please enter your name.")),
        )

    async def summary_step(self, step_context: WaterfallStepContext) -> DialogTurnResult:
        """Save the profile in user state and say what it holds."""
        user_profile = await self.user_profile_accessor.get(step_context.context, UserProfile)
        user_profile.topic = step_context.values["topic"]
        user_profile.name = step_context.result
        await step_context.context.send_activity(
            MessageFactory.text(f"I have your topic as {user_profile.topic}, {user_profile.name}.")
        )
        return await step_context.end_dialog()


class DialogBot(ActivityHandler):
    """The samples' ``bots/dialog_bot.py``: run the dialog, save all state after the turn."""

    def __init__(
        self, conversation_state: ConversationState, user_state: UserState, dialog: ComponentDialog
    ) -> None:
        self.conversation_state = conversation_state
        self.user_state = user_state
        self.dialog = dialog

    async def on_turn(self, turn_context: TurnContext) -> None:
        """Handle the turn, then save any state changes that occurred during it."""
        await super().on_turn(turn_context)
        await self.conversation_state.save_changes(turn_context)
        await self.user_state.save_changes(turn_context)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        """Continue the active dialog or begin it."""
        await DialogExtensions.run_dialog(
            self.dialog, turn_context, self.conversation_state.create_property("DialogState")
        )


WELCOME_CARD = {
    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
    "type": "AdaptiveCard",
    "version": "1.0",
    "body": [{"type": "TextBlock", "text": "Welcome to the bot!", "weight": "bolder"}],
}


class DialogAndWelcomeBot(DialogBot):
    """The core bot's ``bots/dialog_and_welcome_bot.py``: greet new members with a card."""

    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        """Greet anyone who is not the bot."""
        for member in members_added:
            if member.id != turn_context.activity.recipient.id:
                response = MessageFactory.attachment(CardFactory.adaptive_card(WELCOME_CARD))
                await turn_context.send_activity(response)


def create_app() -> web.Application:
    """Wire the bot as the samples' ``app.py`` does, in the same order."""
    config = DefaultConfig()
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(config))

    async def on_error(context: TurnContext, error: Exception) -> None:
        """The samples' catch-all: log, tell the user, clear conversation state."""
        sys.stderr.write(f"\n [on_turn_error] unhandled error: {error}\n")
        traceback.print_exc()
        await context.send_activity("The bot encountered an error or bug.")
        await context.send_activity("To continue to run this bot, please fix the bot source code.")
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
        await conversation_state.delete(context)

    adapter.on_turn_error = on_error
    memory = MemoryStorage()
    conversation_state = ConversationState(memory)
    user_state = UserState(memory)
    dialog = UserProfileDialog(user_state)
    bot = DialogAndWelcomeBot(conversation_state, user_state, dialog)

    async def messages(req: Request) -> Response:
        """The samples' handler, with process_activity: process breaks expectReplies."""
        if "application/json" in req.headers["Content-Type"]:
            body = await req.json()
        else:
            return Response(status=415)
        activity = Activity().deserialize(body)
        auth_header = req.headers["Authorization"] if "Authorization" in req.headers else ""
        response = await adapter.process_activity(auth_header, activity, bot.on_turn)
        if response:
            return json_response(data=response.body, status=response.status)
        return Response(status=201)

    async def readyz(_req: Request) -> Response:
        """Answer 200 (added for the bench's readiness poll)."""
        return json_response({"status": "ready"})

    app = web.Application(middlewares=[aiohttp_error_middleware])
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/readyz", readyz)
    return app


def main() -> None:
    """Serve on 127.0.0.1 and the given port."""
    parser = argparse.ArgumentParser(prog="python -m bench.stock_bot")
    parser.add_argument("--port", type=int, required=True)
    port = parser.parse_args().port
    web.run_app(create_app(), host="127.0.0.1", port=port, print=None, access_log=None)


if __name__ == "__main__":
    main()
