"""Dashboard benchmark: seconds from opening each admin dashboard to its root widget being visible, with 100,000 logged
requests and the demo app in a fresh CHATBOT_HOME, in headless Chromium; the analytics queries on those logs; and a
training run of the demo app through the runner (queued -> succeeded, papermill notebook, report, registry push).

    .venv/bin/python bench/dashboards.py [--records 100000] [--repeats 3] [--only analytics] [--no-training] [--write BENCHMARKS.md]

Prints a markdown table, the machine and the command; writes bench/out/dashboards.json and, with --write, the
dashboards section of BENCHMARKS.md.
"""
import argparse, json, os, shlex, statistics, subprocess, sys, tempfile, time, urllib.error, urllib.request
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import free_port, log, machine, write_section  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DASHBOARDS = ('studio', 'training', 'review', 'analytics')
START, END = '<!-- dashboards -->', '<!-- /dashboards -->'
CHROMIUM = '/usr/bin/chromium'
CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
                 '--disable-component-update', '--disable-sync']

def seed_home(home: Path, n: int) -> dict:
    "A CHATBOT_HOME with the demo app in the app store and `n` synthetic log records (2 apps, 30 days); timings of each part."
    from chatbot.admin.analytics import synthetic_records
    from chatbot.demo import demo_app
    from chatbot.backends.logs import open_log_store
    from chatbot.admin.store import open_store
    home.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    store = open_store(f"sqlite:///{home/'apps.db'}")
    store.create_app(demo_app(), actor='bench')
    store.close()
    logs = open_log_store(f"sqlite:///{home/'logs.db'}")
    for i in range(0, n, 20_000):
        logs.append(synthetic_records(min(20_000, n - i), seed=i, apps=('demo', 'shop')))
    logs.close()
    return dict(seed_s=time.perf_counter() - t)

def time_queries(home: Path, repeats: int) -> dict:
    "Seconds for `chatbot.admin.analytics.overview` (all records, and one app over the last week) and for drawing its charts."
    from datetime import timedelta
    from chatbot.admin import analytics as a
    from chatbot.backends.logs import open_log_store
    logs, out = open_log_store(f"sqlite:///{home/'logs.db'}"), {}
    for name, f in [('overview, all records', a.Filters()), ('overview, one app, last week', a.Filters(app='demo', since=timedelta(days=7))),
                    ('overview, gateway channel', a.Filters(channel='kakao'))]:
        ts = []
        for _ in range(repeats):
            t = time.perf_counter(); ov = a.overview(logs, f); ts.append(time.perf_counter() - t)
        out[name] = ts
    a.timeline_chart(ov)   # matplotlib import and font lookup, once per process
    ts = []
    for _ in range(repeats):
        t = time.perf_counter()
        for chart in (a.timeline_chart, a.intents_chart, a.entities_chart, a.latency_chart, a.errors_chart): chart(ov)
        a.latency_chart(ov, 'step')
        ts.append(time.perf_counter() - t)
    out['six charts (warm)'] = ts
    logs.close()
    return out

def start_server(home: Path, port: int, log_path: Path) -> subprocess.Popen:
    "`chatbot dashboard` on `port` with CHATBOT_HOME=home, once it answers."
    env = {**os.environ, 'CHATBOT_HOME': str(home), 'TF_CPP_MIN_LOG_LEVEL': '2'}
    proc = subprocess.Popen([sys.executable, '-m', 'chatbot.cli', 'dashboard', '--port', str(port)], env=env, cwd=ROOT,
                            stdout=open(log_path, 'wb'), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        try: urllib.request.urlopen(f'http://127.0.0.1:{port}/', timeout=2); return proc
        except urllib.error.HTTPError: return proc
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f'chatbot dashboard did not start: {log_path.read_text(errors="replace")[-2000:]}')
            time.sleep(0.2)

def time_training_run(home: Path) -> dict:
    "Queue a run of the demo app and execute it with `chatbot runner --once`: wall seconds, the run's own timings, metrics."
    from chatbot.admin.runs import RunStore
    runs = RunStore(f"sqlite:///{home/'runs.db'}")
    rid = runs.submit('demo', 'demo')
    t = time.perf_counter()
    subprocess.run([sys.executable, '-m', 'chatbot.cli', 'runner', '--once'], check=True, cwd=ROOT, capture_output=True,
                   env={**os.environ, 'CHATBOT_HOME': str(home), 'TF_CPP_MIN_LOG_LEVEL': '2'})
    wall, r = time.perf_counter() - t, runs.get(rid)
    epochs = sum(1 for l in (home/'runs'/rid/'run.log').read_text(errors='replace').splitlines() if '"epoch":' in l)
    return dict(state=r.state, wall_s=wall, run_s=r.finished_at - r.started_at, epochs=epochs, version=r.version,
                published_to=r.published_to, intent_accuracy=r.metrics.get('intent_accuracy'), entity_f1=(r.metrics.get('entity') or {}).get('f1'),
                data=r.metrics.get('data'), error=r.error)

# Dashboards that fill in their data after the page is interactive, and what they show once it is all there.
LOADED = {'analytics': '.analytics-status:has-text("Updated")'}

