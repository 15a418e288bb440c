"""Our prebuilt recognizers against Microsoft's Recognizers-Text, the library LUIS's prebuilt entities came from.

For every English text of the benchmark sets (their test splits, `--limit` lines each) and a hand-written list of
tricky phrases per type, both find their spans; Recognizers-Text is the reference. Per type it reports how many
spans each finds, how many of ours have exactly the reference's span (precision) and how many reference spans we
find (recall), and, of the spans both find, how often the LUIS v3 value a client reads (`datetimeV2`
`type`/`timex`/`resolution`, `number`+`units`, ...) is the same. Also the cost of each side per call.

    python bench/prebuilt.py [--limit 700] [--write BENCHMARKS.md]

Needs `recognizers-text-suite` (all of Recognizers-Text, for the comparison; the product uses only part of it).
"""
import argparse, json, resource, statistics, sys, time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from chatbot.nlu.app import Entity, PREBUILT_TYPES  # noqa: E402
from chatbot.nlu.recognizers import Recognizers  # noqa: E402
from chatbot.nlu.predict import EntityResult  # noqa: E402
from chatbot.service.responses import luis_v3_value  # noqa: E402

NOW = datetime(2026, 3, 5, 10, 0)
DATA = ROOT.parent/'shared'/'datasets'
START, END = '<!-- prebuilt:start -->', '<!-- prebuilt:end -->'

# Phrases a chatbot sees, per type, chosen to probe the edges (not drawn from LUIS's own test files).
TRICKY = {
    'number': ['I need 3 tickets', 'two hundred and five people', 'a dozen eggs', '1,200.50 in total',
               'twenty-one guests', 'one or two', '3.5 stars', 'minus 5', 'half of it', 'seven and a half',
               'room 101', 'the year 1999', 'call me at five', '10k steps', '0.75 of a cup'],
    'ordinal': ['the first one', 'the 3rd floor', 'twenty-first century', 'the second to last',
                'my 22nd birthday', 'next one', 'the last item', '1st and 2nd', 'the hundredth time'],
    'datetime': ['tomorrow at 3pm', 'next monday', 'this weekend', 'in 3 days', 'march 3', '3/4/2026',
                 'at 5:30 pm', 'yesterday', 'next week', 'from 2 to 4 pm', 'for 2 hours', 'tonight',
                 'in the morning', 'last year', 'every tuesday', 'the day after tomorrow', 'noon',
                 'by the end of the month', 'on friday', '2026-03-03', 'in 99999999 days', '3000 years ago'],
    'money': ['$20', '20 dollars', '15.50 USD', '€10', 'five bucks', 'it costs 3 euros', '£7.99', '100 yen',
              '20 cents', '$1.5 million', 'ten dollars and fifty cents'],
    'percentage': ['20%', '20 percent', 'fifty percent off', '3.5 %', 'a hundred per cent'],
    'email': ['mail a@b.com', 'Kim.J+x@Example.CO.kr', 'x@y', 'write to first.last@sub.domain.org now'],
    'phone': ['call 555-123-4567', '+1 (800) 642-7676', '010-1234-5678', '(425) 555-0100', 'extension 12'],
    'url': ['see http://x.com', 'www.bing.com', 'go to example.com now', 'https://a.b/c?d=e', 'end.of it'],
    'age': ['I am 25 years old', 'a 3 month old baby', 'she is ninety', 'my 5-year-old son', 'aged 40',
            'twenty years of age', '6 weeks old'],
    'dimension': ['a 5 km run', '10 1/2 miles', '3 feet 2 inches', '2 liters of water', '500 mb left',
                  '6 ft tall', '100 square meters', '2 kg of apples', 'at 60 mph', '3 cups of flour'],
    'temperature': ['72 degrees', '30 °C', 'set it to 68 fahrenheit', 'minus 5 celsius', '-10 degrees',
                    'raise by 2 degrees', '100 kelvin', '21c'],
}

def rt_models():
    "Recognizers-Text's English models, by our type name."
    import emoji
    if not hasattr(emoji, 'UNICODE_EMOJI'): emoji.UNICODE_EMOJI = emoji.EMOJI_DATA   # 1.0.2a2 wants emoji<2
    from recognizers_text import Culture
    from recognizers_number import NumberRecognizer
    from recognizers_number_with_unit import NumberWithUnitRecognizer
    from recognizers_date_time import DateTimeRecognizer
    from recognizers_sequence import SequenceRecognizer
    E = Culture.English
    nr, ur, dr, sr = (NumberRecognizer(E), NumberWithUnitRecognizer(E), DateTimeRecognizer(E),
                      SequenceRecognizer(E))
    return dict(number=nr.get_number_model(), ordinal=nr.get_ordinal_model(),
                percentage=nr.get_percentage_model(), datetime=dr.get_datetime_model(),
                money=ur.get_currency_model(), dimension=ur.get_dimension_model(),
                temperature=ur.get_temperature_model(), age=ur.get_age_model(), email=sr.get_email_model(),
                phone=sr.get_phone_number_model(), url=sr.get_url_model())

