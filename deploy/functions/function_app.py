"""The chat gateway as Azure Functions (Python v2 programming model).

The same step functions that `chatbot worker` runs (`chatbot.chat.pipeline.STEPS`), one queue-triggered function per
queue a step reads: `understand` (chat-inbound), `route` (chat-understood), one `handle_*` per route queue of the
configured reply rules (chat-handle-*), and `send` (chat-outbound). Plus one HTTP function, `receive`, that serves
the gateway's receivers (REST and web chat, SendBird webhook, chat page, health) through the very Flask app
`chatbot gateway` runs, so both answer the same.

Configuration is the gateway's own (`chatbot.chat.gateway.build_gateway`: CHATBOT_QUEUE_URL, CHATBOT_STATE_URL,
CHATBOT_NLU_URL or CHATBOT_MODEL, CHATBOT_RULES, CHATBOT_HANDLERS, SENDBIRD_*, ...), read once per worker process
when the Functions host indexes this file. See README.md beside this file.
"""
# No `from __future__ import annotations` here: the Python worker reads the parameters' annotations
# (`func.QueueMessage`, `func.HttpRequest`) to bind the trigger data, and needs them as real types.
import json, logging, os
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import azure.functions as func
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Response

HERE = Path(__file__).resolve().parent
CONNECTION = 'AzureWebJobsStorage'   # the app setting (not the string itself) that the queue triggers connect with
log = logging.getLogger('chatbot.functions')

# This file is an edge, like the `chatbot` command: it reads the settings once and hands them to the gateway.
# One home for every step: relative locations (CHATBOT_HOME, sqlite:/// URLs, CHATBOT_RULES ...) are pinned once,
# against the folder the host started in, exactly as the `chatbot` command does for its children.
from chatbot.config import Settings, resolve_locations                # noqa: E402
os.environ.update(resolve_locations())
settings = Settings.from_env()

# chatbot's Azure backends (queues, state tables) use AZURE_STORAGE_CONNECTION_STRING; the triggers read
# AzureWebJobsStorage. The steps must send to the account the triggers watch, so by default both are one account.
if os.environ.get(CONNECTION) and not settings.azure_connection_string:
    settings = settings.replace(azure_connection_string=os.environ[CONNECTION])
elif os.environ.get(CONNECTION) and os.environ[CONNECTION] != settings.azure_connection_string:
    log.warning('AZURE_STORAGE_CONNECTION_STRING and %s differ: the steps send to the first account, the queue triggers '
                'watch the second; they must be the same storage account', CONNECTION)

from chatbot.chat.gateway import build_gateway, create_gateway_app          # noqa: E402
from chatbot.chat.pipeline import INBOUND, OUTBOUND, UNDERSTOOD, queue_handler, step_queues
from chatbot.backends.queues import QueueMessage

# Under the Functions host (it sets FUNCTIONS_WORKER_RUNTIME) the steps' queues must be the Storage queues the
# triggers watch: a SQLite queue would swallow every message without a trigger ever firing.
if os.environ.get('FUNCTIONS_WORKER_RUNTIME') and not settings.queue_url.startswith('azure-queue://'):
    raise ValueError(f'CHATBOT_QUEUE_URL is {settings.queue_url!r}: under Azure Functions set it to azure-queue:// '
                     f'(or azure-queue://PREFIX), the storage account of the {CONNECTION} setting')

# The HTTP function is anonymous (the gateway checks keys itself), and a function app is on the internet: without
# CHATBOT_GATEWAY_KEYS anyone could read and write conversations, so under the host that needs saying out loud.
OPEN_SETTING = 'CHATBOT_GATEWAY_OPEN'
if (os.environ.get('FUNCTIONS_WORKER_RUNTIME') and not settings.gateway_keys
        and os.environ.get(OPEN_SETTING, '').strip().lower() not in ('1', 'true', 'yes')):
    raise ValueError(f'CHATBOT_GATEWAY_KEYS is not set: the REST and web chat routes would answer anyone. Set it (the '
                     f'web chat page then chats on signed session tokens), or set {OPEN_SETTING}=true to serve '
                     f'them open on purpose')

HOST = json.loads((HERE/'host.json').read_text())
QUEUE_SETTINGS = HOST['extensions']['queues']
# The host moves a message to `<queue>-poison` after this many failed deliveries; the steps log the last failure then.
MAX_DEQUEUE = int(QUEUE_SETTINGS.get('maxDequeueCount', 5))

gw = build_gateway(settings)
app = func.FunctionApp()


def azure_queue_name(name: str) -> str:
    "The Storage queue that `chatbot.backends.queues` uses for queue `name` (its azure-queue://PREFIX goes in front)."
    prefix = getattr(gw.queues, 'prefix', '')
    return f'{prefix}-{name}' if prefix else name


