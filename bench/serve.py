"""Serving benchmark: our inference service against a reference Flask + scikit-learn server, over HTTP on loopback.

For each server: seconds from process start to ready, RSS and PSS per worker, sequential latency (one client), throughput
with 8 concurrent client processes, and for ours a publish under that load (failed requests, seconds until every
answer comes from the new version). Writes bench/out/serve.json and, with --write, the serving section of
BENCHMARKS.md. Run after `make bench` (it needs bench/out/snips) or it trains the SNIPS model first.
"""
import argparse, http.client, json, multiprocessing as mp, os, shlex, shutil, signal, statistics, subprocess, sys, tempfile, time
import urllib.parse
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import free_port, log, machine, save_results  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent/'shared'/'datasets'/'snips'
BIN = Path(sys.executable).parent
START, END = '<!-- serving -->', '<!-- /serving -->'



def queries() -> list[str]:
    return [json.loads(l)['text'] for l in (DATA/'test.jsonl').read_text(encoding='utf-8').splitlines() if l.strip()]

def path_for(q: str) -> str:
    return '/luis/prediction/v3.0/apps/snips/slots/production/predict?query=' + urllib.parse.quote(q)

class Client:
    "One keep-alive HTTP connection that reconnects when the server closes it (gunicorn sync workers do)."
    def __init__(self, port): self.port, self.conn = port, None
    def get(self, path: str) -> tuple[int, bytes]:
        for attempt in (0, 1):
            if self.conn is None: self.conn = http.client.HTTPConnection('127.0.0.1', self.port, timeout=10)
            try:
                self.conn.request('GET', path)
                r = self.conn.getresponse(); body = r.read()
                if r.getheader('Connection', '').lower() == 'close': self.conn.close(); self.conn = None
                return r.status, body
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close(); self.conn = None
                if attempt: raise
        raise AssertionError('unreachable')

def wait_ready(port: int, proc, timeout: float = 60) -> float:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if proc.poll() is not None: raise RuntimeError(f'server exited with {proc.returncode}')
        try:
            c = http.client.HTTPConnection('127.0.0.1', port, timeout=1); c.request('GET', '/readyz')
            if c.getresponse().status == 200: return time.monotonic() - t0
        except OSError: pass
        time.sleep(0.005)
    raise RuntimeError('not ready in time')

def worker_memory_mb(master_pid: int, field: str = 'Rss') -> list[float]:
    """`field` of each worker process (children of the gunicorn master), MB: `Rss`, or `Pss`, which shares each
    page among the processes that map it (the workers' one copy of a mapped encoder table counts once in all)."""
    kids = Path(f'/proc/{master_pid}/task/{master_pid}/children').read_text().split()
    out = []
    for k in kids:
        for line in Path(f'/proc/{k}/smaps_rollup').read_text().splitlines():
            if line.startswith(field + ':'): out.append(int(line.split()[1]) / 1024)
    return out

