"Shared fixtures: a small bilingual data set and one model trained on it per test session."
import itertools, os, sys, urllib.error
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
    from chatbot.nlu.app import Utterance, EntitySpan
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
    from chatbot.nlu.app import App
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
    from chatbot.nlu.train import train
    from chatbot.nlu.model import HParams
    from chatbot.nlu.predict import save_model
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

# --- headless Chromium (Debian's `chromium` through Playwright, no browser download) ---

CHROMIUM = Path('/usr/bin/chromium')
# As root on a closed network: no sandbox, and none of Chromium's own background connections (they would be refused).
CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
                 '--disable-component-update', '--disable-sync']
ARTIFACTS = Path(os.environ.get('CHATBOT_TEST_ARTIFACTS') or Path(__file__).parent/'artifacts')

@pytest.fixture(scope='session')
def browser():
    "Headless Chromium from /usr/bin/chromium; a missing browser or Playwright fails the test (CI must run it)."
    if not CHROMIUM.exists():
        pytest.fail(f'{CHROMIUM} is missing: install it with `apt-get install -y chromium` (Debian package; '
                    '`playwright install` is not used)', pytrace=False)
    try: from playwright.sync_api import sync_playwright
    except ImportError: pytest.fail('Playwright is missing: run `.venv/bin/pip install playwright`', pytrace=False)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try: yield b
        finally: b.close()

@pytest.fixture
def page(browser, request):
    "A fresh browser context (empty localStorage) and page; JavaScript errors are collected; a screenshot is saved at the end."
    ctx = browser.new_context(viewport={'width': 1280, 'height': 900}, locale='ko-KR')
    pg = ctx.new_page()
    pg.set_default_timeout(30_000)
    pg.js_errors = []
    pg.on('pageerror', lambda e: pg.js_errors.append(str(e)))
    yield pg
    try:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        # Voila scrolls inside its own container, which `full_page` does not see: grow the viewport to the content first
        try:
            tall = pg.evaluate('Math.max(...Array.from(document.querySelectorAll("body *")).map(e => e.scrollHeight))')
            if 900 < tall: pg.set_viewport_size({'width': 1280, 'height': min(int(tall) + 40, 6000)})
        except Exception: pass
        pg.screenshot(path=str(ARTIFACTS/f'{request.node.name}.png'), full_page=True)
    finally: ctx.close()

# --- the admin dashboards (`chatbot dashboard`, Voila) ---

@pytest.fixture
def dashboards(tmp_path):
    """Start `chatbot dashboard` on a free port: `dashboards(home, **env) -> base URL`, with CHATBOT_HOME=home (the stores the
    dashboards open) and extra environment variables; every server started is stopped at the end of the test."""
    import subprocess, time, urllib.request
    from tests_util import free_port
    procs = []
    def start(home, password=None, **env):
        port = free_port()
        full = {**os.environ, 'CHATBOT_HOME': str(home), 'TF_CPP_MIN_LOG_LEVEL': '2', **{k: str(v) for k, v in env.items()}}
        if password: full['CHATBOT_ADMIN_PASSWORD'] = password
        log = open(tmp_path/f'dashboard-{port}.log', 'wb')
        proc = subprocess.Popen([sys.executable, '-m', 'chatbot.cli', 'dashboard', '--port', str(port)], env=full,
                                stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        procs.append(proc)
        base, deadline = f'http://127.0.0.1:{port}', time.monotonic() + 60
        while True:
            try: urllib.request.urlopen(base + '/', timeout=2); break
            except urllib.error.HTTPError: break        # a 403/302 with a password is still a server that answers
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f'chatbot dashboard did not start: {(tmp_path/f"dashboard-{port}.log").read_text(errors="replace")[-3000:]}', pytrace=False)
                time.sleep(0.2)
        return base
    yield start
    for p in procs:
        p.terminate()
        try: p.wait(timeout=10)
        except subprocess.TimeoutExpired: p.kill(); p.wait()

def open_dashboard(page, base: str, name: str, timeout_ms: int = 60_000):
    """Open dashboard `name` and wait until its root widget (CSS class `dashboard-NAME`) is shown; a cell error fails at once
    with the page's text."""
    page.goto(f'{base}/voila/render/{name}.ipynb')
    root = page.locator(f'.dashboard-{name}')
    error = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"], .voila-error, .jp-RenderedText.jp-mod-trusted pre:has-text("Traceback")')
    import time
    deadline = time.monotonic() + timeout_ms / 1000
    while time.monotonic() < deadline:
        if root.count() and root.first.is_visible(): return root.first
        if error.count(): pytest.fail(f'dashboard {name} failed to render:\n{page.inner_text("body")[-3000:]}', pytrace=False)
        page.wait_for_timeout(200)
    pytest.fail(f'dashboard {name} did not render within {timeout_ms / 1000:.0f} s:\n{page.inner_text("body")[-3000:]}', pytrace=False)