def _n(s):
    "A number string as LUIS v3 shows it (int when integral)."
    try: v = float(s)
    except (TypeError, ValueError): return s
    return int(v) if v.is_integer() and abs(v) < 1e15 else v

def rt_v3(typ, r):
    "The LUIS v3 value a Recognizers-Text result became (LUIS's documented shapes)."
    res = r.resolution or {}
    if typ == 'datetime':
        vals = res.get('values') or []
        return dict(type=vals[0].get('type') if vals else None,
                    values=[dict(timex=v.get('timex'),
                                 resolution=[{k: x for k, x in v.items() if k not in ('timex', 'type')}])
                            for v in vals])
    if typ in ('money', 'age', 'dimension', 'temperature'):
        return dict(number=_n(res.get('value')), units=res.get('unit'))
    if typ == 'ordinal': return dict(offset=_n(res.get('value')), relativeTo='start')
    if typ == 'percentage': return _n(str(res.get('value', '')).rstrip('%').strip())
    if typ == 'number': return _n(res.get('value'))
    return res.get('value', r.text)

def left_out(typ, v, text) -> bool:
    "Is this a Recognizers-Text answer that is no quantity (a unit alone: `m`, `samoa`) or `6 pm` as picometers?"
    if typ not in ('money', 'age', 'dimension', 'temperature'): return False
    return v['number'] is None or (v['units'] == 'Picometer' and text.lower().endswith('pm'))

def rt_spans(models, typ, text):
    "`({(start, end): v3 value}, number left out)` from Recognizers-Text (its `end` is inclusive)."
    m = models[typ]
    found = m.parse(text, NOW) if typ == 'datetime' else m.parse(text)
    out = {(r.start, r.end + 1): rt_v3(typ, r) for r in found}
    kept = {sp: v for sp, v in out.items() if not left_out(typ, v, text[sp[0]:sp[1]])}
    return kept, len(out) - len(kept)

def our_spans(rec, text):
    "`{(start, end): v3 value}` from our recognizer."
    return {(m.start, m.end): luis_v3_value(EntityResult(m.entity, m.start, m.end, m.text, m.kind, m.score,
                                                         m.role, m.resolution, m.subtype))
            for m in rec(text, now=NOW)}

def texts(limit):
    "The English test texts of the benchmark sets, `limit` of each, plus the tricky phrases."
    out = []
    for name in ('snips', 'atis', 'clinc150'):
        f = DATA/name/'test.jsonl'
        if f.exists(): out += [json.loads(l)['text'] for l in f.read_text().splitlines()[:limit]]
    return out + [t for ts in TRICKY.values() for t in ts]

def pct(a, b): return f'{100 * a / b:.0f}%' if b else '—'

def run(limit):
    t0, r0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    models = rt_models()
    for m in models.values(): m.parse('warm up 3 km at 72 degrees tomorrow for $5')
    rt_load, rt_rss = time.perf_counter() - t0, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - r0) / 1024
    ours = {t: Recognizers([Entity(t, 'prebuilt', prebuilt=t)], 'en-us') for t in models if t in PREBUILT_TYPES}
    xs, rows = texts(limit), {}
    for typ in models:
        c = dict(rt=0, left=0, ours=0, span=0, value=0, timex=0, t_rt=[], t_ours=[], misses=[], extra=[], wrong=[])
        for x in xs:
            a = time.perf_counter(); ref, left = rt_spans(models, typ, x); c['t_rt'].append(time.perf_counter() - a)
            c['left'] += left
            got = {}
            if typ in ours:
                a = time.perf_counter(); got = our_spans(ours[typ], x); c['t_ours'].append(time.perf_counter() - a)
            c['rt'] += len(ref); c['ours'] += len(got)
            for sp, v in got.items():
                if sp not in ref:
                    c['extra'].append(x[sp[0]:sp[1]]); continue
                c['span'] += 1
                if v == ref[sp]: c['value'] += 1
                else: c['wrong'].append((x[sp[0]:sp[1]], v, ref[sp]))
                if typ == 'datetime' and [w.get('timex') for w in v.get('values', [])] == \
                        [w.get('timex') for w in ref[sp].get('values', [])]: c['timex'] += 1
            c['misses'] += [x[s:e] for s, e in ref if (s, e) not in got]
        rows[typ] = c
    return dict(texts=len(xs), rt_load_s=rt_load, rt_rss_mb=rt_rss, rows=rows, product=product_cost(xs))

def p50(ts): return statistics.median(ts) * 1e3 if ts else None