def chatbot_message(msg: func.QueueMessage) -> QueueMessage:
    "The host's message (its body already base64-decoded by the host) as the `chatbot.backends.queues.QueueMessage` steps take."
    inserted = msg.insertion_time.timestamp() if isinstance(msg.insertion_time, datetime) else 0.0
    return QueueMessage(id=msg.id or '', body=msg.get_body().decode('utf-8'), dequeue_count=msg.dequeue_count or 1,
                        inserted_at=inserted, receipt=msg.pop_receipt or '')


# Why not output bindings: `route` picks its output queue (chat-handle-<route>) per message at run time, and an
# output binding's queue name is fixed when the function is indexed. So every step sends its outputs with
# chatbot.backends.queues (`Gateway.enqueue`, base64 like the host expects), exactly as `chatbot worker` does; a failing step
# raises, the host retries the message after visibilityTimeout and parks it in `<queue>-poison` after maxDequeueCount.
# On that last try the step gives up first (`chatbot.chat.pipeline.give_up`): an apology goes on chat-outbound (sent
# once, unless the reply got out after all), and the log gets a status-500 record. An error a retry cannot help (the NLU service's 4xx) gives up at the first try:
# the step parks the message in the same `<queue>-poison` itself and returns; the host deletes the original.
def register_step(step: str, queue: str):
    "Add a function that runs `step` on each message of `queue`; returns it."
    handler = queue_handler(gw, step, poison_after=MAX_DEQUEUE, queue=queue)

    def run(msg: func.QueueMessage) -> None:
        handler(chatbot_message(msg))

    name = step if queue in (INBOUND, UNDERSTOOD, OUTBOUND) else queue.removeprefix('chat-').replace('-', '_')
    run.__name__ = run.__qualname__ = name
    return app.function_name(name=name)(
        app.queue_trigger(arg_name='msg', queue_name=azure_queue_name(queue), connection=CONNECTION)(run))


understand = register_step('understand', INBOUND)
route = register_step('route', UNDERSTOOD)
handlers = [register_step('handle', q) for q in step_queues(gw, 'handle')]   # one per route of the configured rules
send = register_step('send', OUTBOUND)


# Markers that keep replies exactly-once (`sent:`, `tried:`, `failed:`) expire after weeks; `chatbot worker` deletes
# expired state every hour, and here a timer does (at minute 17, away from the hour's crowd).
@app.function_name(name='purge_state')
@app.timer_trigger(schedule='0 17 * * * *', arg_name='timer', run_on_startup=False)
def purge_state(timer: func.TimerRequest) -> None:
    log.info('purged %d expired state values', gw.state.purge())


# --- HTTP: the gateway's receivers, unchanged ---
# Not func.WsgiMiddleware (azure-functions 1.26): it raises on any answer >= 500, so the host would replace the
# gateway's JSON 503/500 with a bare 500, and it UTF-8-encodes a non-ASCII path twice (a Korean user id in
# /v1/conversations/<user>/messages arrives garbled; its ASGI side was fixed, the WSGI side not). Werkzeug, which the
# gateway's Flask app runs on anyway, builds a PEP 3333 environ from the request and collects the answer as is.

gateway_app = create_gateway_app(gw, settings)


def call_gateway(req: func.HttpRequest) -> func.HttpResponse:
    "Answer `req` with the gateway's Flask app, exactly as `chatbot gateway` would."
    url = urlsplit(req.url)
    environ = EnvironBuilder(path=url.path or '/', base_url=f'{url.scheme or "http"}://{url.netloc or "localhost"}',
                             query_string=url.query, method=req.method, headers=list(req.headers.items()),
                             data=req.get_body() or b'').get_environ()
    r = Response.from_app(gateway_app.wsgi_app, environ)
    return func.HttpResponse(body=r.get_data(), status_code=r.status_code, headers=dict(r.headers), mimetype=r.mimetype,
                             charset=r.mimetype_params.get('charset', 'utf-8'))


# host.json sets routePrefix to "" so the paths are the gateway's own (/v1/conversations/..., /webhooks/sendbird, /);
# no `methods`: every method reaches Flask, which answers 405 itself where the gateway has no such route.
# Anonymous: REST calls are checked by the gateway's keys (CHATBOT_GATEWAY_KEYS), SendBird's by its signature.
@app.function_name(name='receive')
@app.route(route='{*path}', auth_level=func.AuthLevel.ANONYMOUS)
def receive(req: func.HttpRequest) -> func.HttpResponse:
    return call_gateway(req)
