"Shared fixtures: a small bilingual data set and one model trained on it per test session."
import itertools, os, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent/'shared'/'datasets'
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

TEMPLATES = {
    'BuyProduct': ['I want to buy {p}', 'order {p} please', 'can I get {p}', 'add {p} to my cart', 'buy me {p}',
                   '{p} 주문할게요', '{p} 사고 싶어요', '{p}를 장바구니에 담아줘', '{p} 구매하려고요', '{p} 하나 주세요'],
    'FindStore': ['where is the nearest store', 'store near me', 'how do I get to your shop', 'find a branch',
                  'which store is open', '가까운 매장 어디예요', '매장 위치 알려줘', '지점 찾아줘', '근처 백화점 어디 있나요', '매장이 어디에 있어요'],
    'Greeting': ['hello', 'hi there', 'good morning', 'hey', 'hello bot', '안녕하세요', '안녕', '반가워요', '좋은 아침이에요', '하이'],
}
PRODUCTS = ['shoes', 'a handbag', 'sneakers', 'lipstick', '운동화', '립스틱', '패딩', '가방']

def mini_utterances():
    "About 120 labelled utterances in English and Korean, products inside Korean words."
    from chatbot.app import Utterance, EntitySpan
    out = []
    for intent, temps in TEMPLATES.items():
        for t, p in itertools.product(temps, PRODUCTS if '{p}' in temps[0] else ['']):
            if '{p}' not in t:
                out.append(Utterance(t, intent)); continue
            korean = any('\uac00' <= c <= '\ud7a3' for c in t)
            if korean != any('\uac00' <= c <= '\ud7a3' for c in p): continue
            start = t.index('{p}')
            text = t.replace('{p}', p)
            out.append(Utterance(text, intent, [EntitySpan('product', start, start + len(p), p)]))
    return out

@pytest.fixture(scope='session')
def mini_app():
    from chatbot.app import App
    return App.from_utterances('mini', mini_utterances(), culture='ko-kr').validate()

@pytest.fixture(scope='session')
def demo_model_path(tmp_path_factory):
    "The bundled demo app trained through the CLI, as `make up` does (once per test session)."
    import subprocess
    out = tmp_path_factory.mktemp('demo')/'model'
    r = subprocess.run([sys.executable, '-m', 'chatbot.cli', 'train', 'demo', '--out', str(out), '--quiet'],
                       capture_output=True, text=True, timeout=900, env={**os.environ, 'TF_CPP_MIN_LOG_LEVEL': '2'})
    assert r.returncode == 0, r.stderr[-2000:]
    return out

@pytest.fixture(scope='session')
def mini_model(mini_app, tmp_path_factory):
    "A model trained on `mini_app` and saved as an artifact: `(trained, artifact_path)`."
    from chatbot.train import train
    from chatbot.model import HParams
    from chatbot.predict import save_model
    trained = train(mini_app.utterances, intents=mini_app.intents, hp=HParams(epochs=12, patience=12), progress=False)
    path = save_model(trained, tmp_path_factory.mktemp('models')/'mini', mini_app)
    return trained, path

# --- Azurite: a local Azure Storage (blobs, queues, tables) for the tests, one per session ---
import socket, subprocess, time
from dataclasses import dataclass

AZURITE_ACCOUNT = 'devstoreaccount1'
AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='   # the public development key

@dataclass
class AzuriteServer:
    "A running Azurite: its ports, data folder and a connection string for the Azure SDKs."
    host: str
    blob_port: int
    queue_port: int
    table_port: int
    location: Path
    account: str = AZURITE_ACCOUNT
    key: str = AZURITE_KEY

    def endpoint(self, service: str) -> str:
        "`http://host:port/account` of 'blob', 'queue' or 'table'."
        return f'http://{self.host}:{getattr(self, service + "_port")}/{self.account}'

    @property
    def connection_string(self) -> str:
        return (f'DefaultEndpointsProtocol=http;AccountName={self.account};AccountKey={self.key};'
                f'BlobEndpoint={self.endpoint("blob")};QueueEndpoint={self.endpoint("queue")};TableEndpoint={self.endpoint("table")};')

def _free_ports(n: int) -> list[int]:
    "`n` distinct TCP ports that were free a moment ago on 127.0.0.1."
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks: s.bind(('127.0.0.1', 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks: s.close()

def _listening(host: str, port: int) -> bool:
    try: socket.create_connection((host, port), timeout=0.2).close(); return True
    except OSError: return False

@pytest.fixture(scope='session')
def azurite(tmp_path_factory):
    "Azurite (from `node_modules`, see package.json) on free ports with data in a temporary folder; killed at the end."
    exe = ROOT/'node_modules'/'.bin'/'azurite'
    if not exe.exists():
        pytest.fail(f'Azurite is not installed ({exe} is missing): run `npm ci` in {ROOT} (needs Node.js)', pytrace=False)
    base = tmp_path_factory.mktemp('azurite')
    server = AzuriteServer('127.0.0.1', *_free_ports(3), location=base/'data')
    server.location.mkdir()
    log = base/'azurite.log'
    cmd = [str(exe), '--silent', '--skipApiVersionCheck', '--loose', '--location', str(server.location),
           '--blobHost', server.host, '--queueHost', server.host, '--tableHost', server.host,
           '--blobPort', str(server.blob_port), '--queuePort', str(server.queue_port), '--tablePort', str(server.table_port)]
    with open(log, 'wb') as out: proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=base)

    def stop():
        proc.terminate()                  # Azurite ignores SIGTERM in practice: SIGKILL after a moment
        try: proc.wait(timeout=1)
        except subprocess.TimeoutExpired: proc.kill(); proc.wait()

    deadline = time.monotonic() + 20
    while not all(_listening(server.host, p) for p in (server.blob_port, server.queue_port, server.table_port)):
        if proc.poll() is not None or time.monotonic() > deadline:
            stop()
            why = f'exited with status {proc.returncode}' if proc.returncode not in (None, -9, -15) else 'did not listen within 20 s'
            pytest.fail(f'Azurite {why} (ports {server.blob_port}/{server.queue_port}/{server.table_port}); is Node.js installed '
                        f'and did you run `npm ci`? Log:\n{log.read_text(errors="replace")[-2000:]}', pytrace=False)
        time.sleep(0.1)
    try: yield server
    finally: stop()