COST = """
import time
rss = lambda: int(open('/proc/self/statm').read().split()[1]) * 4096 / 2**20
from chatbot.nlu.app import Entity, PREBUILT_TYPES
from chatbot.nlu.recognizers import Recognizers
r0, t0 = rss(), time.perf_counter()
r = Recognizers([Entity(t, 'prebuilt', prebuilt=t) for t in ('age', 'dimension', 'temperature')])
r('warm up 3 km')
print(time.perf_counter() - t0, rss() - r0, rss())
"""

def product_cost(xs) -> dict:
    "Load time and RSS of our Recognizers-Text models in a fresh process; p50/p95 of a call with every type."
    import subprocess
    out = subprocess.run([sys.executable, '-c', COST], capture_output=True, text=True, check=True,
                         cwd=ROOT).stdout.split()
    rec = Recognizers([Entity(t, 'prebuilt', prebuilt=t) for t in PREBUILT_TYPES], 'en-us')
    ts = []
    for x in xs:
        a = time.perf_counter(); rec(x, now=NOW); ts.append(time.perf_counter() - a)
    ts.sort()
    return dict(load_s=float(out[0]), rss_mb=float(out[1]), rss_total_mb=float(out[2]), p50_ms=p50(ts),
                p95_ms=ts[int(len(ts) * .95)] * 1e3)

def table(r) -> str:
    lines = ['| type | RT spans (+ left out) | our spans | same span: precision / recall '
             '| same LUIS v3 value (of same spans) | p50 ms RT / ours |', '|---|---|---|---|---|---|']
    for typ, c in r['rows'].items():
        val = pct(c['value'], c['span'])
        if typ == 'datetime': val += f" (timex {pct(c['timex'], c['span'])})"
        ours = f"{p50(c['t_ours']):.3f}" if c['t_ours'] else '—'
        left = f" (+{c['left']})" if c['left'] else ''
        pr = f"{pct(c['span'], c['ours'])} / {pct(c['span'], c['rt'])}"
        lines.append(f"| {typ} | {c['rt']}{left} | {c['ours']} | {pr} | {val} | {p50(c['t_rt']):.2f} / {ours} |")
    return '\n'.join(lines)

def product_line(c) -> str:
    return (f"In the product (`Recognizers` with all {len(PREBUILT_TYPES)} prebuilt types, the same texts): "
            f"p50 {c['p50_ms']:.2f} ms, p95 {c['p95_ms']:.2f} ms a call; its Recognizers-Text models (age, "
            f"dimension, temperature) load in {c['load_s']:.2f} s and add {c['rss_mb']:.0f} MB RSS in a fresh "
            f"process ({c['rss_total_mb']:.0f} MB in all).")

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--limit', type=int, default=700, help='test lines per data set')
    ap.add_argument('--write', help='put the section into this markdown file')
    ap.add_argument('--show', type=int, default=6, help='examples of misses/extras/wrong values per type')
    a = ap.parse_args()
    r = run(a.limit)
    import recognizers_text
    ver = getattr(recognizers_text, '__version__', None) or '1.0.2a2'
    print(table(r))
    print(f"RT load {r['rt_load_s']:.2f} s, RSS +{r['rt_rss_mb']:.0f} MB, {r['texts']} texts")
    print(f"product: {r['product']}")
    for typ, c in r['rows'].items():
        print(f"\n## {typ}\n misses {c['misses'][:a.show]}\n extra {c['extra'][:a.show]}\n wrong {c['wrong'][:a.show]}")
    out = ROOT/'bench'/'out'
    out.mkdir(exist_ok=True)
    (out/'prebuilt.json').write_text(json.dumps(r, indent=1, default=str))
    if a.write:
        sys.path.insert(0, str(ROOT/'bench'))
        from common import write_section, machine
        sec = (f"{START}\n## Prebuilt entities against Recognizers-Text\n\n"
               f"Generated by `bench/prebuilt.py --limit {a.limit}` on {datetime.utcnow():%Y-%m-%d %H:%M} UTC "
               f"({machine()}; shared with other jobs, so times are rough). Reference: Recognizers-Text {ver} "
               f"(`recognizers-text-suite`, MIT), English, all eleven models built once (load {r['rt_load_s']:.1f} s, "
               f"RSS +{r['rt_rss_mb']:.0f} MB). Texts: {r['texts']} (the first {a.limit} test lines of snips, "
               f"atis and clinc150, plus the tricky phrases in the script). Ours = `Recognizers` with one prebuilt "
               f"entity of that type; values compared as `luis_v3_value` renders ours against LUIS's documented "
               f"v3 shape of Recognizers-Text's resolution. Left out of the reference: its answers that are no "
               f"quantity (a unit alone: `m`, `samoa`) and `6 pm` read as picometers, which ours drop on "
               f"purpose.\n\n{table(r)}\n\n{product_line(r['product'])}\n{END}")
        write_section(Path(a.write), sec, START, END)

if __name__ == '__main__':
    main()