def time_dashboard(browser, base: str, name: str, timeout_s: float = 60) -> tuple[float, float | None]:
    """Seconds from navigating to dashboard `name` until `.dashboard-NAME` is visible, and (for those in `LOADED`) until its
    data is all shown; a fresh browser context each time."""
    ctx = browser.new_context(viewport={'width': 1280, 'height': 900})
    try:
        page = ctx.new_page()
        t = time.perf_counter()
        page.goto(f'{base}/voila/render/{name}.ipynb', wait_until='commit')
        page.locator(f'.dashboard-{name}').first.wait_for(state='visible', timeout=timeout_s * 1000)
        interactive = time.perf_counter() - t
        if name not in LOADED: return interactive, None
        page.locator(LOADED[name]).first.wait_for(state='visible', timeout=timeout_s * 1000)
        return interactive, time.perf_counter() - t
    finally: ctx.close()

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--records', type=int, default=100_000)
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--only', nargs='*', choices=DASHBOARDS, help='dashboards to open (default: every one present in dashboards/)')
    p.add_argument('--no-training', action='store_true', help='skip the training run of the demo app')
    p.add_argument('--write', help='markdown file to put the dashboards section into (e.g. BENCHMARKS.md)')
    a = p.parse_args()
    names = [n for n in (a.only or DASHBOARDS) if (ROOT/'dashboards'/f'{n}.ipynb').exists()]
    skipped = [n for n in (a.only or DASHBOARDS) if n not in names]
    from playwright.sync_api import sync_playwright
    with tempfile.TemporaryDirectory(prefix='chatbot-bench-dash-') as tmp:
        home = Path(tmp)/'home'
        log(f'seeding {a.records:,} log records in {home} ...')
        r = dict(records=a.records, repeats=a.repeats, **seed_home(home, a.records))
        r['queries'] = time_queries(home, a.repeats)
        port = free_port()
        proc = start_server(home, port, Path(tmp)/'dashboard.log')
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    r['dashboards'] = {}
                    for name in names:
                        log(f'opening {name} ...')
                        try:
                            time_dashboard(browser, f'http://127.0.0.1:{port}', name)   # warm-up: Voila's first render of a notebook
                            runs = [time_dashboard(browser, f'http://127.0.0.1:{port}', name) for _ in range(a.repeats)]
                            r['dashboards'][name] = [i for i, _ in runs]
                            if runs[0][1] is not None: r.setdefault('loaded', {})[name] = [d for _, d in runs]
                        except Exception as e:   # one broken dashboard must not hide the others' figures
                            log(f'{name} failed: {type(e).__name__}: {str(e)[:300]}')
                            r.setdefault('failed', {})[name] = f'{type(e).__name__}: {str(e)[:300]}'
                finally: browser.close()
        finally:
            proc.terminate()
            try: proc.wait(timeout=10)
            except subprocess.TimeoutExpired: proc.kill(); proc.wait()
        if not a.no_training:
            log('training the demo app through the runner ...')
            r['training'] = time_training_run(home)
    r.update(date=time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()), machine=machine(), command=' '.join(['python', 'bench/dashboards.py', *map(shlex.quote, sys.argv[1:])]), skipped=skipped)
    out = ROOT/'bench'/'out'/'dashboards.json'
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(r, indent=1))
    print(report(r))
    if a.write: write_section(Path(a.write), f'{START}\n## Admin dashboards and training runs\n\n{report(r)}\n{END}', START, END)

def report(r: dict) -> str:
    "The results as markdown."
    lines = [f"Time to interactive (navigation to root widget visible), {r['records']:,} logged requests, {r['repeats']} runs after one warm-up:", '',
             '| dashboard | median s | max s |', '|---|---:|---:|']
    lines += [f'| {n} | {statistics.median(ts):.2f} | {max(ts):.2f} |' for n, ts in r.get('dashboards', {}).items()]
    lines += [f'| {n} (all data shown) | {statistics.median(ts):.2f} | {max(ts):.2f} |' for n, ts in r.get('loaded', {}).items()]
    lines += [f'| {n} | failed | {why[:80]} |' for n, why in r.get('failed', {}).items()]
    if r.get('skipped'): lines += ['', f"Not present (skipped): {', '.join(r['skipped'])}."]
    lines += ['', f"Analytics queries on the same logs ({r['repeats']} runs):", '', '| query | median ms | max ms |', '|---|---:|---:|']
    lines += [f'| {n} | {statistics.median(ts) * 1000:.0f} | {max(ts) * 1000:.0f} |' for n, ts in r['queries'].items()]
    if t := r.get('training'):
        lines += ['', 'Training run of the demo app (`chatbot runner --once`: papermill notebook, report, registry push, publish):', '',
                  '| state | wall s | run s | epochs | intent accuracy | entity F1 | evaluated on |', '|---|---:|---:|---:|---:|---:|---|',
                  f"| {t['state']} | {t['wall_s']:.1f} | {t['run_s']:.1f} | {t['epochs']} | {(t['intent_accuracy'] or 0):.1%} | "
                  f"{(t['entity_f1'] or 0):.1%} | {t['data']} |"]
    worst = max((max(ts) for ts in r.get('dashboards', {}).values()), default=None)
    if worst is not None or r.get('training'):
        lines += ['', 'Targets (issue 5):']
        if worst is not None: lines.append(f"- every dashboard interactive within 3 s with {r['records']:,} logged requests: "
                                           f"{'met' if worst < 3 and not r.get('failed') else 'NOT met'} (slowest run {worst:.2f} s)")
        if t := r.get('training'): lines.append(f"- a training run of the demo app under 2 minutes: "
                                                f"{'met' if t['state'] == 'succeeded' and t['wall_s'] < 120 else 'NOT met'} ({t['wall_s']:.0f} s)")
    lines += ['', f"Run {r.get('date', '')} on {r['machine']}. Command: `{r['command']}`."]
    return '\n'.join(lines)

if __name__ == '__main__': main()