def sequential(port: int, qs: list[str], n: int) -> dict:
    c, lat = Client(port), []
    for i in range(200): c.get(path_for(qs[i % len(qs)]))                   # warm-up
    for i in range(n):
        t = time.perf_counter(); status, _ = c.get(path_for(qs[i % len(qs)])); lat.append((time.perf_counter() - t) * 1000)
        assert status == 200, status
    lat.sort()
    return dict(n=n, p50_ms=lat[n // 2], p99_ms=lat[int(n * 0.99)], mean_ms=statistics.fmean(lat))

def _client_loop(port, qs, seconds, offset, out):
    c, ok, bad = Client(port), 0, 0
    end = time.monotonic() + seconds
    i = offset
    while time.monotonic() < end:
        try:
            status, body = c.get(path_for(qs[i % len(qs)]))
            if status == 200: ok += 1
            else: bad += 1
        except OSError: bad += 1
        i += 1
    out.put((ok, bad))

def concurrent(port: int, qs: list[str], clients: int, seconds: float) -> dict:
    q = mp.get_context('fork').Queue()
    procs = [mp.get_context('fork').Process(target=_client_loop, args=(port, qs, seconds, k * 97, q)) for k in range(clients)]
    t0 = time.monotonic()
    for p in procs: p.start()
    res = [q.get() for _ in procs]
    for p in procs: p.join()
    wall = time.monotonic() - t0
    ok, bad = sum(r[0] for r in res), sum(r[1] for r in res)
    return dict(clients=clients, seconds=round(wall, 2), requests=ok + bad, errors=bad, rps=ok / seconds)

def _publish_client(port, seconds, out):
    rows = []
    end = time.monotonic() + seconds
    body = json.dumps({'text': 'play some jazz music', 'log': False}).encode()
    conn = None
    while time.monotonic() < end:
        try:
            if conn is None: conn = http.client.HTTPConnection('127.0.0.1', port, timeout=10)
            conn.request('POST', '/v1/apps/snips/predict', body=body, headers={'Content-Type': 'application/json'})
            r = conn.getresponse(); data = r.read()
            if r.getheader('Connection', '').lower() == 'close': conn.close(); conn = None
            rows.append((time.time(), r.status, json.loads(data).get('model_version') if r.status == 200 else None))
        except OSError:
            rows.append((time.time(), 'error', None)); conn = None
    out.put(rows)

def publish_under_load(model: Path, workers: int, threads: int, clients: int, tmp: Path) -> dict:
    "Serve from a registry, publish version 2 while `clients` processes send requests; failures and switch time."
    env = dict(os.environ, CHATBOT_HOME=str(tmp/'home'))
    reg = str(tmp/'registry')
    for v in ('1', '2'): subprocess.run([str(BIN/'chatbot'), 'models', 'push', 'snips', str(model), '--version', v, '--registry', reg], check=True, env=env, capture_output=True)
    subprocess.run([str(BIN/'chatbot'), 'publish', 'snips', '1', '--registry', reg], check=True, env=env, capture_output=True)
    port = free_port()
    proc = subprocess.Popen([str(BIN/'chatbot'), 'serve', '--registry', reg, '--port', str(port), '--workers', str(workers), '--threads', str(threads)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(port, proc)
        q = mp.get_context('fork').Queue()
        procs = [mp.get_context('fork').Process(target=_publish_client, args=(port, 8.0, q)) for _ in range(clients)]
        for p in procs: p.start()
        time.sleep(3.0)
        t_pub = time.time()
        subprocess.run([str(BIN/'chatbot'), 'publish', 'snips', '2', '--registry', reg], check=True, env=env, capture_output=True)
        rows = [r for _ in procs for r in q.get()]
        for p in procs: p.join()
    finally:
        proc.send_signal(signal.SIGTERM); proc.wait(timeout=30)
    failed = sum(1 for r in rows if r[1] != 200)
    last_old = max((t for t, st, v in rows if v == '1' and t >= t_pub), default=t_pub)
    first_new = min((t for t, st, v in rows if v == '2'), default=None)
    return dict(requests=len(rows), failed=failed, first_new_s=None if first_new is None else first_new - t_pub,
                all_new_s=last_old - t_pub, answered_after_publish=sum(1 for r in rows if r[0] >= t_pub))

def run_server(kind: str, model: Path, workers: int, threads: int, tmp: Path, ref_model: Path | None = None):
    port = free_port()
    env = dict(os.environ, CHATBOT_HOME=str(tmp/'home'))
    if kind == 'ours':
        cmd = [str(BIN/'chatbot'), 'serve', '--model', str(model), '--app', 'snips', '--port', str(port), '--workers', str(workers), '--threads', str(threads)]
    else:
        cmd = [str(BIN/'gunicorn'), '-w', str(workers), '--threads', str(threads), '-b', f'127.0.0.1:{port}', '--chdir', str(ROOT/'bench'),
               '--log-level', 'warning', f'ref_server:create_app("{ref_model}")']
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc, port

def bench_server(kind: str, model: Path, a, tmp: Path, ref_model: Path | None = None) -> dict:
    qs = queries()
    starts = []
    for _ in range(3):
        proc, port = run_server(kind, model, a.workers, a.threads, tmp, ref_model)
        try: starts.append(wait_ready(port, proc))
        finally: proc.send_signal(signal.SIGTERM); proc.wait(timeout=30)
    proc, port = run_server(kind, model, a.workers, a.threads, tmp, ref_model)
    try:
        wait_ready(port, proc)
        seq = sequential(port, qs, a.requests)
        conc = concurrent(port, qs, a.clients, a.seconds)
        rss, pss = worker_memory_mb(proc.pid), worker_memory_mb(proc.pid, 'Pss')
    finally:
        proc.send_signal(signal.SIGTERM); proc.wait(timeout=30)
    return dict(ready_s=statistics.median(starts), worker_rss_mb=max(rss), worker_pss_mb=max(pss), workers=len(rss), sequential=seq, concurrent=conc)


def render(r: dict) -> str:
    a, o, f = r['args'], r['ours'], r['reference']
    def row(name, x, entities):
        return (f"| {name} | {x['ready_s']:.2f} | {x['worker_rss_mb']:.0f} / {x['worker_pss_mb']:.0f} | {x['sequential']['p50_ms']:.2f} | {x['sequential']['p99_ms']:.2f} | "
                f"{x['concurrent']['rps']:.0f} | {x['concurrent']['errors']} | {entities} |")
    p = r.get('publish')
    lines = [START, '## Serving (HTTP)', '',
             f"Generated by `bench/serve.py` on {r['date']}: `{r['command']}`. Machine: {r['machine']}.",
             f"SNIPS model (`bench/out/snips`), LUIS v3 `GET` route, test-set queries; each server runs {a['workers']} gunicorn worker(s) "
             f"with {a['threads']} thread(s) and answers with request logging on (ours). Ready = process start until `/readyz` is 200 "
             f"(median of 3). Sequential = {a['requests']} requests from one client. Concurrent = {a['clients']} client processes for "
             f"{a['seconds']:g} s; the clients run on the same 2 cores as the server.", '',
             '| server | ready s | RSS / PSS per worker MB | p50 ms | p99 ms | req/s (8 clients) | errors | entities |', '|---|---|---|---|---|---|---|---|',
             row('chatbot serve (ours)', o, 'yes'), row('Flask + scikit-learn TF-IDF/SVM (reference)', f, 'no'),
             '| Rasa 3.6.21 `rasa run --enable-api` | not run: needs its own Python 3.10 venv (see notes) | | | | | | |', '']
    if p:
        lines += [f"Publish under load ({a['clients']} clients, native route, registry on a local folder): {p['requests']} requests, "
                  f"**{p['failed']} failed**; the new version answered first {p['first_new_s']:.2f} s after `chatbot publish` returned "
                  f"and answered every request from {p['all_new_s']:.2f} s on.", '']
    t = [('start to ready <= 2 s', o['ready_s'] <= 2, f"{o['ready_s']:.2f} s"), ('RSS per worker <= 250 MB', o['worker_rss_mb'] <= 250, f"{o['worker_rss_mb']:.0f} MB"),
         ('sequential p50 <= 2 ms', o['sequential']['p50_ms'] <= 2, f"{o['sequential']['p50_ms']:.2f} ms"),
         ('sequential p99 <= 10 ms', o['sequential']['p99_ms'] <= 10, f"{o['sequential']['p99_ms']:.2f} ms"),
         ('8 clients >= 1,000 req/s, no errors', o['concurrent']['rps'] >= 1000 and not o['concurrent']['errors'], f"{o['concurrent']['rps']:.0f} req/s, {o['concurrent']['errors']} errors")]
    if p: t.append(('publish under load: 0 failed, new version within 3 s', p['failed'] == 0 and p['all_new_s'] <= 3, f"{p['failed']} failed, {p['all_new_s']:.2f} s"))
    lines += ['| target | measured | status |', '|---|---|---|'] + [f'| {n} | {m} | {"met" if ok else "NOT met"} |' for n, ok, m in t] + ['', END]
    return '\n'.join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--model', default=str(ROOT/'bench'/'out'/'snips'))
    p.add_argument('--workers', type=int, default=2); p.add_argument('--threads', type=int, default=2)
    p.add_argument('--requests', type=int, default=2000); p.add_argument('--clients', type=int, default=8); p.add_argument('--seconds', type=float, default=10)
    p.add_argument('--skip-publish', action='store_true'); p.add_argument('--write', metavar='FILE')
    a = p.parse_args(argv)
    model = Path(a.model)
    if not (model/'manifest.json').exists():
        log(f'training the SNIPS model into {model}')
        subprocess.run([str(BIN/'chatbot'), 'train', str(DATA), '--out', str(model), '--quiet'], check=True)
    tmp = Path(tempfile.mkdtemp(prefix='bench-serve-'))
    try:
        ref_model = tmp/'ref.pkl'
        subprocess.run([sys.executable, str(ROOT/'bench'/'ref_server.py'), 'train', str(DATA), str(ref_model)], check=True, capture_output=True)
        r = dict(date=time.strftime('%Y-%m-%d %H:%M %Z'), machine=machine(), args=vars(a),
                 command=shlex.join([os.path.relpath(sys.executable, ROOT)] + [os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:]))
        log('ours ...'); r['ours'] = bench_server('ours', model, a, tmp)
        log('reference ...'); r['reference'] = bench_server('reference', model, a, tmp, ref_model)
        if not a.skip_publish: log('publish under load ...'); r['publish'] = publish_under_load(model, a.workers, a.threads, a.clients, tmp)
    finally: shutil.rmtree(tmp, ignore_errors=True)
    save_results(r, 'serve', render(r), a.write, START, END)
    return 0

if __name__ == '__main__':
    sys.exit(main())
